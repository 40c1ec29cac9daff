"""Which workflow a submission follows: the one its form version names."""

from __future__ import annotations

from forms.published import spec_for
from models import Submission
from workflows.engine import Workflow, get_workflow


def workflow_of(submission: Submission) -> Workflow:
    return get_workflow(spec_for(submission.form_version).workflow)
