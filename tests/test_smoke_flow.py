"""The whole path once: list → form → check answers → confirmation with a reference."""

import re

from tests.conftest import errors_in
from tests.definitions import VALID_ALL_TYPES, all_types


def test_a_complete_submission_is_stored_with_a_reference(app, client, create_form):
    create_form(all_types())
    assert "Test call" in client.get("/").get_data(as_text=True)

    response = client.fill("all-types", 1, VALID_ALL_TYPES)
    assert response.status_code == 302, errors_in(client.last_html)
    assert response.headers["Location"].endswith("/calls/all-types/check")

    check = client.get("/calls/all-types/check").get_data(as_text=True)
    assert "Zażółć Gęślą" in check and "Blue" in check

    response = client.post("/calls/all-types/check", {})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    reference = re.search(r"TEST-\d{4}-0001", page).group(0)

    with app.app_context():
        from models import Submission

        submission = Submission.query.filter_by(reference=reference).one()
        answers = submission.answers_by_field()
        assert answers["name"] == "Zażółć Gęślą"
        assert answers["people"] == 12
        assert answers["topics"] == ["a", "c"]
        assert answers["member"] is True
        assert answers["agree"] == {"agreed": True, "text": "I agree to the processing of my data."}
        assert submission.state == "submitted"
        assert submission.applicant_email == "person@example.org"
