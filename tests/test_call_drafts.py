"""services/call_drafts.py on a real database (SQLite, or PostgreSQL in its pass): two
editors never overwrite each other unseen, also at the same instant on two connections;
publishing checks, snapshots and audits; a renamed question keeps old answers attached;
preview versions and new calls; the migration that brings drafts, up and down with data."""

from __future__ import annotations

import copy
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from tests.definitions import base
from tests.test_search import empty_database  # noqa: F401 (a fixture)
from tests.test_workflows import send

PAGES = [
    {
        "title": "You",
        "fields": [
            {"name": "name", "type": "text", "label": {"en": "Name", "pl": "Imię"}},
            {"name": "town", "type": "text", "label": {"en": "Town", "pl": "Miasto"}},
        ],
    }
]


def document(slug: str = "call", **extra) -> dict:
    return base(slug, copy.deepcopy(PAGES), languages=["en", "pl"], **extra)


def make_user(email: str = "editor@example.org", role: str = "admin") -> int:
    from extensions import db
    from models import User

    person = User(email=email, name=email.split("@")[0], password_hash="-", role=role)  # noqa: S106
    db.session.add(person)
    db.session.commit()
    return person.id


def publish_file(doc: dict):
    """As `flask forms load` publishes a file."""
    from extensions import db
    from services import call_drafts

    version = call_drafts.publish_document(copy.deepcopy(doc), origin="file")
    db.session.commit()
    return version


def form_of(slug: str):
    from extensions import db
    from models import Form

    return db.session.scalar(select(Form).where(Form.slug == slug))


def fresh(slug: str):
    """The call as another request would see it (nothing cached in this session)."""
    from extensions import db

    db.session.expire_all()
    return form_of(slug)


@pytest.fixture
def call(app_context):
    publish_file(document())
    return "call"


def titled(form, text: str) -> dict:
    from services.call_drafts import draft_of

    return {**copy.deepcopy(draft_of(form).document), "title": {"en": text, "pl": text}}


# --- two editors ----------------------------------------------------------------------------


def test_the_second_of_two_saves_from_one_revision_is_refused_and_the_first_kept(call):
    from extensions import db
    from models import AuditEntry, User
    from services.call_drafts import DraftConflict, draft_of, save_draft

    ada, bea = (db.session.get(User, make_user(e)) for e in ("ada@example.org", "bea@example.org"))
    form = form_of(call)
    seen = draft_of(form).revision
    first, second = titled(form, "Ada's title"), titled(form, "Bea's title")

    saved = save_draft(form, first, revision=seen, user=ada, summary="title")
    assert (saved.revision, saved.updated_by_id, saved.edited_in_browser) == (
        seen + 1,
        ada.id,
        True,
    )
    with pytest.raises(DraftConflict) as refused:
        save_draft(form, second, revision=seen, user=bea, summary="title")
    assert refused.value.seen_revision == seen
    assert refused.value.draft.revision == seen + 1
    assert refused.value.draft.updated_by_id == ada.id  # who to name in the message

    draft = draft_of(fresh(call))
    assert draft.document == first and draft.revision == seen + 1
    saves = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "call.draft_saved")
    ).all()
    assert [(e.actor_id, e.data["revision"]) for e in saves] == [(ada.id, seen + 1)]
    # Bea, having seen Ada's revision, saves on top of it.
    save_draft(fresh(call), second, revision=seen + 1, user=bea, summary="title")
    assert draft_of(fresh(call)).document == second


def _at_once(app, count: int, work):
    """Run work(index) in `count` threads, each with its own app context (its own session
    and connection), released together."""
    barrier = threading.Barrier(count)

    def run(index: int):
        with app.app_context():
            barrier.wait(timeout=30)
            try:
                return work(index)
            except Exception as exc:  # noqa: BLE001 (the outcome is the result)
                return exc

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


