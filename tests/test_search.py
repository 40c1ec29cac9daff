"""The dashboard's search behind `services.search.submission_matches`: the stored search texts
kept current by every writer, the migration that fills them, PostgreSQL's full-text search
(prefixes, phrases, or, exclusion, its GIN indexes) with the substring search as SQLite's way
and as the fallback, and blind review on both ways."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, select, text

from tests.conftest import POSTGRES_BASE, FormClient, _admin_execute
from tests.definitions import base

FIELDS = [
    {
        "title": "Only",
        "fields": [
            {"name": "name", "type": "text", "label": "Name", "required": True,
             "identifying": True},
            {"name": "email", "type": "email", "label": "Email", "required": True},
            {"name": "town", "type": "text", "label": "Town"},
            {"name": "story", "type": "textarea", "label": "Story"},
            {"name": "team", "type": "group", "label": "Team", "max": 3, "fields": [
                {"name": "member", "type": "text", "label": "Member", "identifying": True},
                {"name": "role", "type": "text", "label": "Role"},
            ]},
        ],
    }
]  # fmt: skip


@pytest.fixture
def calls(create_form):
    """An open call and a blind-reviewed one, with the same questions."""
    create_form(base("open", FIELDS, reference_prefix="OPEN", title={"en": "Open call"}))
    create_form(
        base("blind", FIELDS, reference_prefix="BLND", blind_review=True, title={"en": "Blind"})
    )


def dialect(app) -> str:
    from extensions import db

    with app.app_context():
        return db.engine.dialect.name


def add(app, slug: str, **answers) -> int:
    """A submission written with the models directly (no service in between)."""
    from extensions import db
    from models import Answer, Form, Submission

    with app.app_context():
        form = db.session.query(Form).filter_by(slug=slug).one()
        number = db.session.query(Submission).filter_by(form_id=form.id).count() + 1
        prefix = form.current_version.definition["reference_prefix"]
        moment = datetime(2027, 1, 5, 12, tzinfo=UTC)
        submission = Submission(
            form_id=form.id,
            form_version_id=form.current_version_id,
            reference=f"{prefix}-2027-{number:04d}",
            token_hash=secrets.token_hex(32),
            state="submitted",
            language="en",
            started_at=moment,
            submitted_at=moment,
        )
        submission.answers = [
            Answer(field=key, position=position, value=value)
            for position, (key, value) in enumerate(answers.items())
        ]
        db.session.add(submission)
        db.session.commit()
        return submission.id


def texts(app, submission_id: int) -> tuple[str, str]:
    from extensions import db
    from models import Submission

    with app.app_context():
        row = db.session.execute(
            select(Submission.search_text, Submission.search_text_blind).where(
                Submission.id == submission_id
            )
        ).one()
        return row.search_text, row.search_text_blind


def staff_client(app, email: str, role: str, *forms: str) -> FormClient:
    from tests.test_dashboard_list import signed_in, staff

    return signed_in(app, staff(app, email, role, *forms))


def found(client: FormClient, query: str) -> list[str]:
    from urllib.parse import quote

    from tests.test_dashboard_list import listed

    return sorted(listed(client, "?q=" + quote(query)))


# --- the words ------------------------------------------------------------------------------


def test_words_are_letters_and_digits_lower_cased_whatever_the_script():
    from models.search_texts import search_text, search_words

    assert search_words("MSAS-2027-0007") == ["msas", "2027", "0007"]
    assert search_words("anna.k@Example.org, +48 501") == [
        "anna",
        "k",
        "example",
        "org",
        "48",
        "501",
    ]
    assert search_words("ZAŻÓŁĆ Gęślą — Jaźń «Åsa» Öberg’s") == [
        "zażółć", "gęślą", "jaźń", "åsa", "öberg", "s",
    ]  # fmt: skip
    assert search_words("ﬁlia Ｇｄańsk") == ["filia", "gdańsk"]  # NFKC: ligature, full width
    assert search_words("50% off_sale\x00") == ["50", "off", "sale"]
    value = [{"member": "Ewa", "role": "lead", "cv": {"attachment": 3, "name": "cv.pdf"}}]
    assert search_text("OPEN-2027-0001", ["Łódź", value, ["pl", "se"], 12, None]) == (
        "open 2027 0001 łódź ewa lead cv pdf pl se"
    )
    long = search_text("R-1", ["słowo " * 30_000])
    assert len(long) <= 100_000 and long.endswith("słowo")


def test_the_query_keeps_phrases_or_and_exclusion_and_drops_other_punctuation():
    from services.search import websearch_text

    assert websearch_text("Karin Lund") == "karin lund"
    assert websearch_text('"reading club" or Malmö') == '"reading club" or malmö'
    assert websearch_text("ALFA-2027-0003") == '"alfa 2027 0003"'
    assert websearch_text("-kraków -0002") == "-kraków 0002"
    assert websearch_text("anna.k@example.org") == '"anna k example org"'
    assert websearch_text("% & ? _ ' \" \\") == ""
    assert websearch_text('"unclosed phrase') == '"unclosed phrase"'


# --- the texts are kept current -----------------------------------------------------------------


def test_submitting_fills_both_texts_without_identifying_answers_in_the_blind_one(app, calls):
    from tests.test_dashboard_list import send

    send(app, "blind", {"name": "Karin Exempelsson", "email": "k@example.org", "town": "Lund"})
    from extensions import db
    from models import Submission

    with app.app_context():
        submission_id, reference = db.session.execute(
            select(Submission.id, Submission.reference)
        ).one()
    full, blind = texts(app, submission_id)
    ref = " ".join(reference.lower().split("-"))
    assert full == f"{ref} karin exempelsson k example org lund"
    assert blind == f"{ref} k example org lund"


def test_texts_made_in_memory_when_submitting_equal_those_read_back_from_the_rows(app, calls):
    """Submitting sets both texts before the INSERT, from the objects in memory; any other
    writer gets them read back from the rows after the flush. The two ways must agree."""
    from extensions import db
    from models import Submission
    from models.search_texts import refresh_search_texts
    from tests.test_dashboard_list import send

    answers = {"name": "Łucja Öberg", "email": "l@example.org", "story": "Zajęcia w Łodzi"}
    for slug in ("open", "blind"):
        send(app, slug, answers)
    with app.app_context():
        stored = {
            row.id: (row.search_text, row.search_text_blind)
            for row in db.session.execute(
                select(Submission.id, Submission.search_text, Submission.search_text_blind)
            )
        }
        read_back = refresh_search_texts(db.session.connection(), stored)
        db.session.rollback()
    assert len(stored) == 2 and all("łucja öberg" in full for full, _ in stored.values())
    assert stored == read_back


def test_an_applicants_edit_replaces_the_words(app, create_form):
    from tests.test_applicant import PAGES, apply, edit, person, save

    create_form(base("review", PAGES, workflow="application-review"))
    token, submission_id = apply(app, "review", person("Ada", plan="Reading club"))
    assert "reading club" in texts(app, submission_id)[0]
    client = FormClient(app.test_client())
    edit(client, token, person("Ada", plan="Language café"))
    assert save(client, token).status_code == 302
    full, _blind = texts(app, submission_id)
    assert "language café" in full and "reading" not in full


def test_answers_written_directly_update_the_texts_but_not_last_changed(app, calls):
    from extensions import db
    from models import Answer, Submission

    submission_id = add(
        app, "open", name="Ewa Nowak", team=[{"member": "Jan Kowalski", "role": "librarian"}]
    )
    full, blind = texts(app, submission_id)
    assert "jan kowalski librarian" in full and "ewa nowak" in full
    # A group with an identifying field counts as identifying as a whole.
    assert "kowalski" not in blind and "librarian" not in blind and "nowak" not in blind
    with app.app_context():
        before = db.session.get(Submission, submission_id).updated_at
        db.session.add(Answer(submission_id=submission_id, field="story", position=9, value="Zoo"))
        db.session.commit()
        submission = db.session.get(Submission, submission_id)
        assert submission.search_text.endswith("zoo")  # the object in memory too
        assert submission.updated_at == before
        name = db.session.scalar(
            select(Answer).where(Answer.submission_id == submission_id, Answer.field == "name")
        )
        db.session.delete(name)
        db.session.commit()
    assert "nowak" not in texts(app, submission_id)[0]


def test_anonymising_takes_the_name_out_of_the_search(app, calls):
    from services.retention import anonymise

    submission_id = add(
        app,
        "open",
        name="Karin Exempelsson",
        town="Lund",
        team=[{"member": "Nils Holgersson", "role": "storyteller"}],
    )
    admin = staff_client(app, "root@example.org", "admin")
    assert found(admin, "exempelsson") == ["OPEN-2027-0001"]
    with app.app_context():
        anonymise("OPEN-2027-0001")
    full, blind = texts(app, submission_id)
    assert "karin" not in full and "holgersson" not in full and "lund" in full
    assert found(admin, "exempelsson") == [] and found(admin, "holgersson") == []
    assert found(admin, "lund") == ["OPEN-2027-0001"]


def test_a_change_of_state_alone_does_not_recompute(app, calls):
    from extensions import db
    from models import Submission
    from services.transitions import Actor, transition

    submission_id = add(app, "open", name="Ewa")
    with app.app_context():
        db.session.execute(
            text("UPDATE submissions SET search_text = 'marker' WHERE id = :id"),
            {"id": submission_id},
        )
        db.session.commit()
        transition(submission_id, "start_review", Actor("admin"))
        assert db.session.get(Submission, submission_id).state == "in_review"
    assert texts(app, submission_id)[0] == "marker"


# --- the migration fills the texts of existing submissions ---------------------------------------


@pytest.fixture
def empty_database(app, tmp_path):
    """A database of this run's kind, with no tables yet."""
    if dialect(app) != "postgresql":
        yield f"sqlite:///{tmp_path / 'migration.db'}"
        return
    name = f"formdesk_search_{secrets.token_hex(4)}"
    _admin_execute(f'CREATE DATABASE "{name}"')
    yield POSTGRES_BASE.rsplit("/", 1)[0] + "/" + name
    _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_migration_fills_the_texts_as_the_application_would(app, empty_database, tmp_path):
    import json

    from flask_migrate import downgrade, upgrade

    from app import create_app
    from models.search_texts import refresh_search_texts

    other = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": empty_database,
            "FORMDESK_AUTO_MIGRATE": False,
            "FORMDESK_UPLOAD_DIR": str(tmp_path),
        }
    )
    definition = base("blind", FIELDS, reference_prefix="BLND", blind_review=True)
    answers = {
        "name": "Zażółć Gęślą",
        "email": "zg@example.org",
        "story": "Biblioteka w Łodzi, 50% taniej",
        "team": [{"member": "Åsa Öberg", "role": "Bibliotekarie"}],
    }
    with other.app_context():
        upgrade(revision="1074b7b3545c")  # the schema before the search texts
        engine = create_engine(empty_database)
        with engine.begin() as connection:
            now = datetime(2027, 1, 5, tzinfo=UTC)
            connection.execute(
                text("INSERT INTO forms (id, slug, created_at) VALUES (1, 'blind', :now)"),
                {"now": now},
            )
            connection.execute(
                text(
                    "INSERT INTO form_versions (id, form_id, number, checksum, definition,"
                    " opens_at, closes_at, published_at) VALUES (1, 1, 1, 'x', :d, :now, :now,"
                    " :now)"
                ),
                {"d": json.dumps(definition), "now": now},
            )
            connection.execute(
                text(
                    "INSERT INTO submissions (id, form_id, form_version_id, reference, token_hash,"
                    " state, seats, revision, language, started_at, submitted_at, updated_at)"
                    " VALUES (1, 1, 1, 'BLND-2027-0001', 'h', 'submitted', 1, 1, 'pl', :now,"
                    " :now, :now)"
                ),
                {"now": now},
            )
            for position, (field, value) in enumerate(answers.items()):
                connection.execute(
                    text(
                        "INSERT INTO answers (submission_id, field, position, value)"
                        " VALUES (1, :f, :p, :v)"
                    ),
                    {"f": field, "p": position, "v": json.dumps(value)},
                )
        upgrade()
        with engine.begin() as connection:
            migrated = connection.execute(
                text("SELECT search_text, search_text_blind FROM submissions WHERE id = 1")
            ).one()
            assert tuple(migrated) == (
                "blnd 2027 0001 zażółć gęślą zg example org biblioteka w łodzi 50 taniej"
                " åsa öberg bibliotekarie",
                "blnd 2027 0001 zg example org biblioteka w łodzi 50 taniej",
            )
            assert refresh_search_texts(connection, [1]) == {1: tuple(migrated)}
            if engine.dialect.name == "sqlite":  # the trigram index is built for them
                assert connection.execute(
                    text("SELECT rowid FROM submissions_search WHERE submissions_search MATCH :q"),
                    {"q": '"öberg bibl"'},
                ).all() == [(1,)]
        engine.dispose()
        downgrade(revision="1074b7b3545c")  # and back, with the data kept
        upgrade()
        with engine.begin() as connection:
            again = connection.execute(
                text("SELECT search_text, search_text_blind FROM submissions WHERE id = 1")
            ).one()
            assert tuple(again) == tuple(migrated)
            if engine.dialect.name == "sqlite":
                connection.execute(
                    text(
                        "INSERT INTO submissions_search(submissions_search, rank)"
                        " VALUES ('integrity-check', 1)"
                    )
                )
        engine.dispose()
        from extensions import db

        db.engine.dispose()


