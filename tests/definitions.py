"""Form definitions for tests: a one-page form with every field type and a multi-page form
with conditions. Times are relative to now, so the forms are open unless a test says so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def window(opens_in: timedelta = timedelta(days=-1), closes_in: timedelta = timedelta(days=30)):
    now = datetime.now(UTC).replace(microsecond=0)
    return {"opens_at": iso(now + opens_in), "closes_at": iso(now + closes_in)}


def base(slug: str, pages: list, **extra) -> dict:
    return {
        "slug": slug,
        "reference_prefix": "TEST",
        "default_language": "en",
        "languages": ["en", "pl", "sv"],
        "title": {"en": "Test call", "pl": "Nabór testowy", "sv": "Testansökan"},
        "description": "A call used by the tests.",
        "organisation": {"name": "Example Organisation"},
        "contact": {"name": "Ada Example", "email": "calls@example.org"},
        "timezone": "Europe/Warsaw",
        "workflow": "application-review",
        "pages": pages,
        **window(),
        **extra,
    }


ALL_TYPES_FIELDS = [
    {"type": "heading", "text": "About you"},
    {"type": "paragraph", "text": "Answer every question."},
    {
        "name": "name",
        "type": "text",
        "label": {"en": "Name", "pl": "Imię"},
        "required": True,
        "max_length": 40,
    },
    {
        "name": "code",
        "type": "text",
        "label": "Code",
        "pattern": "[A-Z]{3}-[0-9]{2}",
        "pattern_message": {
            "en": "Use three capitals, a dash and two digits",
            "pl": "Trzy wielkie litery, myślnik, dwie cyfry",
        },
    },
    {"name": "story", "type": "textarea", "label": "Story", "max_length": 50, "min_length": 5},
    {"name": "email", "type": "email", "label": "Email", "required": True},
    {"name": "phone", "type": "phone", "label": "Phone"},
    {"name": "people", "type": "number", "label": "People", "min": 1, "max": 30},
    {"name": "day", "type": "date", "label": "Day", "min": "2026-01-01", "max": "2030-12-31"},
    {
        "name": "colour",
        "type": "choice",
        "label": "Colour",
        "required": True,
        "choices": [{"value": "red", "label": "Red"}, {"value": "blue", "label": "Blue"}],
    },
    {
        "name": "country",
        "type": "choice",
        "widget": "select",
        "label": "Country",
        "choices": [{"value": "pl", "label": "Poland"}, {"value": "se", "label": "Sweden"}],
    },
    {
        "name": "topics",
        "type": "multichoice",
        "label": "Topics",
        "max_choices": 2,
        "choices": [
            {"value": "a", "label": "A"},
            {"value": "b", "label": "B"},
            {"value": "c", "label": "C"},
        ],
    },
    {"name": "member", "type": "yesno", "label": "Member?"},
    {"name": "cv", "type": "file", "label": "CV", "accept": ["pdf", "docx"], "max_size_mb": 1},
    {
        "name": "agree",
        "type": "consent",
        "text": {
            "en": "I agree to the processing of my data.",
            "pl": "Zgadzam się na przetwarzanie danych.",
        },
    },
]

VALID_ALL_TYPES = {
    "name": "Zażółć Gęślą",
    "code": "ABC-12",
    "story": "Åsa and Łukasz went to the library.",
    "email": "person@example.org",
    "phone": "+48 42 123 45 67",
    "people": "12",
    "day": "2027-01-15",
    "colour": "blue",
    "country": "se",
    "topics": ["a", "c"],
    "member": "yes",
    "agree": "y",
}


def all_types(slug: str = "all-types", **extra) -> dict:
    return base(slug, [{"title": "Everything", "fields": ALL_TYPES_FIELDS}], **extra)


def multi_page(slug: str = "multi", **extra) -> dict:
    """Three pages; page 2 has conditions (nested), page 3 a repeatable group."""
    return base(
        slug,
        [
            {
                "title": "Service",
                "fields": [
                    {
                        "name": "service",
                        "type": "choice",
                        "label": "Service",
                        "required": True,
                        "choices": [
                            {"value": "visit", "label": "Study visit"},
                            {"value": "trip", "label": "Study trip"},
                            {"value": "meeting", "label": "Network meeting"},
                        ],
                    },
                    {"name": "contact_email", "type": "email", "label": "Email", "required": True},
                ],
            },
            {
                "title": "Details",
                "fields": [
                    {
                        "name": "trip_stage",
                        "type": "choice",
                        "label": "Stage",
                        "required": True,
                        "show_if": {"service": ["trip"]},
                        "choices": [
                            {"value": "idea", "label": "Idea"},
                            {"value": "booked", "label": "Booked"},
                        ],
                    },
                    {
                        "name": "departure",
                        "type": "date",
                        "label": "Departure",
                        "required": True,
                        "show_if": {"trip_stage": ["booked"]},
                    },
                    {
                        "name": "visit_focus",
                        "type": "textarea",
                        "label": "Focus",
                        "required": True,
                        "show_if": {"service": ["visit", "meeting"]},
                    },
                    {"name": "notes", "type": "text", "label": "Notes"},
                ],
            },
            {
                "title": "People",
                "fields": [
                    {
                        "name": "participants",
                        "type": "group",
                        "label": "Participants",
                        "item_label": "Participant",
                        "min": 1,
                        "max": 3,
                        "fields": [
                            {
                                "name": "first_name",
                                "type": "text",
                                "label": "First name",
                                "required": True,
                            },
                            {
                                "name": "diet",
                                "type": "choice",
                                "label": "Diet",
                                "required": True,
                                "choices": [
                                    {"value": "none", "label": "None"},
                                    {"value": "other", "label": "Other"},
                                ],
                            },
                            {
                                "name": "diet_details",
                                "type": "text",
                                "label": "Details",
                                "required": True,
                                "show_if": {"diet": ["other"]},
                            },
                        ],
                    },
                ],
            },
        ],
        **extra,
    )
