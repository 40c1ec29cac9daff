"""Workflow definitions: states, transitions (who may take them, from where, to where),
guards and effects. Pure data and rules; services/transitions.py applies them in a
transaction with the locks and the audit log."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml
from flask import current_app

from forms.texts import localise, normalise_text

ACTORS = ("applicant", "reviewer", "admin", "system")
GUARDS = ("capacity",)
# What a state that is waiting for the organiser tells the person who is in it (receipt,
# confirmation page, copies): a decision once the call has closed, or a reply within days.
AWAITS = ("decision_after_deadline", "reply")
# Effects with a target (`email:accepted`) are hooks the mail and document layers fill in;
# the others are follow-ups the transition service runs itself.
BUILTIN_EFFECTS = ("fill_freed_places", "start_offer_clock", "remove_files")
EFFECT_KINDS = ("email", "document")
# Effects that set what emails and letters say (the offer's deadline): they must come before
# any email or document effect of their transition, which is written with the data it finds.
SETS_DATA = ("start_offer_clock",)


class WorkflowError(ValueError):
    pass


@dataclass(frozen=True)
class Transition:
    name: str
    sources: tuple[str, ...]
    target: str
    actors: tuple[str, ...]
    label: dict | None = None
    guards: tuple[str, ...] = ()
    effects: tuple[str, ...] = ()
    comment_required: bool = False
    needs_date: bool = False
    reopens: bool = False  # undoes a decision (leaves a final state); the comment is the reason

    def title(self, language: str) -> str:
        return localise(self.label, language, "en") or self.name.replace("_", " ").capitalize()

    @property
    def informs_applicant(self) -> bool:
        """Writes to the applicant (an email or a letter): staff confirm it after seeing it."""
        return any(effect.split(":", 1)[0] in EFFECT_KINDS for effect in self.effects)


@dataclass(frozen=True)
class InitialChoice:
    target: str
    guards: tuple[str, ...] = ()


@dataclass(frozen=True)
class Capacity:
    holds: tuple[str, ...]
    waitlist: str | None = None
    promote: str | None = None


@dataclass(frozen=True)
class Workflow:
    name: str
    initial: tuple[InitialChoice, ...]
    states: dict[str, dict]
    transitions: tuple[Transition, ...] = ()
    capacity: Capacity | None = None
    offer_hours: int = 48
    extra: dict = field(default_factory=dict)

    def state_label(self, state: str, language: str) -> str:
        return localise(self.states.get(state, {}).get("label"), language, "en") or state

    def awaits(self, state: str) -> str | None:
        return self.states.get(state, {}).get("awaits")

    def reply_within_days(self, state: str) -> int | None:
        return self.states.get(state, {}).get("reply_within_days")

    def is_final(self, state: str) -> bool:
        return bool(self.states.get(state, {}).get("final"))

    def transition(self, name: str) -> Transition | None:
        return next((t for t in self.transitions if t.name == name), None)

    def available(self, state: str, actor: str) -> list[Transition]:
        return [t for t in self.transitions if state in t.sources and actor in t.actors]


def parse(raw: dict, source: str) -> Workflow:
    """Validate a definition; every problem names the file and the place."""
    problems: list[str] = []

    def problem(where: str, message: str) -> None:
        problems.append(f"{source}: {where}: {message}")

    if not isinstance(raw, dict):
        raise WorkflowError(f"{source}: must be a mapping")
    states = {}
    for state, spec in (raw.get("states") or {}).items():
        spec = spec or {}
        states[state] = {
            "label": normalise_text(spec.get("label", state)),
            "final": bool(spec.get("final")),
            **_awaiting(spec, f"states.{state}", problem),
        }
    if not states:
        problem("states", "at least one state is needed")

    initial_raw = raw.get("initial")
    choices = initial_raw if isinstance(initial_raw, list) else [{"to": initial_raw}]
    initial = []
    for index, choice in enumerate(choices):
        target = choice.get("to") if isinstance(choice, dict) else None
        if target not in states:
            problem(f"initial[{index}]", f"'{target}' is not a state")
        guards = tuple(choice.get("guards", ())) if isinstance(choice, dict) else ()
        initial.append(InitialChoice(target, guards))

    transitions = []
    names = set()
    for index, spec in enumerate(raw.get("transitions") or []):
        where = f"transitions[{index}] ({spec.get('name')})"
        name = spec.get("name")
        if not name or name in names:
            problem(where, "each transition needs a unique 'name'")
        names.add(name)
        sources = tuple(spec.get("from") or ())
        for state in (*sources, spec.get("to")):
            if state not in states:
                problem(where, f"'{state}' is not a state")
        actors = tuple(spec.get("by") or ())
        if not actors or set(actors) - set(ACTORS):
            problem(where, f"'by' must list some of {list(ACTORS)}")
        guards = tuple(spec.get("guards") or ())
        if set(guards) - set(GUARDS):
            problem(where, f"unknown guard(s) {sorted(set(guards) - set(GUARDS))}")
        effects = tuple(spec.get("effects") or ())
        for effect in effects:
            kind = effect.split(":", 1)[0]
            if effect not in BUILTIN_EFFECTS and (kind not in EFFECT_KINDS or ":" not in effect):
                problem(where, f"unknown effect '{effect}'")
        for index, effect in enumerate(effects):
            written = [e for e in effects[:index] if e.split(":", 1)[0] in EFFECT_KINDS]
            if effect in SETS_DATA and written:
                problem(
                    where, f"'{effect}' must come before {written}: they are written with its data"
                )
        reopens = bool(spec.get("reopens"))
        if reopens:
            for message in _reopen_problems(sources, spec.get("to"), actors, states):
                problem(where, message)
        transitions.append(
            Transition(
                name=name,
                sources=sources,
                target=spec.get("to"),
                actors=actors,
                label=normalise_text(spec.get("label")),
                guards=guards,
                effects=effects,
                comment_required=reopens or spec.get("comment") == "required",
                needs_date=bool(spec.get("needs_date")),
                reopens=reopens,
            )
        )

    capacity = None
    if raw.get("capacity"):
        spec = raw["capacity"]
        capacity = Capacity(
            tuple(spec.get("holds") or ()), spec.get("waitlist"), spec.get("promote")
        )
        for state in (*capacity.holds, capacity.waitlist):
            if state is not None and state not in states:
                problem("capacity", f"'{state}' is not a state")
        if capacity.promote and capacity.promote not in names:
            problem("capacity.promote", f"no transition named '{capacity.promote}'")
    if problems:
        raise WorkflowError("\n".join(problems))
    return Workflow(
        name=raw.get("name") or Path(source).stem,
        initial=tuple(initial),
        states=states,
        transitions=tuple(transitions),
        capacity=capacity,
        offer_hours=int(raw.get("offer_hours", 48)),
    )


def _awaiting(spec: dict, where: str, problem) -> dict:
    """`awaits` and, for a reply, `reply_within_days` (a whole number of days, 1 or more)."""
    awaits = spec.get("awaits")
    if awaits is None:
        if "reply_within_days" in spec:
            problem(where, "'reply_within_days' needs 'awaits: reply'")
        return {}
    if awaits not in AWAITS:
        problem(where, f"'awaits' must be one of {list(AWAITS)}")
        return {}
    if awaits != "reply":
        return {"awaits": awaits}
    days = spec.get("reply_within_days")
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        problem(where, "'awaits: reply' needs 'reply_within_days', a whole number of days")
        return {"awaits": awaits}
    return {"awaits": awaits, "reply_within_days": days}


def _reopen_problems(sources, target, actors, states: dict) -> list[str]:
    """A reopen undoes a decision: from final states only, back to one that is not, and
    only by an admin (reviewers decide; undoing a decision is an admin's call)."""
    found = []
    if not sources or any(not states.get(s, {}).get("final") for s in sources):
        found.append("'reopens' needs 'from' to list final states only")
    if states.get(target, {}).get("final"):
        found.append("'reopens' needs 'to' to be a state that is not final")
    if tuple(actors) != ("admin",):
        found.append("'reopens' is for 'by: [admin]' only")
    return found


@cache
def _load(directory: str, name: str) -> Workflow:
    path = Path(directory) / f"{name}.yaml"
    if not path.is_file():
        raise WorkflowError(f"no workflow named '{name}' in {directory}")
    return parse(yaml.safe_load(path.read_text(encoding="utf-8")), str(path))


def get_workflow(name: str) -> Workflow:
    return _load(current_app.config["FORMDESK_WORKFLOWS_DIR"], name)


def known_workflows() -> set[str]:
    return {p.stem for p in Path(current_app.config["FORMDESK_WORKFLOWS_DIR"]).glob("*.yaml")}
