"""Two organisers on one call: a builder page learns that the draft moved on since it was
made (web/builder/presence.py, asked by static/js/builder.js), in the person's language;
people who may not manage the call learn nothing."""

from __future__ import annotations

import pytest

from tests.conftest import demo_definition
from tests.test_dashboard_list import signed_in, staff


@pytest.fixture
def msas(app, create_form):
    create_form(demo_definition("msas"))


def test_the_draft_revision_says_who_saved_last_in_the_readers_language(app, msas):
    from extensions import db
    from models import Form, User
    from services import call_drafts

    editor = signed_in(app, staff(app, "ewa@example.org", "admin"))
    staff(app, "jan@example.org", "admin")
    with app.app_context():
        form = db.session.query(Form).filter_by(slug="msas").one()
        seen = call_drafts.draft_of(form).revision
        db.session.commit()
    first = editor.client.get("/dashboard/build/msas/draft-revision").get_json()
    assert first["revision"] == seen
    with app.app_context():
        form = db.session.query(Form).filter_by(slug="msas").one()
        jan = db.session.query(User).filter_by(email="jan@example.org").one()
        document = {**call_drafts.draft_of(form).document, "reference_prefix": "MSASX"}
        call_drafts.save_draft(form, document, revision=seen, user=jan, summary="prefix")
    editor.client.get("/dashboard/?lang=de")  # the language switcher
    response = editor.client.get("/dashboard/build/msas/draft-revision")
    state = response.get_json()
    assert state["revision"] == seen + 1
    assert state["warning"].startswith("jan@example.org hat diese Ausschreibung um ")
    assert response.headers["Cache-Control"] == "no-store"


def test_someone_who_may_not_manage_the_call_gets_404(app, msas):
    reviewer = signed_in(app, staff(app, "rita@example.org", "reviewer", "msas"))
    assert reviewer.client.get("/dashboard/build/msas/draft-revision").status_code == 404
    assert reviewer.client.get("/dashboard/build/nothing/draft-revision").status_code == 404
    anonymous = app.test_client().get("/dashboard/build/msas/draft-revision")
    assert anonymous.status_code == 302  # to the sign-in page
