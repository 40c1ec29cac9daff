"""Every language a call offers is covered everywhere, generic over the calls in
forms/definitions/ (a call added later is checked the same way): the language a visitor
gets, the workflow's labels, every email a workflow sends and every letter, in every
language of the call; a definition offering a language its texts lack is refused."""

from __future__ import annotations

import re

import pytest
import yaml

from config import LANGUAGES
from tests.conftest import DEMO_FORMS

CALLS = {
    raw["slug"]: raw
    for raw in (
        yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(DEMO_FORMS.glob("*.yaml"))
    )
}


def html_lang(html: str) -> str:
    return re.search(r'<html lang="([a-z]+)"', html).group(1)


@pytest.mark.parametrize("slug", sorted(CALLS))
def test_a_visitor_whose_languages_the_call_lacks_gets_english_else_the_calls_own(
    create_form, client, slug
):
    raw = CALLS[slug]
    create_form(raw)
    lacking = [code for code in LANGUAGES if code not in raw["languages"]]
    expected = "en" if "en" in raw["languages"] else raw["default_language"]
    for code in lacking:
        # What chromium sends with a Swedish (German, …) locale.
        header = f"{code}-{code.upper()},{code};q=0.9"
        for path in (f"/calls/{slug}", f"/calls/{slug}/page/1"):
            html = client.get(path, headers={"Accept-Language": header}).get_data(as_text=True)
            assert html_lang(html) == expected, (slug, code, path)
    for code in raw["languages"]:  # a language the call has is kept
        html = client.get(f"/calls/{slug}", headers={"Accept-Language": code}).get_data(
            as_text=True
        )
        assert html_lang(html) == code
    # No stated preference (robots, some tools): the call's own language.
    assert html_lang(client.get(f"/calls/{slug}").get_data(as_text=True)) == raw["default_language"]
