"""Email, the mechanism: texts (mail.texts), the outbox written inside transactions
(mail.outbox), links on the public address (mail.links), attachments made at delivery
(mail.attachments) and delivery with retries (mail.delivery). Who gets which message when
something happens is a use case: services.notifications."""
