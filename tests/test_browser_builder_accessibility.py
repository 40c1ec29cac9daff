"""The call builder's accessibility in a real browser (Debian's chromium, Playwright).

A crawler signs in as an admin, starts at /dashboard/build/ and follows every GET link
under /dashboard/build/ for three calls: a demo call, a call made from scratch and a call
with a question of every field type the builder offers (built through its own pages, so a
field type or a page added later is covered without changing this test). On every page:

- axe-core finds no violation of its WCAG 2.0/2.1 A and AA rules (tests/js), one h1, no
  skipped heading level;
- nothing is wider than the window at 320 CSS px (400 % zoom of a 1280 px window);
- Tab reaches every link, button and field, in the page's order, and each shows the focus;
- a page with a form, sent empty or with nonsense, shows each error beside its field (and
  the result passes the same checks).

Then two tasks: a question is moved and its label saved with the keyboard alone; and two
admins on one builder page: the second saves, the first is warned (role=status) within
seconds, and the first's save is refused with the conflict message, its input kept.

One server serves the whole module (the draft watch asks every second)."""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import urldefrag, urlparse

import pytest

from tests.browser import flask_server
from tests.conftest import need
from tests.test_browser_accessibility import (
    ADMIN,
    AXE_JS,
    PASSWORD,
    WIDE,
    Audit,
    _flask,
    sign_in,
)

try:
    from playwright.sync_api import Page, expect
except ImportError:  # the `browser` fixture reports it
    Page = expect = None

SECOND_ADMIN = "second.admin@example.org"
BUILD = "/dashboard/build/"
DEMO_SLUG = "msas"
SCRATCH = "from-scratch"
EVERY_TYPE = "every-type"
# A POST that would remove, publish or end something, or only moves: not sent with nonsense.
# The page's own forms (not the dashboard's "Sign out").
FORM = "main form:not(.dashboard-nav form)"
NOT_SENT = re.compile(r"/(delete|archive|unarchive|publish|close|link|move)(/|$|\?)")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("builder-a11y")
    (root / "uploads").mkdir()
    server = flask_server(root / "instance", root / "uploads", root / "server.log")
    server.env["FLASK_FORMDESK_DRAFT_WATCH_SECONDS"] = "1"
    server.start(timeout=60)
    try:
        for email in (ADMIN, SECOND_ADMIN):
            _flask(
                server, "users", "create", email, "--role", "admin",
                stdin=f"{PASSWORD}\n{PASSWORD}\n",
            )  # fmt: skip
        yield server
    finally:
        server.stop()
        print(f"--- server log ({server.log}) ---\n{server.log_tail(80)}")  # shown on failure


@pytest.fixture(scope="module")
def axe_source() -> str:
    need(AXE_JS.is_file(), f"axe-core is not installed ({AXE_JS}): run `npm ci --prefix tests/js`")
    return AXE_JS.read_text(encoding="utf-8")


def admin_context(browser, axe_source=None, width=1100):
    ctx = browser.new_context(
        locale="en-GB", viewport={"width": width, "height": 900}, bypass_csp=bool(axe_source)
    )
    ctx.set_default_timeout(15_000)
    if axe_source:
        ctx.add_init_script(script=axe_source)
    return ctx


def signed_in(page: Page, base: str, email: str = ADMIN) -> None:
    if email == ADMIN:
        sign_in(page, base, "en")
        return
    page.goto(f"{base}/login?lang=en")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    with page.expect_navigation():
        page.locator(f"{FORM} button[type=submit]").click()


# --- making calls through the builder's own pages ---------------------------------------------


def create_call(page: Page, base: str, slug: str, source: str = "blank", demo: str = "") -> None:
    page.goto(base + BUILD + "new")
    page.locator(f"#source-{source}").check()
    if demo:
        page.locator("#demo").select_option(demo)
    page.locator("#slug").fill(slug)
    page.locator("#title").fill(slug.replace("-", " ").capitalize())
    page.locator("#language").select_option("en")
    with page.expect_navigation():
        page.locator(f"{FORM} button[type=submit]").click()
    assert page.url.rstrip("/").endswith(f"{BUILD}{slug}"), page.url


