"""Every transition of a call's workflow, taken the way people take them: staff in the
dashboard, the applicant on their page, the system when a place frees or an offer runs out.
What to take, and in which order, is planned from the workflow's own definition
(workflows/definitions/*.yaml), so a new workflow is walked by the same code."""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import requests
import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from tests.journey import Journey, Plan, holds, upload_for, value_for

ROOT = Path(__file__).resolve().parent.parent
STAFF = ("reviewer", "admin")
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
REFERENCE = re.compile(r"[A-Z]{2,8}-\d{4}-\d{4}")


@dataclass
class Transition:
    name: str
    sources: list[str]
    target: str
    by: list[str]
    effects: list[str]
    label: dict
    comment_required: bool
    needs_date: bool

    @property
    def by_system(self) -> bool:
        return self.by == ["system"]

    @property
    def by_staff(self) -> bool:
        return any(role in STAFF for role in self.by)

    @property
    def emails(self) -> list[str]:
        return [e.split(":", 1)[1] for e in self.effects if e.startswith("email:")]

    @property
    def makes_letter(self) -> bool:
        return any(e.startswith("document:") for e in self.effects)

    @property
    def frees_places(self) -> bool:
        return "fill_freed_places" in self.effects


@dataclass
class Workflow:
    raw: dict
    transitions: list[Transition] = field(default_factory=list)

    @classmethod
    def named(cls, name: str) -> Workflow:
        path = ROOT / "workflows" / "definitions" / f"{name}.yaml"
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        steps = [
            Transition(
                t["name"],
                t["from"],
                t["to"],
                t.get("by", []),
                t.get("effects", []),
                t.get("label", {}),
                t.get("comment") == "required",
                bool(t.get("needs_date")),
            )
            for t in raw["transitions"]
        ]
        return cls(raw, steps)

    @property
    def initial(self) -> str:
        """The state a new submission lands in while places are free."""
        initial = self.raw["initial"]
        return initial if isinstance(initial, str) else initial[0]["to"]

    @property
    def initial_states(self) -> list[str]:
        """Every state a new submission may land in (the waiting list when places are gone)."""
        initial = self.raw["initial"]
        return [initial] if isinstance(initial, str) else [choice["to"] for choice in initial]

    @property
    def capacity(self) -> dict:
        """The places as the states declare them (`holds_place`, `waiting_list`)."""
        states = {name: spec or {} for name, spec in self.raw["states"].items()}
        holds = [name for name, spec in states.items() if spec.get("holds_place")]
        if not holds:
            return {}
        found = {"holds": holds}
        for name, spec in states.items():
            if spec.get("waiting_list"):
                found |= {"waitlist": name, "promote": spec["waiting_list"]["promote"]}
        return found

    def label(self, state: str, language: str) -> str:
        return self.raw["states"][state]["label"][language]

    def step(self, name: str) -> Transition:
        return next(t for t in self.transitions if t.name == name)

    def by_people(self) -> list[Transition]:
        return [t for t in self.transitions if not t.by_system]

    def system_steps(self) -> list[Transition]:
        return [t for t in self.transitions if t.by_system]


def walks(workflow: Workflow, start: str) -> list[list[str]]:
    """Paths of transitions people take, each from `start`, that together take every one of
    them that can be reached from there: a path goes on while it finds a transition not yet
    taken (preferring one that does not end the submission), else ends."""
    todo = {t.name for t in workflow.by_people()}
    paths = []
    while True:
        state, path = start, []
        while True:
            route = _route_to_new(workflow, state, todo)
            if route is None:
                break
            for name in route:
                path.append(name)
                todo.discard(name)
                state = workflow.step(name).target
        if not path:
            return paths
        paths.append(path)


def _route_to_new(workflow: Workflow, state: str, todo: set[str]) -> list[str] | None:
    """The shortest way from `state` that ends in a transition not yet taken; among
    transitions from the same state, one that leads somewhere with more to take first."""
    seen, queue = {state}, deque([(state, [])])
    while queue:
        here, route = queue.popleft()
        steps = [t for t in workflow.by_people() if here in t.sources]
        fresh = [t for t in steps if t.name in todo]
        if fresh:
            fresh.sort(key=lambda t: -_reach(workflow, t.target, todo - {t.name}))
            return [*route, fresh[0].name]
        for t in steps:
            if t.target not in seen:
                seen.add(t.target)
                queue.append((t.target, [*route, t.name]))
    return None