@pytest.mark.parametrize("round_", range(5))
def test_two_saves_at_the_same_instant_on_two_connections_one_wins(app, call, round_):
    from extensions import db
    from services.call_drafts import DraftConflict, draft_of, save_draft

    form = form_of(call)
    seen = draft_of(form).revision
    db.session.commit()
    documents = [titled(form, f"Editor {i}") for i in range(2)]

    def save(index: int):
        mine = form_of(call)
        return save_draft(mine, documents[index], revision=seen, user=None, summary="s").revision

    outcomes = _at_once(app, 2, save)
    won = [i for i, o in enumerate(outcomes) if o == seen + 1]
    lost = [o for o in outcomes if isinstance(o, DraftConflict)]
    assert len(won) == 1 and len(lost) == 1, outcomes
    assert lost[0].draft.revision == seen + 1
    draft = draft_of(fresh(call))
    assert draft.revision == seen + 1
    assert draft.document == documents[won[0]]  # the winner's, whole


def test_publishing_from_a_stale_revision_is_refused(call):
    from models import FormVersion
    from services.call_drafts import DraftConflict, draft_of, publish_draft, save_draft

    form = form_of(call)
    seen = draft_of(form).revision
    save_draft(form, titled(form, "Newer"), revision=seen, user=None, summary="s")
    with pytest.raises(DraftConflict):
        publish_draft(fresh(call), revision=seen, user=None)
    from extensions import db

    assert db.session.scalar(select(func.count(FormVersion.id))) == 1
    assert draft_of(fresh(call)).edited_in_browser


@pytest.mark.parametrize("round_", range(3))
def test_a_save_and_a_publication_at_once_never_lose_the_mark_of_unpublished_edits(
    app, call, round_
):
    """Publication of revision n and a save from n together: either the save comes first
    (the publication is refused) or after it (the draft holds the save, marked as not
    published), never the save lost under the publication's flags."""
    from extensions import db
    from services.call_drafts import DraftConflict, draft_of, publish_draft, save_draft

    form = form_of(call)
    seen = draft_of(form).revision
    save_draft(form, titled(form, "To publish"), revision=seen, user=None, summary="s")
    seen += 1
    db.session.commit()
    later = titled(form_of(call), "Saved meanwhile")

    def work(index: int):
        mine = form_of(call)
        if index == 0:
            return publish_draft(mine, revision=seen, user=None).number
        return save_draft(mine, later, revision=seen, user=None, summary="s").revision

    published, saved = _at_once(app, 2, work)
    assert saved == seen + 1, saved  # a save from the revision it saw always lands
    draft = draft_of(fresh(call))
    assert draft.document == later
    assert draft.edited_in_browser, (published, saved)
    if isinstance(published, DraftConflict):
        assert fresh(call).current_version.number == 1
    else:
        assert published == 2, published
        assert draft.published_revision == seen
        version = fresh(call).current_version
        assert version.definition["title"]["en"] == "To publish"


def test_two_publications_of_one_revision_at_once_make_one_version(app, call):
    from extensions import db
    from models import FormVersion
    from services.call_drafts import draft_of, publish_draft, save_draft

    form = form_of(call)
    seen = draft_of(form).revision
    save_draft(form, titled(form, "Once"), revision=seen, user=None, summary="s")
    db.session.commit()

    outcomes = _at_once(
        app, 2, lambda _i: publish_draft(form_of(call), revision=seen + 1, user=None).number
    )
    assert outcomes == [2, 2], outcomes
    db.session.expire_all()
    assert db.session.scalar(select(func.count(FormVersion.id))) == 2


# --- publishing -----------------------------------------------------------------------------


def test_a_draft_with_problems_is_not_published_and_says_where(call):
    from extensions import db
    from forms.problems import Problem
    from models import FormVersion
    from services.call_drafts import NotPublishable, draft_of, publish_draft, save_draft

    form = form_of(call)
    broken = titled(form, "Broken")
    broken["pages"][0]["fields"][1]["name"] = "name"  # a duplicate key
    broken["workflow"] = "no-such-workflow"
    broken["closes_at"] = "not a time"
    draft = save_draft(form, broken, revision=draft_of(form).revision, user=None, summary="s")
    with pytest.raises(NotPublishable) as refused:
        publish_draft(form, revision=draft.revision, user=None)
    problems = refused.value.problems
    assert problems and all(isinstance(p, Problem) for p in problems)
    where = {p.where for p in problems}
    assert "closes_at" in where, where
    assert any(w.startswith("pages[0].fields[1]") for w in where), where
    assert all(p.code and isinstance(p.params, dict) for p in problems)
    assert db.session.scalar(select(func.count(FormVersion.id))) == 1
    assert draft_of(fresh(call)).edited_in_browser