def fill_empty_texts(page: Page, text: str, only: str = "") -> None:
    """Type `text` into every visible empty text field of the page's main form (or only
    those inside `only`: the texts in each language)."""
    scope = f"{FORM} {only}".strip()
    for field in page.locator(f"{scope} input[type=text], {scope} textarea").all():
        if field.is_visible() and not field.input_value():
            field.fill(text)


def save(page: Page) -> None:
    form = (
        page.locator(f"{FORM}[method=post]")
        .filter(has=page.locator("button[value=save], button[type=submit]"))
        .first
    )
    buttons = form.locator('button[value="save"]')
    button = buttons.first if buttons.count() else form.locator("button[type=submit]").last
    with page.expect_navigation():
        button.click()


def build_call_with_every_type(page: Page, base: str) -> list[str]:
    """A blank call, one page, and a question of each type the "add a question" page
    offers (a group gets one question inside). Returns the types that could not be added."""
    create_call(page, base, EVERY_TYPE)
    questions = f"{base}{BUILD}{EVERY_TYPE}/questions"
    page.goto(questions)
    if not page.locator(".builder-page").count():
        page.goto(f"{questions}/pages/new")
        fill_empty_texts(page, "About you")
        save(page)
    page.goto(f"{questions}/add/0")
    kinds = [r.get_attribute("value") for r in page.locator("input[name=type]").all()]
    assert kinds, "the builder offers no field type"
    refused = []
    for number, kind in enumerate(kinds, 1):
        page.goto(f"{questions}/add/0")
        page.locator(f'input[name=type][value="{kind}"]').check()
        with page.expect_navigation():
            page.locator(f"{FORM} button[type=submit]").click()
        fill_empty_texts(page, f"Question {number}: {kind}", only=".builder-text")
        save(page)
        if "/add/" in page.url:  # not added: fill the texts asked for (choices) and again
            fill_empty_texts(page, f"Choice {number}", only=".builder-text")
            save(page)
        if "/add/" in page.url:  # still not added (a saved question opens its own page)
            refused.append(kind)
    # The group (if any) gets a question of its own.
    page.goto(questions)
    group = page.locator(".builder-question", has_text="group").locator("a").first
    if group.count():
        group.click()
        page.wait_for_load_state()
        add = page.locator("#children a.button")
        if add.count():
            add.click()
            page.locator("input[name=type]").first.check()
            with page.expect_navigation():
                page.locator(f"{FORM} button[type=submit]").click()
            fill_empty_texts(page, "A question in each item", only=".builder-text")
            save(page)
    return refused


# --- the checks ------------------------------------------------------------------------------

# Every element Tab should stop at, marked with its place in the page's order (data-kb);
# the radios of one group are one stop.
MARK_STOPS = """() => {
  const all = [...document.querySelectorAll(
    'a[href], button, input, select, textarea, summary, iframe, [tabindex]')];
  const stops = all.filter(e => !e.disabled && e.type !== 'hidden' && e.tabIndex >= 0
    && e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden'
    && !e.closest('[inert], [hidden]'));
  const groups = {}; const out = [];
  stops.forEach(e => {
    if (e.type === 'radio' && e.name) {
      const key = (e.form ? e.form.action : '') + '|' + e.name;
      if (key in groups) { e.dataset.kb = groups[key]; return; }
      groups[key] = out.length;
    }
    e.dataset.kb = out.length;
    out.push(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' "'
      + (e.innerText || e.value || e.name || '').trim().slice(0, 40) + '"');
  });
  return out;
}"""

# Where the focus goes, and whether it shows there, from the top of the page on.
RECORD_FOCUS = """() => {
  // Tab goes on from where the focus was (an error summary has it after a refused save):
  // start from the top of the page instead.
  let start = document.getElementById('__tab-start');
  if (!start) {
    start = document.createElement('span');
    start.id = '__tab-start';
    start.tabIndex = -1;
    document.body.prepend(start);
  }
  start.focus();
  window.scrollTo(0, 0);
  window.__focusLog = [];
  if (window.__focusListening) return;
  window.__focusListening = true;
  document.addEventListener('focusin', event => {
    const e = event.target;
    if (e.id === '__tab-start') return;
    const style = getComputedStyle(e);
    window.__focusLog.push({kb: e.dataset.kb === undefined ? null : Number(e.dataset.kb),
      what: e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' "'
            + (e.innerText || e.value || e.name || '').trim().slice(0, 40) + '"',
      outlined: (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0)
                || style.boxShadow !== 'none'});
  });
}"""

