"""Two cheap checks against robots that fill in public forms, with no puzzle for people:

- a honeypot: a text field people never see (moved off screen, hidden from assistive
  technology, out of the tab order, no autofill) that must stay empty;
- a minimum time to fill: the first page of a form is refused when it comes back faster
  than FORMDESK_MIN_FILL_SECONDS after that form was first shown in this browser. The moment
  is kept in the session, which Flask signs: it cannot be backdated by the client.

A refused page is shown again with what was typed and a polite message; nothing is stored.
Sending it again a moment later works, so a fast person loses nothing."""

from __future__ import annotations

import logging
import time

from flask import current_app, request, session

from models import Draft

HONEYPOT = "contact-website"  # not a possible field name (those have no hyphen)
SERVED_KEY = "form_served"

log = logging.getLogger(__name__)


def note_served(slug: str) -> None:
    """Remember when this browser was first shown a page of the form `slug`."""
    served = dict(session.get(SERVED_KEY) or {})
    if slug in served:
        return
    served[slug] = int(time.time())
    session[SERVED_KEY] = dict(list(served.items())[-10:])  # the cookie stays small


def refused(slug: str, draft: Draft | None) -> bool:
    """True when this POST looks like a robot's. Drafts already started passed the clock."""
    if request.form.get(HONEYPOT):
        log.info("public form %s: honeypot filled, nothing stored", slug)
        return True
    minimum = float(current_app.config["FORMDESK_MIN_FILL_SECONDS"] or 0)
    if draft is not None or minimum <= 0:
        return False
    started = (session.get(SERVED_KEY) or {}).get(slug)
    if not isinstance(started, int) or time.time() - started < minimum:
        log.info("public form %s: sent too soon after it was shown, nothing stored", slug)
        return True
    return False


def honeypot_filled() -> bool:
    return bool(request.form.get(HONEYPOT))
