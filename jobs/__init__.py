"""Work done off the request path. The embedded runner (jobs.embedded) is the default:
background threads in each serving process (one for documents, one for mail), woken after
commits. Production runs the same duties as Celery tasks (see the deployment guide)."""


def register_duties() -> None:
    """Import the modules that add duties. Within the documents lane copies come before
    decision letters; mail runs on its own lane, and a message whose documents are not made
    yet waits for them (made documents release it)."""
    from documents import attachments, letters, store  # noqa: F401
    from mail import delivery  # noqa: F401
