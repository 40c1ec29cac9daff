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
# When the applicant may change their answers in a state: while the call accepts answers, or
# whatever the deadline (the organiser asked for more).
APPLICANT_EDITS = ("while_open", "always")
# Effects with a target (`email:accepted`) are hooks the mail and document layers fill in;
# the others are follow-ups the transition service runs itself.
BUILTIN_EFFECTS = ("fill_freed_places", "remove_files")
EFFECT_KINDS = ("email", "document")
# What a state may declare, and what each means (docs/workflows.md is made from this).
STATE_DECLARATIONS = {
    "label": "the state's name per language, shown to applicants and staff",
    "final": "`true`: nothing follows (a decision); only an admin's `reopens` leaves it",
    "awaits": "what the person waits for, told on the confirmation page and in the receipt: "
    "`decision_after_deadline` or `reply`",
    "reply_within_days": "with `awaits: reply`: the organiser replies within this many days",
    "applicant_edits": "when the applicant may change their answers: `while_open` (while the "
    "call accepts answers) or `always` (the organiser asked for more); absent: never",
    "edit_sends": "the applicant's transition (from this state) that saving changed answers "
    "takes, e.g. `resubmit`; needs `applicant_edits`",
    "holds_place": "`true`: a submission here takes places of the call's `capacity` (its "
    "seats); a transition guarded by `capacity` into such a state is refused when they are "
    "taken",
    "waiting_list": "`{promote: <system transition>}`: the waiting list; a freed place goes to "
    "the first one here (by submission time) who fits, by the system taking `promote`. At "
    "most one state is the waiting list, and only beside states that hold a place",
    "offer_clock": "`{hours: 48, on_expiry: expire_offer}`: entering the state starts a clock "
    "(a place held for the person until they confirm it); when it runs out, the system takes "
    "`on_expiry`, a system transition from this state",
}
STATE_KEYS = tuple(STATE_DECLARATIONS)
# Workflow-level keys of earlier versions, now said by the states themselves.
MOVED_TO_STATES = {
    "capacity": "`holds_place: true` on the states that take a place, "
    "`waiting_list: {promote: …}` on the waiting list",
    "offer_hours": "`offer_clock: {hours: …, on_expiry: …}` on the offered state",
}


class WorkflowError(ValueError):
    pass


# What the workflow's submissions are called in documents ("Registration STR-2030-0004"):
# `submissions_are` in its file. Each kind's headings are whole sentences in the catalogs
# (documents/content.py), so every language can inflect them.
SUBMISSION_KINDS = ("application", "registration", "request")


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
    question: dict | None = None  # what the applicant confirms before taking it, `{reference}`

    def confirm_question(self, language: str) -> str | None:
        return localise(self.question, language, "en")

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
class OfferClock:
    """A state that holds a place for the person until they confirm it: entering it starts
    the clock; when it runs out the system takes `on_expiry`."""

    hours: int
    on_expiry: str


@dataclass(frozen=True)
class Workflow:
    name: str
    initial: tuple[InitialChoice, ...]
    states: dict[str, dict]
    transitions: tuple[Transition, ...] = ()
    capacity: Capacity | None = None
    extra: dict = field(default_factory=dict)
    source: dict | None = None  # the definition as written: a form version keeps it
    submissions_are: str = "application"  # one of SUBMISSION_KINDS

    def state_label(self, state: str, language: str) -> str:
        return localise(self.states.get(state, {}).get("label"), language, "en") or state

    def awaits(self, state: str) -> str | None:
        return self.states.get(state, {}).get("awaits")

    def reply_within_days(self, state: str) -> int | None:
        return self.states.get(state, {}).get("reply_within_days")

    def is_final(self, state: str) -> bool:
        return bool(self.states.get(state, {}).get("final"))

    def applicant_edits(self, state: str) -> str | None:
        """`while_open`, `always` or None (the answers are the organiser's to judge)."""
        return self.states.get(state, {}).get("applicant_edits")

    def edit_sends(self, state: str) -> Transition | None:
        """The applicant's transition that saving changed answers takes (sent back after
        the organiser asked for more), or None when saving leaves the state as it is."""
        name = self.states.get(state, {}).get("edit_sends")
        return self.transition(name) if name else None

    def offer_clock(self, state: str) -> OfferClock | None:
        return self.states.get(state, {}).get("offer_clock")

    def offer_states(self) -> tuple[str, ...]:
        return tuple(s for s in self.states if self.offer_clock(s) is not None)

    def email_events(self) -> tuple[str, ...]:
        """The `email:<event>` effects of the transitions, in the order they are written."""
        found: dict[str, None] = {}
        for step in self.transitions:
            for effect in step.effects:
                kind, _, target = effect.partition(":")
                if kind == "email":
                    found[target] = None
        return tuple(found)

    def transitions_sending(self, event: str) -> list[Transition]:
        return [t for t in self.transitions if f"email:{event}" in t.effects]

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
        where = f"states.{state}"
        if not isinstance(spec, dict):
            problem(where, "must be a mapping of declarations")
            spec = {}
        unknown = sorted(set(spec) - set(STATE_KEYS))
        if unknown:
            problem(
                where, f"unknown declaration(s) {unknown}; a state may declare {list(STATE_KEYS)}"
            )
        states[state] = {
            "label": normalise_text(spec.get("label", state)),
            "final": bool(spec.get("final")),
            **_awaiting(spec, where, problem),
            **_editing(spec, where, problem),
            **_offering(spec, where, problem),
            **_placing(spec, where, problem),
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
        question = spec.get("question")
        if question is not None and "applicant" not in actors:
            problem(where, "'question' is what the applicant confirms: only for 'by: [applicant]'")
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
                question=normalise_text(question) if question is not None else None,
            )
        )

    for key, instead in MOVED_TO_STATES.items():
        if key in raw:
            problem(key, f"is declared by the states now: {instead} (docs/workflows.md)")
    capacity = _capacity(states, problem)
    submissions_are = raw.get("submissions_are", "application")
    if submissions_are not in SUBMISSION_KINDS:
        problem("submissions_are", f"must be one of {list(SUBMISSION_KINDS)}")
    by_name = {t.name: t for t in transitions}
    for state, declared in states.items():
        for message in _declared_transition_problems(state, declared, by_name):
            problem(f"states.{state}", message)
    if problems:
        raise WorkflowError("\n".join(problems))
    return Workflow(
        name=raw.get("name") or Path(source).stem,
        initial=tuple(initial),
        states=states,
        transitions=tuple(transitions),
        capacity=capacity,
        source=raw,
        submissions_are=submissions_are,
    )


