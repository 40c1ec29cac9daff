"""SQLAlchemy models, one module per aggregate. Models import nothing above them."""

from models.assignment import ReviewDeadline, SubmissionAssignment
from models.audit import AuditEntry
from models.documents import Document
from models.duties import DutyFailure
from models.forms import Form, FormDraft, FormVersion
from models.outbox import EmailTemplate, OutboxMessage
from models.review import ConflictOfInterest, InternalComment, Score, SubmissionTag, Tag
from models.staff import AccountLink, InstallationSetting, RecoveryCode
from models.submissions import (
    Answer,
    Attachment,
    Draft,
    ReferenceCounter,
    Submission,
    SubmissionRevision,
)
from models.users import ROLES, ReviewerAssignment, User

__all__ = [
    "ROLES",
    "AccountLink",
    "InstallationSetting",
    "RecoveryCode",
    "Answer",
    "ConflictOfInterest",
    "Document",
    "DutyFailure",
    "EmailTemplate",
    "OutboxMessage",
    "InternalComment",
    "ReviewerAssignment",
    "ReviewDeadline",
    "SubmissionAssignment",
    "Score",
    "SubmissionRevision",
    "SubmissionTag",
    "Tag",
    "User",
    "Attachment",
    "AuditEntry",
    "Draft",
    "Form",
    "FormDraft",
    "FormVersion",
    "ReferenceCounter",
    "Submission",
]