def _reach(workflow: Workflow, state: str, todo: set[str]) -> int:
    """How many transitions not yet taken can be reached from `state`."""
    seen, stack, found = {state}, [state], set()
    while stack:
        here = stack.pop()
        for t in workflow.by_people():
            if here in t.sources:
                if t.name in todo:
                    found.add(t.name)
                if t.target not in seen:
                    seen.add(t.target)
                    stack.append(t.target)
    return len(found)


# ---- applying without a browser: the extra submissions a walk needs -------------------------


def form_data(journey: Journey, page_spec, items: int) -> tuple[dict, dict]:
    """What a browser posts for one page: (fields, files)."""
    data, files = {}, {}
    for f in page_spec.fields:
        if not f.is_input or not holds(journey.spec, f.show_if, journey.answers):
            continue
        if f.type == "group":
            wanted = min(max(items, f.options.get("min") or 1), f.options.get("max") or items)
            group = []
            for index in range(wanted):
                item = {}
                for child in f.children:
                    if child.is_input and holds(journey.spec, child.show_if, item):
                        item[child.name] = value_for(child, journey.plan, index)
                        _put(data, files, f"{f.name}-{index}-{child.name}", child, item[child.name])
                group.append(item)
            journey.answers[f.name] = group
            continue
        value = value_for(f, journey.plan)
        journey.answers[f.name] = value
        _put(data, files, f.name, f, value)
    return data, files


def _put(data: dict, files: dict, key: str, f, value) -> None:
    if isinstance(value, dict):  # a type's example answer, by input
        data.update({key + suffix: text for suffix, text in value.items()})
    elif f.type == "file":
        upload = upload_for(f)
        files[key] = (upload["name"], upload["buffer"], upload["mimeType"])
    elif f.type == "consent":
        data[key] = "y"
    else:
        data[key] = value


def apply_over_http(base: str, spec, language: str, tag: str, items: int = 2) -> Journey:
    """One more application, as a browser would post it; returns its reference and link."""
    plan = Plan(language, {}, None, items=items)
    journey = Journey(spec, plan, base)
    journey.email_override = f"journey-{language}-{tag}@example.org"
    person = requests.Session()
    person.headers["Accept-Language"] = language
    page_url = f"{base}/calls/{spec.slug}/page/1?lang={language}"
    html = person.get(page_url, timeout=60).text
    for page_spec in spec.pages:
        url = f"{base}/calls/{spec.slug}/page/{page_spec.index + 1}"
        data, files = form_data(journey, page_spec, items)
        for key in list(data):
            if key == spec.raw["applicant_email_field"]:
                data[key] = journey.email_override
        response = person.post(
            url,
            data={**data, "action": "continue", "csrf_token": CSRF.search(html).group(1)},
            files=files or None,
            timeout=60,
        )
        html = response.text
        assert "error-summary" not in html, f"{url}: {html[html.find('error-summary') :][:600]}"
    response = person.post(
        f"{base}/calls/{spec.slug}/check",
        data={"csrf_token": CSRF.search(html).group(1)},
        timeout=120,
    )
    assert response.url.endswith("/confirmation"), response.text[:600]
    journey.reference = REFERENCE.search(response.text).group(0)
    journey.confirmation = _main_text(response.text)
    journey.status_link = re.search(r'href="([^"]*/s/[^"]+)"', response.text).group(1)
    return journey


# ---- the walk ---------------------------------------------------------------------------------

STATE = re.compile(r'class="tag state-([a-z_]+)"')