# --- searching ------------------------------------------------------------------------------------


def test_words_in_any_order_and_prefixes_find_a_submission(app, calls):
    first = add(app, "open", name="Karin Exempelsson", town="Lund", story="A reading club")
    add(app, "open", name="Jan Nowak", town="Łódź", story="Biblioteka sąsiedzka")
    admin = staff_client(app, "root@example.org", "admin")
    assert found(admin, "lund karin") == ["OPEN-2027-0001"]
    assert found(admin, "KAR") == ["OPEN-2027-0001"]  # the beginning of a word
    assert found(admin, "sąsiedz") == ["OPEN-2027-0002"]
    assert found(admin, "ŁÓDŹ") == ["OPEN-2027-0002"]
    assert found(admin, "open-2027-0001") == ["OPEN-2027-0001"]
    assert found(admin, "0002") == ["OPEN-2027-0002"]
    assert found(admin, "lund nowak") == []
    assert first


def test_phrases_and_words_in_any_order_on_both_and_or_and_exclusion_on_postgresql(app, calls):
    add(app, "open", name="Karin", town="Lund", story="A reading club for teenagers")
    add(app, "open", name="Jan", town="Malmö", story="club reading evenings")
    admin = staff_client(app, "root@example.org", "admin")
    assert found(admin, '"reading club"') == ["OPEN-2027-0001"]
    assert found(admin, "reading club") == ["OPEN-2027-0001", "OPEN-2027-0002"]
    if dialect(app) != "postgresql":
        # SQLite finds any part of a word; `or` and `-` are just text there.
        assert found(admin, "ading cl") == ["OPEN-2027-0001", "OPEN-2027-0002"]
        assert found(admin, "lund or malmö") == []
        return
    assert found(admin, "lund or malmö") == ["OPEN-2027-0001", "OPEN-2027-0002"]
    assert found(admin, "club -lund") == ["OPEN-2027-0002"]
    assert found(admin, "eading") == []  # words match from their beginning