def test_publishing_makes_the_next_version_with_its_snapshot_and_an_audit_entry(call):
    from extensions import db
    from forms.schema import check
    from models import AuditEntry, User
    from services.call_drafts import draft_of, publish_draft, save_draft
    from workflows.engine import get_workflow

    ada = db.session.get(User, make_user())
    form = form_of(call)
    draft = save_draft(
        form, titled(form, "Second"), revision=draft_of(form).revision, user=ada, summary="s"
    )
    version = publish_draft(form, revision=draft.revision, user=ada)
    form = fresh(call)
    assert form.current_version.id == version.id
    assert (version.number, version.origin, version.published_by_id) == (2, "browser", ada.id)
    assert version.workflow_snapshot == get_workflow("application-review").source
    assert version.definition == draft_of(form).document  # the document as written
    assert check(version.definition) == []  # and it re-validates cleanly
    assert [v.number for v in form.versions] == [1, 2]
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "call.published")
    ).all()[-1]
    assert (entry.form_id, entry.actor_id, entry.data["version"]) == (form.id, ada.id, 2)
    draft = draft_of(form)
    assert not draft.edited_in_browser
    assert draft.published_revision == draft.revision
    # Publishing the unchanged draft again: no new version, the current one.
    again = publish_draft(form, revision=draft.revision, user=ada)
    assert again.id == version.id
    assert [v.number for v in fresh(call).versions] == [1, 2]


def test_a_renamed_question_keeps_old_answers_attached_and_their_questions(app):
    """Pages are requested outside the test's app context (a request inside it would share
    its `g`, and with it another client's CSRF token)."""
    from extensions import db
    from forms.published import spec_for
    from models import Answer, FormVersion, Submission
    from services.call_drafts import draft_of, publish_draft, save_draft

    with app.app_context():
        publish_file(document())
    send(app, "call", {"name": "Ada Lovelace", "town": "Łódź"})
    with app.app_context():
        form = form_of("call")
        renamed = copy.deepcopy(draft_of(form).document)
        renamed["pages"][0]["fields"][1]["label"] = {"en": "Home town", "pl": "Miejscowość"}
        renamed["pages"][0]["fields"].append({"name": "age", "type": "number", "label": "Age"})
        draft = save_draft(form, renamed, revision=draft_of(form).revision, user=None, summary="s")
        publish_draft(form, revision=draft.revision, user=None)
    send(app, "call", {"name": "Bea", "town": "Malmö", "age": "30"})

    with app.app_context():
        old, new = db.session.scalars(select(Submission).order_by(Submission.id)).all()
        first, second = (db.session.get(FormVersion, s.form_version_id) for s in (old, new))
        assert (first.number, second.number) == (1, 2)
        answers = dict(
            db.session.execute(
                select(Answer.field, Answer.value).where(Answer.submission_id == old.id)
            ).all()
        )
        assert answers == {"name": "Ada Lovelace", "town": "Łódź"}
        old_fields = [f.name for p in spec_for(first).pages for f in p.fields]
        new_fields = [f.name for p in spec_for(second).pages for f in p.fields]
        assert (old_fields, new_fields) == (["name", "town"], ["name", "town", "age"])
        label = spec_for(first).raw["pages"][0]["fields"][1]["label"]
        assert label == {"en": "Town", "pl": "Miasto"}
        assert spec_for(second).raw["pages"][0]["fields"][1]["label"]["en"] == "Home town"
        ids = old.id, new.id
    # Staff see each submission with its own version's questions, the answer attached.
    from tests.test_review_detail import page, signed_in, staff, text_of

    client = signed_in(app, staff(app, "admin@example.org", "admin"))
    earlier, later = (text_of(page(client, i)) for i in ids)
    assert "Town Łódź" in earlier and "Home town" not in earlier and "Age" not in earlier
    assert "Home town Malmö" in later and "Age 30" in later


