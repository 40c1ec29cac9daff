"""References are unique and consecutive per call and year, also when people send at the
same moment (real parallel requests on the real database)."""

from concurrent.futures import ThreadPoolExecutor

from tests.conftest import FormClient
from tests.definitions import VALID_ALL_TYPES, all_types

PARALLEL = 12


def prepared_client(app) -> FormClient:
    client = FormClient(app.test_client())
    client.fill("all-types", 1, VALID_ALL_TYPES)
    client.get("/calls/all-types/check")
    return client


def test_parallel_submissions_get_distinct_consecutive_references(app, create_form):
    create_form(all_types())
    clients = [prepared_client(app) for _ in range(PARALLEL)]
    with ThreadPoolExecutor(PARALLEL) as pool:
        responses = list(pool.map(lambda c: c.post("/calls/all-types/check", {}), clients))
    assert [r.status_code for r in responses] == [302] * PARALLEL
    with app.app_context():
        from models import AuditEntry, Submission

        references = sorted(s.reference for s in Submission.query.all())
        year = references[0].split("-")[1]
        assert references == [f"TEST-{year}-{n:04d}" for n in range(1, PARALLEL + 1)]
        assert AuditEntry.query.filter_by(action="submission.submitted").count() == PARALLEL


def test_each_call_counts_its_own_references(app, client, create_form):
    create_form(all_types())
    create_form(all_types("second-call", reference_prefix="SEC"))
    for slug in ("all-types", "second-call", "all-types"):
        client.fill(slug, 1, VALID_ALL_TYPES)
        client.get(f"/calls/{slug}/check")
        client.post(f"/calls/{slug}/check", {})
    with app.app_context():
        from models import Submission

        numbers = sorted(s.reference.split("-", 1)[0] + s.reference[-4:] for s in Submission.query)
    assert numbers == ["SEC0001", "TEST0001", "TEST0002"]