def test_a_query_without_letters_or_digits_searches_the_text_as_written(app, calls):
    add(app, "open", name="Plain", story="50% off")
    add(app, "open", name="Other", story="fifty percent")
    admin = staff_client(app, "root@example.org", "admin")
    assert found(admin, "%") == ["OPEN-2027-0001"]
    assert found(admin, "_") == []


def test_blind_review_keeps_identifying_answers_unsearchable_for_reviewers(app, calls):
    add(
        app,
        "blind",
        name="Karin Exempelsson",
        email="office@lund.example.org",
        story="about reading",
        team=[{"member": "Nils Holgersson", "role": "storyteller"}],
    )
    add(app, "open", name="Karin Open", story="about reading")
    reviewer = staff_client(app, "rev@example.org", "call_manager", "blind", "open")
    admin = staff_client(app, "root@example.org", "admin")
    for query in ("karin", "exempelsson", "kar", '"karin exempelsson"', "holgersson", "story"):
        assert "BLND-2027-0001" not in found(reviewer, query), query
        assert "BLND-2027-0001" in found(admin, query), query
    # The same name on the open call is found by the same reviewer.
    assert found(reviewer, "karin") == ["OPEN-2027-0001"]
    assert found(reviewer, "reading") == ["BLND-2027-0001", "OPEN-2027-0001"]
    assert found(reviewer, "lund") == ["BLND-2027-0001"]  # the email is not marked identifying