def test_republish_with_keeps_a_save_made_from_the_same_revision(call):
    """Closing early (republish_with) changes the draft as a new revision on top of
    whatever is in it, never by writing back an older copy."""
    from services.call_drafts import draft_of, republish_with, save_draft

    form = form_of(call)
    edited = save_draft(
        form,
        titled(form, "Unpublished edit"),
        revision=draft_of(form).revision,
        user=None,
        summary="s",
    ).revision
    from datetime import datetime, timedelta

    closes = (datetime.fromisoformat(document()["opens_at"]) + timedelta(days=2)).isoformat()
    version = republish_with(
        form, user=None, change={"closes_at": closes}, action="call.closed_early", data={}
    )
    assert version.number == 2
    assert version.definition["title"]["en"] == "Test call"  # the version's, not the draft's
    draft = draft_of(fresh(call))
    assert draft.revision == edited + 1
    assert draft.document["title"]["en"] == "Unpublished edit"
    assert draft.document["closes_at"] == closes
    assert draft.edited_in_browser


# --- previews and new calls ---------------------------------------------------------------


def test_preview_versions_are_negative_reused_and_not_published(call):
    from extensions import db
    from models import FormVersion
    from services.call_drafts import NotPublishable, draft_of, preview_version, save_draft

    form = form_of(call)
    first = preview_version(form, None)
    assert (first.number, first.origin) == (-1, "preview")
    assert preview_version(fresh(call), None).id == first.id  # the draft is unchanged
    draft = save_draft(
        form, titled(form, "Changed"), revision=draft_of(form).revision, user=None, summary="s"
    )
    second = preview_version(fresh(call), None)
    assert second.number == -2 and second.definition["title"]["en"] == "Changed"
    form = fresh(call)
    assert [v.number for v in form.versions] == [1]
    assert form.current_version.number == 1
    # A publication after previews is number 2, not 0 or -1.
    from services.call_drafts import publish_draft

    assert publish_draft(form, revision=draft.revision, user=None).number == 2
    # A draft with problems makes no preview.
    broken = {**copy.deepcopy(draft_of(fresh(call)).document), "workflow": "nope"}
    form = fresh(call)
    save_draft(form, broken, revision=draft_of(form).revision, user=None, summary="s")
    with pytest.raises(NotPublishable):
        preview_version(fresh(call), None)
    assert db.session.scalar(select(func.count(FormVersion.id))) == 4


def test_new_calls_blank_copied_and_from_a_demo_and_bad_slugs(app_context):
    from extensions import db
    from models import AuditEntry
    from services.call_drafts import (
        NotPublishable,
        create_call,
        demo_documents,
        draft_of,
        publish_problems,
    )

    blank = create_call(
        slug="new-call", user=None, source="blank", copy_from=None, title="New", language="pl"
    )
    draft = draft_of(blank)
    assert blank.current_version is None and blank.versions == []
    assert draft.document["slug"] == "new-call" and draft.document["title"] == {"pl": "New"}
    assert draft.edited_in_browser and draft.revision == 1
    assert publish_problems(draft.document)  # dates, questions…: problems, not a crash

    publish_file(document("last-year"))
    copied = create_call(
        slug="this-year",
        user=None,
        source="copy",
        copy_from="last-year",
        title="This year",
        language="en",
    )
    theirs = draft_of(form_of("last-year")).document
    mine = draft_of(copied).document
    assert mine["pages"] == theirs["pages"] and mine["slug"] == "this-year"
    assert mine["title"] == {**theirs["title"], "en": "This year"}
    assert publish_problems(mine) == []
    from services.call_drafts import publish_draft

    first = publish_draft(copied, revision=draft_of(copied).revision, user=None)
    assert (first.number, first.origin) == (1, "browser")
    assert fresh("this-year").current_version.id == first.id
    assert not draft_of(fresh("this-year")).edited_in_browser

    demo = create_call(
        slug="my-msas", user=None, source="copy", copy_from="msas", title="Mine", language="en"
    )
    assert draft_of(demo).document["pages"] == demo_documents()["msas"]["pages"]
    created = select(AuditEntry).where(AuditEntry.action == "call.created")
    assert [e.data["source"] for e in db.session.scalars(created)] == [
        "blank",
        "copy",
        "copy",
    ]

    def codes(**kwargs) -> list[str]:
        arguments = {
            "user": None,
            "source": "blank",
            "copy_from": None,
            "title": "T",
            "language": "en",
            **kwargs,
        }
        with pytest.raises(NotPublishable) as refused:
            create_call(**arguments)
        return sorted(p.code for p in refused.value.problems)

    assert codes(slug="Bad Slug!") == ["slug.invalid"]
    assert codes(slug="") == ["slug.invalid"]
    assert codes(slug="new-call") == ["slug.taken"]
    assert codes(slug="NEW-CALL") == ["slug.taken"]  # the same address, lowercased
    assert codes(slug="ok", source="copy", copy_from="nothing") == ["call.unknown_source"]
    assert codes(slug="ok", language="xx") == ["languages.unknown"]
    assert codes(slug="ok", title="  ") == ["text.required"]
    assert db.session.scalar(select(func.count()).select_from(form_of("new-call").__class__)) == 4


