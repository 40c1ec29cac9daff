"""Every user-visible string is translated into every language, and a page really is shown in
the chosen one.

A new `_()` / `_l()` string without translations fails here. To fix it: `make messages`, fill the
empty msgstr in translations/<lang>/LC_MESSAGES/messages.po, then `make translations`."""

from __future__ import annotations

import re
import subprocess
import sys
from html import unescape
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask_babel import get_domain

from tests.definitions import all_types

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
LANGUAGES = ["pl", "sv", "de", "lt"]
PAGE = "/calls/all-types/page/1"

# The same extraction as `make messages` (EXTRACT in the Makefile): keep the two in step.
EXTRACT = [
    "extract",
    "-F",
    "babel.cfg",
    "-k",
    "_l",
    "-k",
    "lazy_gettext",
    "--no-location",
    "--sort-output",
    "--project",
    "Formdesk",
]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]")


def _pybabel(*args: str) -> None:
    result = subprocess.run(  # noqa: S603  (our own command line)
        [sys.executable, "-m", "babel.messages.frontend", "-q", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"pybabel {args[0]} failed:\n{result.stdout}{result.stderr}"


def _catalog(language: str):
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=language)


@pytest.fixture(scope="module")
def source_messages(tmp_path_factory) -> list[str]:
    """Every msgid in the code and templates as they are now."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    _pybabel(*EXTRACT, "-o", str(pot), ".")
    with pot.open("rb") as f:
        ids = [m.id for m in read_po(f) if m.id]
    assert len(ids) > 50, "extraction found almost nothing: is babel.cfg right?"
    return ids


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated(source_messages, language):
    catalog = _catalog(language)
    missing, fuzzy, placeholders = [], [], []
    for msgid in source_messages:
        message = catalog.get(msgid)
        if message is None:
            missing.append(msgid)
            continue
        texts = list(message.string) if isinstance(message.string, tuple) else [message.string]
        if not all(texts):
            missing.append(msgid)
            continue
        if message.fuzzy:
            fuzzy.append(msgid)
        wanted = set(PLACEHOLDER.findall(msgid if isinstance(msgid, str) else msgid[0]))
        for text in texts:
            if set(PLACEHOLDER.findall(text)) != wanted:
                placeholders.append(f"{msgid!r} -> {text!r}")
    hint = f"run `make messages`, translate in translations/{language}/LC_MESSAGES/messages.po"
    assert not missing, f"{len(missing)} untranslated ({hint}):\n" + "\n".join(map(str, missing))
    assert not fuzzy, f"fuzzy translations to review ({hint}):\n" + "\n".join(fuzzy)
    assert not placeholders, "placeholders differ from the English:\n" + "\n".join(placeholders)


# --- a real page in the chosen language ---------------------------------------------------


@pytest.fixture(scope="module")
def compiled_catalogs():
    """`make test` compiles the catalogs first; compile them here too when they are missing or
    older than their .po, so this file also runs on its own."""
    stale = [
        po
        for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")
        if not po.with_suffix(".mo").exists()
        or po.with_suffix(".mo").stat().st_mtime < po.stat().st_mtime
    ]
    if stale:
        _pybabel("compile", "-d", "translations", "-f")
    return stale


@pytest.fixture
def fresh_translations(app, compiled_catalogs):
    """Flask-Babel caches loaded catalogs for the app's lifetime; after compiling, forget them."""
    if compiled_catalogs:
        with app.app_context():
            get_domain().cache.clear()


def _error_beside(html: str, field_id: str) -> str:
    match = re.search(
        rf'<p class="error-message" id="{field_id}-error">\s*'
        r'<span class="visually-hidden">([^<]*)</span>\s*([^<]*?)\s*</p>',
        html,
    )
    assert match, f"no error message beside {field_id!r}"
    return unescape(match.group(1)).strip() + " " + unescape(match.group(2)).strip()


@pytest.mark.parametrize("language", ["pl", "sv"])
def test_a_page_is_shown_and_validated_in_the_chosen_language(
    client, create_form, fresh_translations, language
):
    catalog = _catalog(language)

    def tr(msgid: str) -> str:
        return catalog.get(msgid).string

    create_form(all_types())
    html = client.get(f"{PAGE}?lang={language}").get_data(as_text=True)
    assert f'<html lang="{language}">' in html
    assert tr("Continue") in html and tr("Save and continue later") in html

    response = client.post(PAGE, {"action": "continue"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'<html lang="{language}">' in html
    title = unescape(re.search(r"<title>(.*?)</title>", html, re.S).group(1))
    assert title.startswith(tr("Error:") + " ")
    assert tr("There is a problem") in html
    # Required text field and e-mail field, with the hidden "Error:" prefix, in the language.
    assert _error_beside(html, "name") == f"{tr('Error:')} {tr('Answer this question.')}"
    assert _error_beside(html, "email") == f"{tr('Error:')} {tr('Enter an email address.')}"
    assert "Answer this question." not in html and "Error:" not in html
