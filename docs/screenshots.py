"""Screenshots of the call builder for the README: `.venv/bin/python docs/screenshots.py`.

Starts this working tree's app as the browser tests do (a fresh instance folder in a
temporary directory, the demo calls loaded on first start), makes an admin, copies the
demo study visit into a new call through the builder's own pages, and writes
docs/images/builder-*.png: 1280 CSS px wide, clipped to the page's main content (at most
MAX_HEIGHT px tall) so that each file stays small (< 250 KB).

Needs Debian's chromium and the Python package playwright (requirements-dev.txt)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, sync_playwright  # noqa: E402

from tests.browser import CHROMIUM, CHROMIUM_ARGS, flask_server  # noqa: E402

IMAGES = ROOT / "docs" / "images"
WIDTH = 1280
MAX_HEIGHT = 1300
LIMIT = 250_000  # bytes per PNG
ADMIN = "coordinator@example.org"
PASSWORD = "a long screenshot password, not a real one"  # noqa: S105
SLUG = "study-visit-2027"
BUILD = "/dashboard/build/"
FORM = "main form:not(.dashboard-nav form)"


def make_admin(server) -> None:
    subprocess.run(  # noqa: S603  (our own command line)
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "app",
            "users",
            "create",
            ADMIN,
            "--role",
            "admin",
        ],
        cwd=ROOT,
        env=server.env,
        input=f"{PASSWORD}\n{PASSWORD}\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


# The content's box in page coordinates: main's children but the dashboard's navigation
# (or the one element `focus`), without main's empty space below them.
CONTENT_BOX = """(focus) => {
  const kids = focus ? [document.querySelector(focus)]
    : [...document.querySelector('main').children].filter(e => !e.matches('.dashboard-nav, script')
        && !e.closest('.dashboard-nav') && e.getClientRects().length);
  const boxes = kids.map(e => e.getBoundingClientRect());
  const top = Math.min(...boxes.map(b => b.top)), bottom = Math.max(...boxes.map(b => b.bottom));
  const left = Math.min(...boxes.map(b => b.left)), right = Math.max(...boxes.map(b => b.right));
  return {x: left + window.scrollX, y: top + window.scrollY,
          width: right - left, height: bottom - top};
}"""


def shoot(page: Page, name: str, focus: str | None = None) -> Path:
    """The main content (or the element `focus`), at most MAX_HEIGHT px of it, as
    docs/images/<name>.png."""
    page.wait_for_load_state("networkidle")
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    box = page.evaluate(CONTENT_BOX, focus)
    clip = {
        "x": max(box["x"] - 16, 0),
        "y": max(box["y"] - 16, 0),
        "width": min(box["width"] + 32, WIDTH),
        "height": min(box["height"] + 32, MAX_HEIGHT),
    }
    path = IMAGES / f"{name}.png"
    page.screenshot(path=str(path), clip=clip, full_page=True)
    size = path.stat().st_size
    if size > LIMIT:  # fewer colours: text stays sharp, the file shrinks
        from PIL import Image

        Image.open(path).convert("RGB").quantize(colors=64).save(path, optimize=True)
        size = path.stat().st_size
    print(
        f"{path.relative_to(ROOT)}: {int(clip['width'])}×{int(clip['height'])}, {size // 1000} KB"
    )
    if size >= LIMIT:
        raise SystemExit(f"{path} is {size} bytes: more than {LIMIT}")
    return path


def sign_in(page: Page, base: str) -> None:
    page.goto(f"{base}/login?lang=en")
    page.locator("#email").fill(ADMIN)
    page.locator("#password").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()


def copy_demo(page: Page, base: str, demo: str, slug: str, title: str) -> None:
    page.goto(base + BUILD + "new")
    page.locator("#source-demo").check()
    page.locator("#demo").select_option(demo)
    page.locator("#slug").fill(slug)
    page.locator("#title").fill(title)
    page.locator("#language").select_option("en")
    with page.expect_navigation():
        page.locator(f"{FORM} button[type=submit]").click()


def open_a_condition_picker(page: Page, base: str, slug: str) -> bool:
    """The condition picker of a question shown only for some answers of an earlier one
    (else of the last question with something to depend on)."""
    page.goto(f"{base}{BUILD}{slug}/questions")
    items = page.locator(".builder-question")
    conditional = items.filter(has_text="Conditional").locator("> a")
    hrefs = [a.get_attribute("href") for a in conditional.all()]
    hrefs += reversed([a.get_attribute("href") for a in items.locator("> a").all()][1:])
    for href in hrefs:
        page.goto(base + href + "/condition")
        if page.locator(f"{FORM} input[type=checkbox], {FORM} select").count():
            return True
    return False


def main() -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "uploads").mkdir()
        server = flask_server(root / "instance", root / "uploads", root / "server.log")
        server.start(timeout=60)
        try:
            make_admin(server)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                ctx = browser.new_context(
                    locale="en-GB", viewport={"width": WIDTH, "height": 900}, device_scale_factor=1
                )
                page = ctx.new_page()
                base = server.url
                sign_in(page, base)
                copy_demo(
                    page, base, "study-visit-stralsund", SLUG, "Study visit to Stralsund 2027"
                )
                copy_demo(page, base, "tolerance-requests", "requests-2027", "Requests 2027")
                build = f"{base}{BUILD}{SLUG}"

                page.goto(base + BUILD)
                shoot(page, "builder-calls")
                page.goto(build + "/")
                shoot(page, "builder-task-list")
                page.goto(build + "/questions")
                shoot(page, "builder-questions")
                page.goto(build + "/questions/q/0-0")
                page.locator(".builder-texts").first.wait_for()
                shoot(page, "builder-question")
                if open_a_condition_picker(page, base, "requests-2027"):
                    shoot(page, "builder-condition")
                page.goto(build + "/preview/1")
                shoot(page, "builder-preview")
                page.goto(build + "/publish")
                shoot(page, "builder-make-it-live")
                # the life of a call, once it is live
                publish = page.locator(f"{FORM} button[type=submit]").filter(has_text="Publish")
                if publish.count():
                    with page.expect_navigation():
                        publish.first.click()
                for path, name in (
                    ("/test", "builder-test"),
                    ("/status", "builder-status"),
                    ("/status/extend", "builder-extend"),
                ):
                    response = page.goto(build + path)
                    if response and response.status == 200:
                        shoot(page, name)
                browser.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