# --- the migration ---------------------------------------------------------------------------


def test_the_migration_gives_every_call_a_draft_and_goes_back_keeping_rows(
    app,
    empty_database,  # noqa: F811 (the fixture imported above)
    tmp_path,
):
    import json
    from datetime import UTC, datetime

    from flask_migrate import downgrade, upgrade
    from sqlalchemy import create_engine, text

    from app import create_app

    other = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": empty_database,
            "FORMDESK_AUTO_MIGRATE": False,
            "FORMDESK_UPLOAD_DIR": str(tmp_path),
        }
    )
    before = "a7c3e9d1f024"
    first, second = document("mig"), document("mig", title={"en": "Two", "pl": "Dwa"})
    with other.app_context():
        upgrade(revision=before)
        engine = create_engine(empty_database)
        now = datetime(2027, 1, 5, tzinfo=UTC)
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO forms (id, slug, created_at) VALUES (1, 'mig', :now)"),
                {"now": now},
            )
            connection.execute(
                text("INSERT INTO forms (id, slug, created_at) VALUES (2, 'empty', :now)"),
                {"now": now},
            )
            for number, definition in ((1, first), (2, second)):
                connection.execute(
                    text(
                        "INSERT INTO form_versions (id, form_id, number, checksum, definition,"
                        " opens_at, closes_at, published_at) VALUES (:n, 1, :n, 'x', :d, :now,"
                        " :now, :now)"
                    ),
                    {"n": number, "d": json.dumps(definition), "now": now},
                )
            connection.execute(text("UPDATE forms SET current_version_id = 2 WHERE id = 1"))
            connection.execute(
                text(
                    "INSERT INTO submissions (id, form_id, form_version_id, reference,"
                    " token_hash, state, seats, revision, language, started_at, submitted_at,"
                    " updated_at) VALUES (1, 1, 1, 'TEST-2027-0001', 'h', 'submitted', 1, 1,"
                    " 'en', :now, :now, :now)"
                ),
                {"now": now},
            )
            connection.execute(
                text(
                    "INSERT INTO answers (submission_id, field, position, value)"
                    " VALUES (1, 'name', 0, :v)"
                ),
                {"v": json.dumps("Ada")},
            )
        upgrade()

        def rows(sql: str) -> list:
            with engine.begin() as connection:
                return [tuple(r) for r in connection.execute(text(sql)).all()]

        def as_json(value):
            return json.loads(value) if isinstance(value, str) else value

        drafts = rows(
            "SELECT form_id, document, revision, edited_in_browser, published_revision"
            " FROM form_drafts"
        )
        assert [(f, as_json(d), r, bool(e), p) for f, d, r, e, p in drafts] == [
            (1, second, 1, False, 1)
        ]
        assert rows("SELECT id, origin, published_by_id FROM form_versions ORDER BY id") == [
            (1, "file", None),
            (2, "file", None),
        ]
        assert [(i, bool(t)) for i, t in rows("SELECT id, is_test FROM submissions")] == [
            (1, False)
        ]
        assert rows("SELECT archived_at, preview_token_hash FROM forms WHERE id = 1") == [
            (None, None)
        ]
        if engine.dialect.name == "sqlite":
            _search_still_finds_new_answers(engine, now)

        downgrade(revision=before)
        with engine.begin() as connection:
            assert "origin" not in connection.execute(text("SELECT * FROM form_versions")).keys()
            assert "is_test" not in connection.execute(text("SELECT * FROM submissions")).keys()
        assert rows("SELECT id FROM form_versions ORDER BY id") == [(1,), (2,)]
        assert rows("SELECT id FROM submissions ORDER BY id")[:1] == [(1,)]
        assert rows("SELECT field FROM answers WHERE submission_id = 1") == [("name",)]
        upgrade()
        assert len(rows("SELECT id FROM form_drafts")) == 1
        if engine.dialect.name == "sqlite":
            _search_still_finds_new_answers(engine, now, reference="TEST-2027-0003")
        engine.dispose()


