"""Email: texts (mail.texts), the outbox written inside transactions (mail.outbox), the
messages each event causes (mail.events), and delivery with retries (mail.sender)."""
