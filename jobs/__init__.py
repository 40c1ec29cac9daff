"""Work done off the request path. The embedded runner (jobs.embedded) is the default:
a background thread in each serving process, woken after commits. Production runs the
same duties as Celery tasks (see the deployment guide)."""


def register_duties() -> None:
    """Import the modules that add duties, in the order they must run: documents first
    (copies, then decision letters), so that a receipt finds its PDF and DOCX and a decision
    email its letter when email is delivered."""
    from documents import attachments, letters, store  # noqa: F401
    from mail import delivery  # noqa: F401