def _search_still_finds_new_answers(engine, now, reference: str = "TEST-2027-0002") -> None:
    """The full-text triggers on `submissions` survived: a submission whose search text is
    set after the upgrade is found through the trigram index."""
    from sqlalchemy import text

    number = int(reference[-4:])
    word = f"zebrafinch{number}"
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO submissions (id, form_id, form_version_id, reference, token_hash,"
                " state, seats, revision, language, started_at, submitted_at, updated_at)"
                " VALUES (:id, 1, 2, :ref, :h, 'submitted', 1, 1, 'en', :now, :now, :now)"
            ),
            {"id": number, "ref": reference, "h": f"h{number}", "now": now},
        )
        connection.execute(
            text("UPDATE submissions SET search_text = :t WHERE id = :id"),
            {"t": f"{reference.lower()} {word}", "id": number},
        )
        triggers = {
            name
            for (name,) in connection.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            )
        }
        assert {"submissions_search_insert", "submissions_search_update"} <= triggers, triggers
        found = connection.execute(
            text("SELECT rowid FROM submissions_search WHERE submissions_search MATCH :q"),
            {"q": f'"{word}"'},
        ).all()
        assert found == [(number,)]


@pytest.mark.parametrize("round_", range(3))
def test_two_publications_of_one_call_at_once_take_turns(app, call, round_):
    """Closing early while the draft is published: two versions, numbered 2 and 3, or the
    publication refused because closing early changed the draft first; never a number
    used twice (the database's refusal, a 500)."""
    from datetime import datetime, timedelta

    from extensions import db
    from services.call_drafts import (
        DraftConflict,
        draft_of,
        publish_draft,
        republish_with,
        save_draft,
    )

    form = form_of(call)
    seen = draft_of(form).revision
    save_draft(form, titled(form, "New title"), revision=seen, user=None, summary="s")
    db.session.commit()
    closes = (datetime.fromisoformat(document()["opens_at"]) + timedelta(days=2)).isoformat()

    def work(index: int):
        mine = form_of(call)
        if index == 0:
            return publish_draft(mine, revision=seen + 1, user=None).number
        change = {"closes_at": closes}
        return republish_with(mine, user=None, change=change, action="call.closed", data={}).number

    published, closed = _at_once(app, 2, work)
    form = fresh(call)
    if isinstance(published, DraftConflict):  # closing early changed the draft first
        assert closed == 2
        assert [v.number for v in form.versions] == [1, 2]
    else:
        assert sorted([published, closed]) == [2, 3], (published, closed)
        assert [v.number for v in form.versions] == [1, 2, 3]
    draft = draft_of(form)
    assert draft.document["closes_at"] == closes  # closing early is in the draft
    assert draft.document["title"]["en"] == "New title"


def test_two_previews_at_once_share_one_version(app, call):
    from extensions import db
    from models import FormVersion
    from services.call_drafts import preview_version

    db.session.commit()
    outcomes = _at_once(app, 2, lambda _i: preview_version(form_of(call), None).id)
    assert len(set(outcomes)) == 1 and all(isinstance(o, int) for o in outcomes), outcomes
    db.session.expire_all()
    assert db.session.scalar(select(func.count(FormVersion.id)).where(FormVersion.number < 0)) == 1
