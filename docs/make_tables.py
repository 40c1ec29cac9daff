"""The tables of docs/workflows.md, made from the registries: what a workflow state may
declare (workflows.engine), the email events (the service's own and each shipped
workflow's, with their default texts' languages) and the placeholders (forms.placeholders).

    .venv/bin/python docs/make_tables.py        # rewrites the marked parts of the file

tests/test_workflow_states.py checks the file is current."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DOC = ROOT / "docs" / "workflows.md"
MARK = re.compile(r"(<!-- table:(\w+) -->\n).*?(<!-- /table -->)", re.S)


def _row(*cells: str) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def tables() -> dict[str, str]:
    import yaml
    from flask import Flask
    from flask_babel import Babel

    from forms import placeholders
    from mail.texts import SYSTEM_EVENTS, default_texts
    from workflows.engine import STATE_DECLARATIONS, parse

    states = [_row("declaration", "what it means"), _row("---", "---")]
    states += [_row(f"`{key}`", text) for key, text in STATE_DECLARATIONS.items()]

    texts = default_texts()
    events = [_row("event", "sent by", "default texts"), _row("---", "---", "---")]
    for event in SYSTEM_EVENTS:
        events.append(_row(f"`{event}`", "the service", ", ".join(texts.get(event) or {})))
    for path in sorted((ROOT / "workflows" / "definitions").glob("*.yaml")):
        workflow = parse(yaml.safe_load(path.read_text(encoding="utf-8")), str(path))
        for event in workflow.email_events():
            steps = ", ".join(t.name for t in workflow.transitions_sending(event))
            events.append(
                _row(f"`{event}`", f"{workflow.name}: {steps}", ", ".join(texts.get(event) or {}))
            )

    app = Flask(__name__)
    Babel(app)
    with app.app_context():
        rows = [_row("placeholder", "emails", "letters", "what it is")]
        rows.append(_row("---", "---", "---", "---"))
        for name, found in placeholders.REGISTRY.items():
            rows.append(
                _row(
                    "`{" + name + "}`",
                    "yes" if placeholders.EMAIL in found.used_in else "",
                    "yes" if placeholders.LETTER in found.used_in else "",
                    str(found.description),
                )
            )
    return {
        "states": "\n".join(states),
        "events": "\n".join(events),
        "placeholders": "\n".join(rows),
    }


def rendered(text: str) -> str:
    made = tables()
    return MARK.sub(lambda m: m.group(1) + made[m.group(2)] + "\n" + m.group(3), text)


if __name__ == "__main__":
    DOC.write_text(rendered(DOC.read_text(encoding="utf-8")), encoding="utf-8")
