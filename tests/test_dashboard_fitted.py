"""The staff list fitted to the calls it shows, for every call in forms/definitions/: which
columns it has, which bulk actions it offers (each told apart in every language of the
installation), valid `<time datetime>` values, and the favicon every page links."""

from __future__ import annotations

import re
from html import unescape
from xml.etree import ElementTree

import pytest

from tests.conftest import FormClient, demo_definition
from tests.test_auth import PASSWORD, sign_in
from tests.test_exports_demo_calls import CALLS, send

# Each test publishes every demo call with submissions (the `demo` fixture).
pytestmark = pytest.mark.slow

ADMIN = "ada@example.org"
LANGUAGES = ("en", "pl", "sv", "de", "lt")
# HTML's "valid global date and time string", as a browser's parser takes it.
HTML_MOMENT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,3})?)?(Z|[+-]\d\d:\d\d)")


@pytest.fixture
def demo(app, create_form):
    """Every demo call with two submissions, and an admin signed in."""
    from extensions import db
    from forms.published import spec_for
    from models import Form

    specs = {}
    for slug in CALLS:
        create_form(demo_definition(slug))
        with app.app_context():
            form = db.session.scalar(db.select(Form).where(Form.slug == slug))
            specs[slug] = spec_for(form.current_version)
        for number in range(2):
            send(app, slug, specs[slug], number, specs[slug].default_language)
    result = app.test_cli_runner().invoke(
        args=["users", "create", ADMIN, "--role", "admin"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    client = FormClient(app.test_client())
    assert sign_in(client, ADMIN).status_code == 302
    return client, specs


def headers(html: str) -> list[str]:
    head = re.search(r"<thead>(.*?)</thead>", html, re.S).group(1)
    cells = re.findall(r"<th[^>]*>(.*?)</th>", head, re.S)
    return [" ".join(unescape(re.sub(r"<[^>]+>", " ", c)).split()) for c in cells]


def bulk_options(html: str) -> list[tuple[str, str]]:
    select = re.search(r'<select[^>]*id="bulk-action"[^>]*>(.*?)</select>', html, re.S)
    if select is None:
        return []
    found = re.findall(r'<option value="([^"]+)">([^<]*)</option>', select.group(1))
    return [(name, unescape(label)) for name, label in found]


def test_the_list_shows_the_columns_its_calls_need(demo):
    client, specs = demo
    everything = headers(client.get("/dashboard/submissions?lang=en").get_data(as_text=True))
    assert "Call" in everything  # several calls show: which one each answers
    for slug, spec in specs.items():
        html = client.get(f"/dashboard/submissions?form={slug}&lang=en").get_data(as_text=True)
        shown = headers(html)
        assert "Call" not in shown, slug
        assert ("Score (scorers)" in shown) == bool(spec.raw.get("rubric")), slug
        event = bool(spec.raw.get("seats_field"))
        assert ("Places" in shown) == event, slug
        assert ("Participants" in shown) == event, slug
        assert ("Places taken:" in html) == bool(spec.capacity), slug
        if event:  # the participants by name, and the places they take
            group = spec.field(spec.raw["seats_field"])
            first = group.children[0].name
            assert f"Łódź – {first} 2" in html or "HYPERLINK" in html, slug
        assert 'data-select-all="submission"' in html, slug


def test_bulk_actions_are_the_filtered_calls_and_each_label_is_distinct(app, demo):
    from workflows.engine import get_workflow as workflow_named

    client, specs = demo

    def get_workflow(name: str):
        with app.app_context():
            return workflow_named(name)

    for language in LANGUAGES:
        offered = bulk_options(
            client.get(f"/dashboard/submissions?lang={language}").get_data(as_text=True)
        )
        labels = [label for _name, label in offered]
        assert len(labels) == len(set(labels)), (language, labels)
        for slug, spec in specs.items():
            workflow = get_workflow(spec.workflow)
            html = client.get(f"/dashboard/submissions?form={slug}&lang={language}")
            offered = bulk_options(html.get_data(as_text=True))
            steps = {s.name for s in workflow.transitions if "admin" in s.actors}
            assert offered and {name for name, _label in offered} <= steps, (slug, offered)
            labels = [label for _name, label in offered]
            assert len(labels) == len(set(labels)), (slug, language, labels)
        # Filtered by a state too: only the steps that leave it.
        for slug, spec in specs.items():
            workflow = get_workflow(spec.workflow)
            for state in workflow.states:
                html = client.get(f"/dashboard/submissions?form={slug}&state={state}")
                for name, _label in bulk_options(html.get_data(as_text=True)):
                    assert state in workflow.transition(name).sources, (slug, state, name)


def test_every_time_element_holds_a_valid_html_moment(demo):
    client, _specs = demo
    html = client.get("/dashboard/submissions").get_data(as_text=True)
    values = re.findall(r'<time[^>]*datetime="([^"]*)"', html)
    assert len(values) == 2 * len(CALLS)
    for value in values:
        assert HTML_MOMENT.fullmatch(value), value


def test_every_page_links_a_favicon_served_as_svg(app, client):
    html = client.get("/").get_data(as_text=True)
    link = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', html)
    assert link, "no favicon link"
    response = client.client.get(link.group(1))
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    root = ElementTree.fromstring(response.get_data())  # noqa: S314 (our own file)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
