"""The installation's own name, contact address, accent colour, logo and accessibility
review date, changed by an admin: checked here (bounded text, a colour readable on white
and white readable on it, a logo that is really a PNG or a plain SVG), written to the
settings table with one audit entry `settings.changed` naming what changed. The reading is
models/installation.py."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _

from config import LANGUAGES
from extensions import db
from models import AuditEntry, User
from models import installation as setting
from services import settings
from services.logo_check import LogoRefused, check_logo
from services.staff_input import InputRefused, clean_text
from services.users import AccountError, normalised_email

MAX_NAME_LENGTH = 120
MAX_EMAIL_LENGTH = 254
AUDIT_ACTION = "settings.changed"
WCAG_AA = 4.5
WHITE = "#ffffff"


class SettingsRefused(ValueError):
    """Per field, what is wrong, in the person's language."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass
class Wanted:
    """What the admin sent: names by language ("default" first), the contact address, the
    colour, the review date, a new logo's bytes or the wish to remove it."""

    names: dict[str, str] = field(default_factory=dict)
    email: str = ""
    accent: str = ""
    reviewed: str = ""
    logo: bytes | None = None
    remove_logo: bool = False


# --- colour ----------------------------------------------------------------------------


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: str) -> float:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2 contrast ratio, 1 to 21."""
    a, b = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def is_hex_colour(text: str) -> bool:
    return len(text) == 7 and text[0] == "#" and all(c in "0123456789abcdef" for c in text[1:])


def check_accent(text: str) -> str:
    """ "#rrggbb" in lower case, or InputRefused with the measured ratio."""
    colour = text.strip().lower()
    if len(colour) == 4 and colour.startswith("#"):  # #abc → #aabbcc
        colour = "#" + "".join(c * 2 for c in colour[1:])
    if not is_hex_colour(colour):
        raise InputRefused(_("Enter the colour as # and six hexadecimal digits, like #1d4f91."))
    ratio = contrast_ratio(colour, WHITE)
    if ratio < WCAG_AA:
        # Cut, not rounded: 4.499 must not read as the 4.50 it fails to reach.
        shown = "%.2f" % (int(ratio * 100) / 100)
        raise InputRefused(
            _(
                "This colour has a contrast of %(ratio)s:1 with white; at least 4.5:1 is "
                "needed (WCAG AA), for white text on it and for it as text on white. "
                "Choose a darker colour.",
                ratio=shown,
            )
        )
    return colour


# --- the change ------------------------------------------------------------------------


def _check(wanted: Wanted) -> dict:
    """The values to store, by key; SettingsRefused with every field's problem."""
    errors: dict[str, str] = {}
    values: dict = {}
    names = {}
    for language in ("default", *LANGUAGES):
        label = _("Name") if language == "default" else LANGUAGES[language]
        try:
            text = clean_text(wanted.names.get(language), label, MAX_NAME_LENGTH).strip()
        except InputRefused as refusal:
            errors[f"name_{language}"] = str(refusal)
            continue
        if text:
            names[language] = " ".join(text.split())
    named_by_environment = setting.from_environment(setting.NAME) is not None
    if "default" not in names and "name_default" not in errors and not named_by_environment:
        errors["name_default"] = _("Enter the name of the organisation running this service.")
    values[setting.NAME] = names
    try:
        address = clean_text(wanted.email, _("Contact address"), MAX_EMAIL_LENGTH).strip()
        values[setting.EMAIL] = normalised_email(address) if address else ""
    except InputRefused as refusal:
        errors["email"] = str(refusal)
    except AccountError:
        errors["email"] = _("Enter an email address, like name@example.org.")
    try:
        text = clean_text(wanted.accent, _("Accent colour"), 16).strip()
        values[setting.ACCENT] = check_accent(text) if text else ""
    except InputRefused as refusal:
        errors["accent"] = str(refusal)
    try:
        text = clean_text(wanted.reviewed, _("Accessibility statement last reviewed"), 10).strip()
        values[setting.REVIEWED] = date.fromisoformat(text).isoformat() if text else ""
    except InputRefused as refusal:
        errors["reviewed"] = str(refusal)
    except ValueError:
        errors["reviewed"] = _("Enter the date as year-month-day, like 2027-01-31.")
    if wanted.logo is not None:
        try:
            content_type = check_logo(wanted.logo)
        except LogoRefused as refusal:
            errors["logo"] = str(refusal)
        else:
            values[setting.LOGO] = {
                "type": content_type,
                "data": base64.b64encode(wanted.logo).decode(),
                "digest": hashlib.sha256(wanted.logo).hexdigest()[:16],
            }
    elif wanted.remove_logo:
        values[setting.LOGO] = None
    if errors:
        raise SettingsRefused(errors)
    return values


def _summary(key: str, value) -> object:
    """What the audit log keeps of a value: a logo by its type, size and digest only."""
    if key == setting.LOGO:
        if not value:
            return None
        return {"type": value["type"], "bytes": len(base64.b64decode(value["data"]))}
    return value


def change(admin: User, wanted: Wanted) -> list[str]:
    """Check and store what changed, with one audit entry; the names of the changed keys
    (empty: nothing changed, nothing written). Commits."""
    values = _check(wanted)
    before = {key: settings.get(key) for key in values}
    changed = [key for key, value in values.items() if (before[key] or None) != (value or None)]
    if not changed:
        return []
    for key in changed:
        settings.put(key, values[key] or None, admin)
    db.session.add(
        AuditEntry(
            action=AUDIT_ACTION,
            actor_type=admin.role,
            actor_id=admin.id,
            data={
                "changed": changed,
                "before": {key: _summary(key, before[key]) for key in changed},
                "after": {key: _summary(key, values[key]) for key in changed},
            },
        )
    )
    db.session.commit()
    setting.forget_read_values()
    return changed