# Each error message beside its field: the message and a field share a parent close by
# (the field's own block or fieldset), and every link of the summary leads to something.
ERRORS_PLACED = """() => {
  const problems = [];
  const messages = [...document.querySelectorAll('main .error-message')]
    .filter(m => m.getClientRects().length && !m.closest('.error-summary'));
  for (const m of messages) {
    let box = m.parentElement, near = false;
    for (let up = 0; box && up < 3 && !near; up++, box = box.parentElement) {
      near = [...box.querySelectorAll('input:not([type=hidden]), select, textarea')]
        .some(f => f.getClientRects().length);
      if (box.tagName === 'FORM' || box.tagName === 'MAIN') break;
    }
    if (!near) problems.push('not beside a field: "' + m.innerText.trim().slice(0, 80) + '"');
  }
  for (const a of document.querySelectorAll('.error-summary a[href^="#"]')) {
    const id = decodeURIComponent(a.getAttribute('href').slice(1));
    if (!document.getElementById(id)) problems.push('summary link to nothing: #' + id);
  }
  return {messages: messages.length, problems};
}"""


class Crawl:
    def __init__(self, page: Page, base: str, audit: Audit):
        self.page, self.base, self.audit = page, base, audit
        self.problems: list[str] = []
        self.counts = Counter()

    def all_checks(self, what: str) -> None:
        self.audit.check(self.page, what)
        self.counts["axe"] += 1
        self.reflow(what)

    def reflow(self, what: str) -> None:
        page = self.page
        page.set_viewport_size({"width": 320, "height": 700})
        try:
            page.wait_for_timeout(50)
            found = page.evaluate(WIDE)
            if found["scroll"] > 320 or found["wide"]:
                self.problems.append(f"320 px, {what} ({page.url}): {found}")
            self.counts["320 px"] += 1
        finally:
            page.set_viewport_size({"width": 1100, "height": 900})

    def keyboard(self, what: str) -> None:
        page = self.page
        stops = page.evaluate(MARK_STOPS)
        page.evaluate(RECORD_FOCUS)
        # A date field takes a Tab per part, the live preview adds links: press until the
        # last stop is reached or the focus comes round again.
        for press in range(3 * len(stops) + 20):
            page.keyboard.press("Tab")
            if press % 4 != 3:
                continue
            log = page.evaluate("() => window.__focusLog.map(f => f.kb)")
            if log and (log[-1] == len(stops) - 1 or (len(log) > 1 and log[-1] == 0)):
                break
        reached: list[int] = []
        for focused in page.evaluate("() => window.__focusLog"):
            if not focused["outlined"]:
                self.problems.append(
                    f"keyboard, {what} ({page.url}): no visible focus on {focused['what']}"
                )
            if focused["kb"] is None:
                continue  # something the script added after marking (the live preview)
            if reached and focused["kb"] <= reached[-1]:
                if focused["kb"] == 0:
                    break  # round again
                self.problems.append(
                    f"keyboard, {what} ({page.url}): Tab went back from "
                    f"{stops[reached[-1]]} to {focused['what']}"
                )
            reached.append(focused["kb"])
        missed = [stops[i] for i in range(len(stops)) if i not in set(reached)]
        if missed:
            self.problems.append(
                f"keyboard, {what} ({page.url}): Tab never reached {len(missed)} of "
                f"{len(stops)}: {missed[:5]}"
            )
        self.counts["keyboard"] += 1

    def send_nonsense(self, what: str) -> None:
        """The page's biggest form that takes input, sent with its texts emptied and
        nonsense in its number fields; errors must stand beside their fields."""
        page = self.page
        best, best_size = None, 0
        for form in page.locator(FORM).all():
            method = (form.get_attribute("method") or "get").lower()
            action = form.get_attribute("action") or page.url
            if method != "post" or NOT_SENT.search(urlparse(action).path):
                continue
            fields = form.locator(
                "input[type=text], input[type=email], input[type=date], input[type=time], "
                "input[type=number], input:not([type]), textarea"
            )
            size = sum(1 for f in fields.all() if f.is_visible())
            if size > best_size:
                best, best_size = form, size
        if best is None:
            return
        for field in best.locator(
            "input[type=text], input[type=email], input:not([type]), input[type=number], "
            "input[type=date], input[type=time], textarea"
        ).all():
            if not field.is_visible():
                continue
            numeric = field.get_attribute("inputmode") in ("numeric", "decimal")
            kind = field.get_attribute("type") or "text"
            field.fill("not a number!" if numeric or kind == "email" else "")
        buttons = best.locator('button[value="save"]')
        button = (
            buttons.first
            if buttons.count()
            else best.locator("button[type=submit], button:not([type])").last
        )
        if not button.count():
            return
        with page.expect_navigation() as navigation:
            button.click()
        status = navigation.value.status if navigation.value else 0
        self.counts["forms sent"] += 1
        if status >= 500:
            self.problems.append(f"{what} sent with nonsense ({page.url}): HTTP {status}")
            return
        placed = page.evaluate(ERRORS_PLACED)
        for problem in placed["problems"]:
            self.problems.append(f"{what} with errors ({page.url}): {problem}")
        if placed["messages"] or page.locator(".error-summary").count():
            self.counts["error states"] += 1
            self.all_checks(what + " with errors")
            self.keyboard(what + " with errors")


