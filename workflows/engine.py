"""Load workflow definitions and answer what state a new submission starts in.
Transitions, guards and effects arrive with the review dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from flask import current_app

from forms.texts import localise, normalise_text


class WorkflowError(ValueError):
    pass


@dataclass(frozen=True)
class Workflow:
    name: str
    initial: str
    states: dict[str, dict]

    def state_label(self, state: str, language: str) -> str:
        return localise(self.states.get(state, {}).get("label"), language, "en") or state


@cache
def _load(directory: str, name: str) -> Workflow:
    path = Path(directory) / f"{name}.yaml"
    if not path.is_file():
        raise WorkflowError(f"no workflow named '{name}' in {directory}")
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    states = {
        state: {"label": normalise_text((spec or {}).get("label", state))}
        for state, spec in raw["states"].items()
    }
    if raw.get("initial") not in states:
        raise WorkflowError(f"{path}: 'initial' must be one of the states")
    return Workflow(name=raw["name"], initial=raw["initial"], states=states)


def get_workflow(name: str) -> Workflow:
    return _load(current_app.config["FORMDESK_WORKFLOWS_DIR"], name)


def known_workflows() -> set[str]:
    return {p.stem for p in Path(current_app.config["FORMDESK_WORKFLOWS_DIR"]).glob("*.yaml")}