class Walk:
    """Takes every transition of a call's workflow on real submissions and hands each email,
    letter and page that results to `read(where, text, case)`."""

    def __init__(self, first: Journey, workflow: Workflow, staff_page, inbox, read, database):
        self.spec = first.spec
        self.language = first.language
        self.base = first.base
        self.workflow = workflow
        self.staff = staff_page
        self.inbox = inbox
        self.read = read
        self.database = database
        self.cases: list[Journey] = [first]
        first.state = self.state_of(first)
        self.taken: list[tuple[str, str]] = []  # (transition, reference), in order
        self.seen_mail: dict[str, int] = {}
        self.engine = None

    # -- cases
    def new_case(self, items: int = 1) -> Journey:
        case = apply_over_http(self.base, self.spec, self.language, f"c{len(self.cases)}", items)
        case.state = self.state_of(case)
        self.cases.append(case)
        self.read("confirmation page", case.confirmation, case, state=case.state)
        (receipt,) = self.mail_for(case, 1)
        self.read_email("receipt", receipt, case, letter=False, state=case.state)
        return case

    def state_of(self, case: Journey) -> str:
        html = requests.get(case.status_link, timeout=60).text
        match = STATE.search(html)
        assert match, f"{case.reference}: the applicant's page shows no state"
        return match.group(1)

    def seats(self, case: Journey) -> int:
        field_name = self.spec.raw.get("seats_field")
        return len(case.answers.get(field_name) or []) if field_name else 1

    def free_seats(self) -> int | None:
        if not self.spec.capacity:
            return None
        holds = self.workflow.capacity.get("holds", [])
        return self.spec.capacity - sum(self.seats(c) for c in self.cases if c.state in holds)

    def waiting_case(self) -> Journey:
        """A case in the waiting list: a new submission lands there once the call's places
        are taken, where the workflow says so; else through the transitions people take."""
        waitlist = self.workflow.capacity["waitlist"]
        route = _route_to_state(self.workflow, self.workflow.initial, waitlist)
        if route is not None and waitlist not in self.workflow.initial_states:
            case = self.new_case()
            for name in route:
                self.take(case, self.workflow.step(name))
            return case
        group_max = self._seats_per_case()
        while (free := self.free_seats()) > 0:
            self.new_case(items=min(group_max, free))
        case = self.new_case()
        assert case.state == waitlist, f"{case.reference} is {case.state} with no place free"
        return case

    def _seats_per_case(self) -> int:
        field_name = self.spec.raw.get("seats_field")
        for page in self.spec.pages:
            for f in page.fields:
                if f.name == field_name:
                    return f.options.get("max") or 1
        return 1

    # -- taking transitions
    def take(self, case: Journey, step: Transition) -> None:
        if case.state not in step.sources:
            raise AssertionError(f"{step.name} from {case.state}: not allowed there")
        waiting = self._waiting_in_order() if step.frees_places else []
        if step.by_staff:
            self._in_dashboard(case, step)
        elif "applicant" in step.by:
            self._as_applicant(case, step)
        else:
            raise AssertionError(f"{step.name} is the system's to take")
        capacity = self.workflow.capacity
        if step.frees_places and step.target == capacity.get("waitlist"):
            # back on the waiting list (a reopened registration): it takes its place in the
            # queue, and a free place is offered at once, its email after this step's
            holding = case.state
            case.state = step.target
            queue = sorted([*waiting, case], key=self.cases.index)
            case.state = holding
            self._arrived(case, step, queued=True)
            self._promotions([c for c in queue if c is not case])
            return
        self._arrived(case, step)
        if waiting:
            self._promotions(waiting)

    def _arrived(self, case: Journey, step: Transition, queued: bool = False) -> None:
        case.state = self.state_of(case)
        promote = self.workflow.capacity.get("promote")
        promoted = queued and promote and case.state == self.workflow.step(promote).target
        if not promoted:
            assert case.state == step.target, (
                f"{case.reference}: {step.name} should lead to {step.target}, it is {case.state}"
            )
        self.taken.append((step.name, case.reference))
        steps = [step, self.workflow.step(promote)] if promoted else [step]
        if promoted:
            self.taken.append((promote, case.reference))
        emails = [(s, e) for s in steps for e in s.emails]
        for (taken, _), message in zip(emails, self.mail_for(case, len(emails)), strict=True):
            self.read_email(f"{taken.name} email", message, case, letter=taken.makes_letter)
        self.read_page(f"applicant's page after {step.name}", case)
        if any(s.makes_letter for s in steps):
            self.read_letter_docx(f"{step.name} letter DOCX", case)

    def _waiting_in_order(self) -> list[Journey]:
        waitlist = self.workflow.capacity.get("waitlist")
        return [c for c in self.cases if c.state == waitlist]

    def _promotions(self, waiting: list[Journey]) -> None:
        """After a place is freed, those waiting get it in order while it lasts."""
        promote = self.workflow.step(self.workflow.capacity["promote"])
        for case in waiting:
            if self.free_seats() < self.seats(case):
                break
            self._wait_for_state(case, promote.target)
            self._arrived(case, promote)

    def _wait_for_state(self, case: Journey, state: str, timeout: float = 60) -> None:
        import time

        deadline = time.monotonic() + timeout
        while self.state_of(case) != state:
            assert time.monotonic() < deadline, f"{case.reference} never reached {state}"
            time.sleep(0.3)

    def _in_dashboard(self, case: Journey, step: Transition) -> None:
        page = self.staff
        page.goto(f"{self.base}/dashboard/submissions?q={case.reference}")
        with page.expect_navigation():
            page.get_by_role("link", name=case.reference, exact=True).first.click()
        form = page.locator("form.transition", has=page.locator(
            f'input[name="transition"][value="{step.name}"]'))  # fmt: skip
        assert form.count() == 1, f"the dashboard offers no {step.name} from {case.state}"
        label = step.label.get(self.language)
        assert label, f"transition {step.name} has no {self.language} label"
        self.read("dashboard", page.locator("main").inner_text(), case)
        if step.needs_date:
            form.locator('input[name="date"]').fill("2030-05-20")
        form.locator("textarea").fill(f"Journey comment {step.name}")
        with page.expect_navigation():
            form.get_by_role("button", name=label, exact=True).click()
        confirm = page.locator('form:has([name="confirmed"])')
        if confirm.count():  # a decision shows what it will send before it is taken
            self.read("decision preview", page.locator("main").inner_text(), case)
            with page.expect_navigation():
                confirm.locator("button[type=submit]").first.click()
        errors = page.locator(".error-summary, .error-message")
        assert errors.count() == 0, f"{step.name}: {errors.first.inner_text()}"

    def _as_applicant(self, case: Journey, step: Transition) -> None:
        page = self.staff.context.browser.new_page(locale=self.language)
        try:
            page.goto(case.status_link)
            with page.expect_navigation():
                page.locator(f'a[href$="/actions/{step.name}"]').click()
            self.read(f"{step.name} page", page.locator("main").inner_text(), case)
            with page.expect_navigation():
                page.locator("main form button[type=submit]").first.click()
        finally:
            page.close()

    def expire_offer(self, case: Journey, step: Transition) -> None:
        """Let the offer's clock run out (its deadline moved into the past in the database)
        and wait for the system to take `step`."""
        waiting = self._waiting_in_order() if step.frees_places else []
        with self._engine().begin() as connection:
            moved = connection.execute(
                text(
                    "UPDATE submissions SET offer_expires_at = :past"
                    " WHERE reference = :reference AND offer_expires_at IS NOT NULL"
                ),
                {"past": datetime(2000, 1, 1), "reference": case.reference},
            )
            assert moved.rowcount == 1, f"{case.reference} has no offer deadline"
        self._wait_for_state(case, step.target, timeout=90)
        self._arrived(case, step)
        if waiting:
            self._promotions(waiting)

    # -- reading
    def mail_for(self, case: Journey, count: int, timeout: float = 90) -> list:
        import time

        from tests.journey import strict_message

        deadline = time.monotonic() + timeout
        start = self.seen_mail.get(case.email, 0)
        while True:
            mine = [e for e in list(self.inbox.envelopes) if case.email in e.rcpt_tos]
            if len(mine) >= start + count or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        new = mine[start:]
        assert len(new) == count, (
            f"{case.reference}: {len(new)} emails, expected {count}: "
            + ", ".join(str(strict_message(e.content)["Subject"]) for e in new)
        )
        self.seen_mail[case.email] = len(mine)
        return [strict_message(e.content) for e in new]

    def read_email(
        self, where: str, message, case: Journey, letter: bool, state: str | None = None
    ) -> None:
        from tests.journey import attachments, body_text, pdf_text

        self.read(f"{where} subject", str(message["Subject"]), case)
        self.read(where, body_text(message), case, name=True, sender=message, state=state)
        if letter:
            pdfs = [d for n, d in attachments(message).items() if n.endswith(".pdf")]
            assert pdfs, f"{where}: the decision email carries no letter"
            self.read(f"{where}: letter PDF", pdf_text(pdfs[0]), case, name=True)

    def read_page(self, where: str, case: Journey) -> None:
        html = requests.get(case.status_link, timeout=60).text
        self.read(where, _main_text(html), case, state=case.state)

    def _engine(self):
        """The server's database, reached directly only where a person cannot: to let a
        clock run out, and to find the call's id for its export links."""
        if self.engine is None:
            self.engine = create_engine(self.database, poolclass=NullPool)
        return self.engine

    def read_letter_docx(self, where: str, case: Journey) -> None:
        """The newest decision letter on the applicant's page, as DOCX."""
        from html import unescape

        from tests.journey import docx_text

        html = requests.get(case.status_link, timeout=60).text
        links = re.findall(r'href="([^"]+/letter_docx)"', html)
        assert links, f"{where}: the applicant's page offers no letter"
        response = requests.get(_absolute(self.base, unescape(links[-1])), timeout=120)
        assert response.status_code == 200, f"{where}: {response.status_code}"
        self.read(where, docx_text(response.content), case, name=True)

    def read_exports(self) -> None:
        """The call's CSV and XLSX exports, as staff download them: every case is there."""
        import csv
        import io

        from openpyxl import load_workbook

        with self._engine().connect() as connection:
            form_id = connection.execute(
                text("SELECT id FROM forms WHERE slug = :slug"), {"slug": self.spec.slug}
            ).scalar_one()
        staff = self.staff.request
        exported = staff.get(f"{self.base}/dashboard/exports/{form_id}.csv").text()
        rows = list(csv.reader(io.StringIO(exported)))
        workbook = load_workbook(
            io.BytesIO(staff.get(f"{self.base}/dashboard/exports/{form_id}.xlsx").body()),
            read_only=True,
        )
        cells = [
            str(value)
            for sheet in workbook.worksheets
            for row in sheet.iter_rows(values_only=True)
            for value in row
            if value is not None
        ]
        for kind, found in (("CSV", {c for row in rows for c in row}), ("XLSX", set(cells))):
            missing = [c.reference for c in self.cases if c.reference not in found]
            assert not missing, f"{kind} export lacks {missing}"
        self.read("CSV export header", " | ".join(rows[0]), self.cases[0])