def _placing(spec: dict, where: str, problem) -> dict:
    """`holds_place: true` and `waiting_list: {promote: <transition>}`."""
    found = {}
    holds = spec.get("holds_place")
    if holds is not None:
        if not isinstance(holds, bool):
            problem(where, "'holds_place' must be true or false")
        elif holds:
            found["holds_place"] = True
    waiting = spec.get("waiting_list")
    if waiting is not None:
        promote = waiting.get("promote") if isinstance(waiting, dict) else None
        if not promote or set(waiting) != {"promote"}:
            problem(
                where, "'waiting_list' needs 'promote': the system transition that gives it a place"
            )
        else:
            found["waiting_list"] = promote
    return found


def _capacity(states: dict, problem) -> Capacity | None:
    """The places as the states declare them; None when no state holds one."""
    holds = tuple(s for s, d in states.items() if d.get("holds_place"))
    waiting = [s for s, d in states.items() if d.get("waiting_list")]
    if len(waiting) > 1:
        problem("states", f"only one state can be the waiting list, not {waiting}")
    if waiting and not holds:
        problem(f"states.{waiting[0]}", "a waiting list needs states that hold a place")
    if not holds:
        return None
    waitlist = waiting[0] if waiting else None
    promote = states[waitlist]["waiting_list"] if waitlist else None
    return Capacity(holds, waitlist, promote)


def _editing(spec: dict, where: str, problem) -> dict:
    """`applicant_edits` and `edit_sends` (checked against the transitions later)."""
    found = {}
    edits = spec.get("applicant_edits")
    if edits is not None:
        if edits not in APPLICANT_EDITS:
            problem(where, f"'applicant_edits' must be one of {list(APPLICANT_EDITS)}")
        else:
            found["applicant_edits"] = edits
    if spec.get("edit_sends") is not None:
        if edits is None:
            problem(where, "'edit_sends' needs 'applicant_edits': the applicant edits first")
        found["edit_sends"] = spec["edit_sends"]
    return found


def _offering(spec: dict, where: str, problem) -> dict:
    """`offer_clock: {hours: 48, on_expiry: <system transition>}`."""
    clock = spec.get("offer_clock")
    if clock is None:
        return {}
    hours = clock.get("hours") if isinstance(clock, dict) else None
    on_expiry = clock.get("on_expiry") if isinstance(clock, dict) else None
    if not isinstance(hours, int) or isinstance(hours, bool) or hours < 1 or not on_expiry:
        problem(
            where,
            "'offer_clock' needs 'hours' (a whole number, 1 or more) and 'on_expiry' "
            "(the system transition taken when the time runs out)",
        )
        return {}
    return {"offer_clock": OfferClock(hours, on_expiry)}


def _declared_transition_problems(state: str, declared: dict, by_name: dict) -> list[str]:
    """A state's declarations name transitions that leave it, taken by the right actor."""
    found = []
    wanted = []
    if declared.get("edit_sends"):
        wanted.append(("edit_sends", declared["edit_sends"], "applicant"))
    if declared.get("offer_clock"):
        wanted.append(("offer_clock.on_expiry", declared["offer_clock"].on_expiry, "system"))
    if declared.get("waiting_list"):
        wanted.append(("waiting_list.promote", declared["waiting_list"], "system"))
    for key, name, actor in wanted:
        step = by_name.get(name)
        if step is None:
            found.append(f"'{key}': no transition named '{name}'")
        elif state not in step.sources or actor not in step.actors:
            found.append(f"'{key}': '{name}' must go from '{state}' and be 'by: [{actor}]'")
    if declared.get("final") and (declared.get("applicant_edits") or declared.get("offer_clock")):
        found.append("a final state cannot let the applicant edit or hold an offer")
    return found


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


_snapshots: dict[tuple, Workflow] = {}
MAX_CACHED_SNAPSHOTS = 256


def from_snapshot(raw: dict, key: tuple, source: str) -> Workflow:
    """A form version's own copy of its workflow, parsed once per `key` (the version's
    identity: snapshots never change once published)."""
    workflow = _snapshots.get(key)
    if workflow is None:
        if len(_snapshots) >= MAX_CACHED_SNAPSHOTS:
            _snapshots.clear()  # many databases in one process (tests); rebuilt on demand
        workflow = _snapshots[key] = parse(raw, source)
    return workflow


def get_workflow(name: str) -> Workflow:
    return _load(current_app.config["FORMDESK_WORKFLOWS_DIR"], name)


def known_workflows() -> set[str]:
    return {p.stem for p in Path(current_app.config["FORMDESK_WORKFLOWS_DIR"]).glob("*.yaml")}