def test_answers_hidden_beyond_the_identifying_ones_are_still_left_out(app, calls):
    """A caller hiding an answer the blind text keeps gets the per-answer search instead."""
    from extensions import db
    from models import Submission
    from services.search import submission_matches

    submission_id = add(app, "blind", name="Karin", town="Lund")
    with app.app_context():
        version_id = db.session.get(Submission, submission_id).form_version_id
        for hidden, expected in (({"name"}, [submission_id]), ({"name", "town"}, [])):
            condition = submission_matches("lund", {version_id: hidden})
            assert db.session.scalars(select(Submission.id).where(condition)).all() == expected


def test_postgresql_answers_searches_from_its_gin_indexes(app, calls):
    if dialect(app) != "postgresql":
        pytest.skip("full-text indexes are PostgreSQL's")
    from extensions import db
    from models import FormVersion, Submission
    from services.search import submission_matches

    add(app, "blind", name="Karin", town="Lund")
    with app.app_context():
        blind_version = db.session.scalar(select(FormVersion.id))
        plans = []
        for hidden in ({}, {blind_version: {"name", "team"}}):
            query = select(Submission.id).where(submission_matches("lund kar", hidden))
            sql = query.compile(db.engine, compile_kwargs={"literal_binds": True})
            db.session.execute(text("SET LOCAL enable_seqscan = off"))
            plans.append("\n".join(db.session.scalars(text(f"EXPLAIN {sql}"))))
        db.session.rollback()
    assert "ix_submissions_search_text_fts" in plans[0]
    assert "ix_submissions_search_text_blind_fts" in plans[1]


