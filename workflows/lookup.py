"""Which workflow a submission follows: the snapshot its form version took when it was
published, so editing a workflow file never strands a submission in a removed state."""

from __future__ import annotations

from forms.published import spec_for
from models import FormVersion, Submission
from workflows.engine import Workflow, from_snapshot, get_workflow


def workflow_of(submission: Submission) -> Workflow:
    return workflow_of_version(submission.form_version)


def workflow_of_version(version: FormVersion) -> Workflow:
    """The snapshot taken when the version was published (the file only for a version
    published before snapshots, not yet filled)."""
    if version.workflow_snapshot is None:
        return get_workflow(spec_for(version).workflow)
    return from_snapshot(
        version.workflow_snapshot,
        (version.id, version.checksum, version.published_at),
        f"form version {version.id}: workflow snapshot",
    )
