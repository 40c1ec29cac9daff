"""SQLAlchemy models, one module per aggregate. Models import nothing above them."""

from models.audit import AuditEntry
from models.forms import Form, FormVersion
from models.submissions import Answer, Attachment, Draft, ReferenceCounter, Submission

__all__ = [
    "Answer",
    "Attachment",
    "AuditEntry",
    "Draft",
    "Form",
    "FormVersion",
    "ReferenceCounter",
    "Submission",
]