def shape(path: str) -> str:
    """/dashboard/build/msas/questions/q/1-2 → …/questions/q/#: pages of one kind."""
    return re.sub(r"/\d+([.-]\d+)*(?=/|$)", "/#", path)


def wanted(url: str, base: str, slugs: set[str]) -> bool:
    parsed = urlparse(url)
    if f"{parsed.scheme}://{parsed.netloc}" != base or not parsed.path.startswith(BUILD):
        return False
    rest = parsed.path[len(BUILD) :].split("/")[0]
    if "lang=" in parsed.query:  # the language switcher: other languages are visited below
        return False
    return (rest in ("", "new") or rest in slugs) and not parsed.path.endswith("draft-revision")


def test_every_builder_page_passes_axe_keyboard_and_320_px(site, browser, axe_source):
    ctx = admin_context(browser, axe_source)
    audit = Audit(axe_source)
    page = ctx.new_page()
    try:
        signed_in(page, site.url)
        create_call(page, site.url, SCRATCH)
        refused = build_call_with_every_type(page, site.url)
        crawl = Crawl(page, site.url, audit)
        if refused:
            crawl.problems.append(f"question types the builder could not add: {refused}")
        slugs = {DEMO_SLUG, SCRATCH, EVERY_TYPE}
        queue, seen = [site.url + BUILD], {site.url + BUILD}
        per_shape: Counter = Counter()
        first_of_shape: dict[str, str] = {}
        while queue:
            url = queue.pop(0)
            path = urlparse(url).path
            # Pages of one kind for many questions: three of each are enough, but every
            # question's own page of the call with every type (its settings differ by type).
            key = shape(path + "?" + urlparse(url).query)
            per_shape[key] += 1
            if per_shape[key] > 3 and not (
                f"/{EVERY_TYPE}/" in path and key.endswith("/questions/q/#?")
            ):
                continue
            first_of_shape.setdefault(
                key.replace(f"/{DEMO_SLUG}/", "/*/")
                .replace(f"/{SCRATCH}/", "/*/")
                .replace(f"/{EVERY_TYPE}/", "/*/"),
                url,
            )
            response = page.goto(url)
            if response is None or response.status >= 400:
                crawl.problems.append(f"{url}: HTTP {response.status if response else '?'}")
                continue
            what = path[len(BUILD) :] or "calls"
            if urlparse(page.url).query:
                what += "?" + urlparse(page.url).query
            links = page.eval_on_selector_all("a[href]", "as => as.map(a => a.href)")
            crawl.all_checks(what)
            crawl.keyboard(what)
            for link in links:
                link = urldefrag(link)[0]
                if link not in seen and wanted(link, site.url, slugs):
                    seen.add(link)
                    queue.append(link)
            page.goto(url)
            crawl.send_nonsense(what)
            print(f"{len(seen) - len(queue)}/{len(seen)} {what}: {dict(crawl.counts)}", flush=True)
        # Each kind of page once more in two other languages (long German words at 320 px).
        for language in ("pl", "de"):
            for url in first_of_shape.values():
                page.goto(url + ("&" if "?" in url else "?") + f"lang={language}")
                crawl.all_checks(f"{urlparse(url).path[len(BUILD) :]} [{language}]")
        page.goto(site.url + BUILD + "?lang=en")
        counts = dict(crawl.counts)
        print(f"builder pages crawled: {len(seen)}; checks: {counts}")
        assert len(seen) > 20, f"the crawl found only {len(seen)} pages: {sorted(seen)}"
        problems = crawl.problems + audit.problems
        assert not problems, f"{len(problems)} problem(s) ({counts}):\n" + "\n".join(problems)
    finally:
        ctx.close()