def _main_text(html: str) -> str:
    from html import unescape

    return unescape(re.sub(r"<[^>]+>", " ", html.split("<main", 1)[-1].split("</main>")[0]))


def _absolute(base: str, link: str) -> str:
    return link if link.startswith("http") else base + link


def _route_to_state(workflow: Workflow, start: str, goal: str) -> list[str] | None:
    seen, queue = {start}, deque([(start, [])])
    while queue:
        here, route = queue.popleft()
        if here == goal:
            return route
        for t in workflow.by_people():
            if here in t.sources and t.target not in seen:
                seen.add(t.target)
                queue.append((t.target, [*route, t.name]))
    return None


def walk_everything(walk: Walk) -> None:
    """Every transition of the workflow, starting with the person's own submission."""
    workflow = walk.workflow
    waitlist, promote = workflow.capacity.get("waitlist"), workflow.capacity.get("promote")
    first = True
    for path in walks(workflow, workflow.initial):
        case = walk.cases[0] if first else walk.new_case()
        first = False
        for name in path:
            step = workflow.step(name)
            if case.state not in step.sources:
                break  # the system moved it on (a place offered at once): walked below
            if step.frees_places and promote and not walk._waiting_in_order():
                walk.waiting_case()  # someone waits, so a freed place is given on
            walk.take(case, step)
    if not waitlist:
        return
    # what people do while waiting, and once a place is offered
    for path in walks(workflow, waitlist):
        if all(name in {t for t, _ in walk.taken} for name in path):
            continue
        case = walk.waiting_case()
        for name in path:
            if case.state not in workflow.step(name).sources:
                break
            walk.take(case, workflow.step(name))
    offered = workflow.step(promote).target
    for path in walks(workflow, offered):
        if all(name in {t for t, _ in walk.taken} for name in path):
            continue
        case = _offered_case(walk)
        for name in path:
            if case.state not in workflow.step(name).sources:
                break
            walk.take(case, workflow.step(name))
    # what the system does by itself once an offer is made (its clock)
    for step in workflow.system_steps():
        if step.name == promote or step.name in {t for t, _ in walk.taken}:
            continue
        case = _offered_case(walk)
        assert case.state in step.sources
        walk.expire_offer(case, step)


def walk_everything_and_export(walk: Walk) -> None:
    walk_everything(walk)
    walk.read_exports()


def _offered_case(walk: Walk) -> Journey:
    """A case that has been offered a freed place: one waits, then a holder gives theirs up."""
    workflow = walk.workflow
    promote = workflow.step(workflow.capacity["promote"])
    case = walk.waiting_case()
    holders = [
        c for c in walk.cases
        if c.state in workflow.capacity["holds"] and c is not case and walk.seats(c) >= 1
    ]  # fmt: skip
    freeing = next(
        (t for t in workflow.by_people() if t.frees_places and t.by_staff
         and any(h.state in t.sources for h in holders)),
        None,
    )  # fmt: skip
    assert freeing, "no transition people take frees a place"
    holder = next(h for h in holders if h.state in freeing.sources)
    walk.take(holder, freeing)
    assert case.state == promote.target, f"{case.reference} was not offered the freed place"
    return case