def test_odd_queries_never_fail(app, calls):
    add(app, "open", name="Karin", story="text")
    admin = staff_client(app, "root@example.org", "admin")
    for query in ("'", '"', "\\", "!", "-", "or", "a & b | !c", "(a", "x:*", "<->", "'a' & 'b'",
                  "-", "--x", '""', "ą" * 200):  # fmt: skip
        found(admin, query)
    # Beyond the bound, or with a control character: refused at the edge, with a message.
    for query in ("ą" * 201, "\x00x"):
        response = admin.get("/dashboard/submissions?q=" + quote(query))
        assert response.status_code == 400 and "Search" in admin.last_html


# --- SQLite: the trigram index (FTS5) on search_text ----------------------------------------------


def sqlite_only(app) -> None:
    if dialect(app) != "sqlite":
        pytest.skip("the FTS5 index is SQLite's")


def indexed(app, text_: str) -> list[int]:
    """Submission ids SQLite's trigram index finds `text_` in (a part of search_text)."""
    from extensions import db

    with app.app_context():
        return sorted(
            db.session.scalars(
                text("SELECT rowid FROM submissions_search WHERE submissions_search MATCH :q"),
                {"q": f'"{text_}"'},
            )
        )


def index_is_consistent(app) -> bool:
    """FTS5's own check of an external-content index against the submissions' rows."""
    from extensions import db

    with app.app_context():
        db.session.execute(
            text(
                "INSERT INTO submissions_search(submissions_search, rank)"
                " VALUES ('integrity-check', 1)"
            )
        )  # raises when the index and the rows disagree
        db.session.rollback()
    return True


def test_sqlite_keeps_the_trigram_index_current_on_insert_edit_anonymise_delete(app, calls):
    from extensions import db
    from models import Answer
    from services.retention import anonymise

    sqlite_only(app)
    first = add(app, "open", name="Karin Exempelsson", town="Lund")
    second = add(app, "open", name="Jan Nowak", town="Łódź")
    assert indexed(app, "empels") == [first]  # the middle of a word
    assert indexed(app, "łódź") == [second]
    assert indexed(app, "open 2027") == [first, second]
    with app.app_context():  # an answer added: its words are found, the old ones stay
        db.session.add(Answer(submission_id=first, field="story", position=9, value="Zoo Malmö"))
        db.session.commit()
    assert indexed(app, "zoo malm") == [first] and indexed(app, "empels") == [first]
    with app.app_context():  # an answer changed: the old words go
        town = db.session.scalar(
            select(Answer).where(Answer.submission_id == second, Answer.field == "town")
        )
        town.value = "Kraków"
        db.session.commit()
    assert indexed(app, "łódź") == [] and indexed(app, "kraków") == [second]
    with app.app_context():
        anonymise("OPEN-2027-0001")
    assert indexed(app, "empels") == [] and indexed(app, "lund") == [first]
    with app.app_context():
        db.session.execute(text("DELETE FROM answers WHERE submission_id = :id"), {"id": second})
        db.session.execute(text("DELETE FROM submissions WHERE id = :id"), {"id": second})
        db.session.commit()
    assert indexed(app, "kraków") == [] and indexed(app, "open 2027") == [first]
    assert index_is_consistent(app)