# --- the keyboard alone ----------------------------------------------------------------------


def tab_until(page: Page, test, limit: int = 200, backwards: bool = False) -> None:
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        if page.evaluate(test):
            return
    pytest.fail(f"Tab never reached what was wanted on {page.url}")


def test_a_question_is_moved_and_its_label_saved_with_the_keyboard_alone(site, browser):
    ctx = admin_context(browser)
    page = ctx.new_page()
    try:
        signed_in(page, site.url)
        create_call(page, site.url, "keyboard-call", source="demo", demo="tolerance-requests")
        questions = f"{site.url}{BUILD}keyboard-call/questions"
        page.goto(questions)
        names = page.locator("#page-0 .builder-question > a")
        first, second = names.nth(0).inner_text(), names.nth(1).inner_text()

        # Move the first question down: its "Down" button, reached with Tab, pressed with Enter.
        tab_until(
            page,
            "() => document.activeElement.matches('#page-0 li:first-child button[value=down]')",
        )
        with page.expect_navigation():
            page.keyboard.press("Enter")
        expect(names.nth(0)).to_have_text(second)
        expect(names.nth(1)).to_have_text(first)

        # Open the moved question, change its English label and save, all from the keyboard.
        tab_until(page, "() => document.activeElement.matches('#page-0 li:nth-child(2) > a')")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        tab_until(page, "() => document.activeElement.id === 'label.en'")
        page.keyboard.press("Control+A")
        page.keyboard.type("Which service would you like?")
        tab_until(page, "() => document.activeElement.matches('button[value=save]')")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        expect(page.get_by_role("status")).to_contain_text("Saved")
        expect(page.locator("#label\\.en")).to_have_value("Which service would you like?")
        page.goto(questions)
        expect(names.nth(1)).to_have_text("Which service would you like?")
    finally:
        ctx.close()


# --- two editors: the draft watch --------------------------------------------------------------


def test_the_first_editor_is_warned_and_their_save_refused_with_their_input_kept(site, browser):
    one, two = admin_context(browser), admin_context(browser)
    try:
        first, second = one.new_page(), two.new_page()
        signed_in(first, site.url, ADMIN)
        signed_in(second, site.url, SECOND_ADMIN)
        create_call(first, site.url, "two-editors", source="demo", demo="tolerance-requests")
        question = f"{site.url}{BUILD}two-editors/questions/q/0-0"
        first.goto(question)
        second.goto(question)
        watch = first.locator("#draft-watch")
        expect(watch).to_be_hidden()
        expect(watch).to_have_attribute("role", "status")

        second.locator("#label\\.en").fill("The second editor's words")
        with second.expect_navigation():
            second.locator("button[value=save]").click()
        expect(second.get_by_role("status")).to_contain_text("Saved")

        # The first editor's page notices within a few seconds (it asks every second).
        expect(watch).to_be_visible(timeout=5_000)
        expect(watch).to_contain_text(SECOND_ADMIN)

        first.locator("#label\\.en").fill("The first editor's words")
        with first.expect_navigation():
            first.locator("button[value=save]").click()
        conflict = first.locator(".error-summary[role=alert]")
        expect(conflict).to_contain_text("Someone else changed this call")
        expect(conflict).to_contain_text(SECOND_ADMIN)
        expect(first.locator("#label\\.en")).to_have_value("The first editor's words")

        # Nothing of the second editor's was lost.
        second.goto(question)
        expect(second.locator("#label\\.en")).to_have_value("The second editor's words")
    finally:
        one.close()
        two.close()
