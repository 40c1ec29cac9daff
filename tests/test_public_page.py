"""The public form page as people read it, for every call in forms/definitions/ and every
language it offers: the optional marker written once, the consent question named by its
label, an error summary without doubled punctuation, the character count in GOV.UK's words
(right after a server-side error too) and a telephone example in the page's language."""

from __future__ import annotations

import re
from html import unescape

import pytest

from forms.texts import OPTIONAL_WORDS
from forms.validators import PHONE_EXAMPLES
from tests.conftest import FormClient, demo_definition
from tests.test_file_answers import demo_specs

CALLS = [(slug, lang) for slug, (_raw, spec) in demo_specs().items() for lang in spec.languages]


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def opened(app, create_form, slug: str, lang: str) -> FormClient:
    create_form(demo_definition(slug))
    client = FormClient(app.test_client())
    client.get(f"/?lang={lang}")
    return client


def page_url(slug: str, page) -> str:
    return f"/calls/{slug}/page/{page.index + 1}"


def label_of(html: str, field_id: str) -> str:
    """The text of the label (or of the legend of the fieldset) of the input `field_id`."""
    label = re.search(
        rf'<label class="label" for="{re.escape(field_id)}">(.*?)</label>', html, re.S
    )
    if label:
        return text_of(label.group(1))
    fieldset = re.search(
        rf'<fieldset[^>]*>\s*<legend class="label">((?:(?!</legend>).)*)</legend>'
        rf'(?:(?!</fieldset>).)*id="{re.escape(field_id)}[-"]',
        html,
        re.S,
    )
    assert fieldset, f"no label for {field_id}"
    return text_of(fieldset.group(1))


@pytest.mark.parametrize(("slug", "lang"), CALLS)
def test_optional_is_written_once_and_consent_shows_its_label(app, create_form, slug, lang):
    client = opened(app, create_form, slug, lang)
    spec = demo_specs()[slug][1]
    word = re.compile("|".join(OPTIONAL_WORDS[lang]), re.IGNORECASE)
    for page in spec.pages:
        html = client.get(page_url(slug, page)).get_data(as_text=True)
        for question in page.inputs:
            if question.type == "group":
                continue
            label = label_of(html, question.name)
            expected = 0 if question.required or question.type == "consent" else 1
            assert len(word.findall(label)) == expected, (page.index, label)
            if question.type == "consent":
                assert label == question.label(lang), "the consent question shows its label"


@pytest.mark.parametrize(("slug", "lang"), CALLS)
def test_the_error_summary_has_no_doubled_punctuation(app, create_form, slug, lang):
    client = opened(app, create_form, slug, lang)
    spec = demo_specs()[slug][1]
    for page in spec.pages:
        client.get(page_url(slug, page))
        response = client.post(page_url(slug, page), {"action": "continue"})
        summary = re.search(r'<div class="error-summary".*?</ul>', client.last_html, re.S)
        if response.status_code == 302:
            continue  # nothing required on this page
        assert summary, f"page {page.index + 1} sent back without an error summary"
        for item in re.findall(r"<li>(.*?)</li>", summary.group(0), re.S):
            assert not re.search(r"[?!.:…]\s*[.:]", text_of(item)), text_of(item)


# Characters typed into a box for at most 3000 → what the page says under it after sending.
COUNTS = {
    "en": [(10, "You have 2,990 characters remaining"), (3001, "You have 1 character too many")],
    "pl": [(10, "Pozostało 2 990 znaków"), (3002, "Masz o 2 znaki za dużo")],
    "sv": [(10, "Du har 2 990 tecken kvar"), (3002, "Du har 2 tecken för mycket")],
}


@pytest.mark.parametrize(
    ("slug", "lang"), [("msas", "en"), ("msas", "pl"), ("tolerance-requests", "sv")]
)
def test_the_character_count_is_right_after_a_server_side_error(app, create_form, slug, lang):
    client = opened(app, create_form, slug, lang)
    spec = demo_specs()[slug][1]
    page, question = next(
        (p, f) for p in spec.pages for f in p.inputs if f.options.get("max_length") == 3000
    )
    for typed, message in COUNTS[lang]:
        client.get(page_url(slug, page))
        client.post(page_url(slug, page), {"action": "continue", question.name: "ä" * typed})
        counter = re.search(
            rf'<p class="counter[^"]*" id="{question.name}-counter"[^>]*>(.*?)</p>',
            client.last_html,
            re.S,
        )
        assert counter, "no character count under the box"
        assert text_of(counter.group(1)) == message
    if lang == "en":  # the error above the box writes its numbers the same way
        assert "Use at most 3,000 characters (you used 3,001)." in text_of(client.last_html)


@pytest.mark.parametrize(
    ("slug", "lang"),
    [(s, lang) for s, lang in CALLS if any(f.type == "phone" for f in demo_specs()[s][1].inputs)],
)
def test_the_telephone_example_is_in_the_pages_language(app, create_form, slug, lang):
    client = opened(app, create_form, slug, lang)
    spec = demo_specs()[slug][1]
    page = next(p for p in spec.pages if any(f.type == "phone" for f in p.inputs))
    phone = next(f for f in page.inputs if f.type == "phone")
    client.get(page_url(slug, page))
    client.post(page_url(slug, page), {"action": "continue", phone.name: "call me"})
    error = re.search(rf'id="{phone.name}-error">(.*?)</p>', client.last_html, re.S)
    international, national = PHONE_EXAMPLES[lang]
    assert international in text_of(error.group(1)) and national in text_of(error.group(1))