def test_sqlite_answers_searches_from_the_trigram_index_without_reading_answers(app, calls):
    from extensions import db
    from models import FormVersion, Submission
    from services.search import submission_matches

    sqlite_only(app)
    add(app, "blind", name="Karin", town="Lund")
    with app.app_context():
        blind_version = db.session.scalar(select(FormVersion.id))
        for hidden in ({}, {blind_version: {"name", "team"}}):
            query = select(Submission.id).where(submission_matches("lund kar", hidden))
            sql = str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))
            plan = " | ".join(
                row[-1] for row in db.session.execute(text(f"EXPLAIN QUERY PLAN {sql}"))
            )
            assert "submissions_search VIRTUAL TABLE" in plan, plan
            assert "answers" not in sql and "formdesk_answer_text" not in sql, sql


def test_any_part_of_a_word_short_terms_and_letters_of_four_languages(app, calls):
    sqlite_only(app)  # PostgreSQL finds the beginnings of words (tests above)
    add(app, "open", name="Zażółć Gęślą", town="Łódź-Bałuty", story="Šiauliai, Straße 5")
    add(app, "open", name="Åsa Öberg", town="Malmö", story="anna.k@example.org — 50% off")
    admin = staff_client(app, "root@example.org", "admin")
    first, second = ["OPEN-2027-0001"], ["OPEN-2027-0002"]
    for query, expected in (
        ("ŻÓŁĆ", first), ("gęśl", first), ("Bałuty", first), ("łódź-bał", first),
        ("ŠIAUL", first), ("straße", first), ("berg", second), ("ÅSA", second),
        ("łó", first),  # shorter than a trigram: LIKE on the stored text
        ("ö", second), ("5", first + second), ('"ó ż"', []), ("50", second),
        ("anna.k@example", second), ("nna.k", second), ('"k example"', second),
        ("— off", second), ("%", second),  # no letter or digit: the answers as written
        ("malmö łódź", []), ("öberg 2027-0002", second), ("zz", []),
    ):  # fmt: skip
        assert found(admin, query) == expected, query


def test_blind_review_short_terms_and_phrases_across_a_hidden_answer(app, calls):
    """The blind text is searched without an index of its own: the index narrows by the
    words, LIKE on the blind text decides."""
    sqlite_only(app)
    add(app, "blind", name="Karin Ek", town="Lund", story="Åre")
    reviewer = staff_client(app, "rev@example.org", "call_manager", "blind")
    admin = staff_client(app, "root@example.org", "admin")
    for query in ("ek", "karin", "in ek", '"ek lund"', "ka"):
        assert found(reviewer, query) == [], query
        assert found(admin, query) == ["BLND-2027-0001"], query
    for query in ("lund", "lu", "åre", "un", "2027-0001 lund åre"):
        assert found(reviewer, query) == ["BLND-2027-0001"], query
    # In the blind text the town follows the reference: a phrase across the hidden name is
    # found there (the index, which holds the full text, narrows by its words only).
    assert found(reviewer, '"0001 lund"') == ["BLND-2027-0001"]


def test_sqlite_without_the_trigram_index_searches_the_stored_text_alike(app, calls, monkeypatch):
    """Where SQLite has no trigram tokenizer the migration makes no index: LIKE on the
    stored text then finds the same submissions."""
    import services.search as search
    from extensions import db
    from models import Submission

    sqlite_only(app)
    add(app, "open", name="Zażółć Gęślą", town="Łódź-Bałuty", story="a reading club")
    add(app, "blind", name="Karin Ek", town="Lund", story="Åre")
    admin = staff_client(app, "root@example.org", "admin")
    reviewer = staff_client(app, "rev@example.org", "call_manager", "blind", "open")
    queries = ("żółć", "łódź-bał", '"ading cl"', "lund åre", "karin", "ek", "— club", "0001 lu")
    indexed_ = {q: (found(admin, q), found(reviewer, q)) for q in queries}
    monkeypatch.setattr(search, "has_trigram_index", lambda: False)
    assert {q: (found(admin, q), found(reviewer, q)) for q in queries} == indexed_
    assert indexed_["karin"] == (["BLND-2027-0001"], [])
    with app.app_context():
        sql = str(select(Submission.id).where(search.submission_matches("karin lund")))
        db.session.rollback()
    assert "submissions_search" not in sql and "search_text LIKE" in sql
