"""Throwaway: screenshots for a manual check (not committed)."""
import subprocess, sys
from pathlib import Path
from tests.browser import ROOT
from tests.test_browser_review import PASSWORD, apply_to_msas, review_server  # noqa
from tests.conftest import FormClient
from tests.definitions import base

OUT = Path("/tmp/decide_shots")


def admin(server):
    r = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "users", "create", "ada@example.org", "--role", "admin"],
        cwd=ROOT, env=server.env, input=f"{PASSWORD}\n{PASSWORD}\n", text=True, capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr


def form_of(page, label):
    return page.locator("form", has=page.get_by_role("button", name=label, exact=True))


def test_shots(review_server, browser):
    admin(review_server)
    base_url = review_server.url
    one, _ = apply_to_msas(review_server, "Filia nr 3", language="pl")
    two, _ = apply_to_msas(review_server, "Filia nr 4", language="en")
    ctx = browser.new_context(locale="en-GB", viewport={"width": 1100, "height": 900})
    page = ctx.new_page()
    page.goto(base_url + "/login?lang=en")
    page.get_by_label("Email address").fill("ada@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(base_url + "/dashboard/submissions?lang=en")
    page.get_by_role("link", name=one).click()
    detail_one = page.url.split("?")[0]
    form_of(page, "Start review").get_by_role("button", name="Start review").click()
    page.locator("#decide").screenshot(path=OUT / "1-detail-decide-en.png")
    form_of(page, "Accept").get_by_role("textbox").first.fill("Zapraszamy na spotkanie 12 stycznia.")
    form_of(page, "Accept").get_by_role("button", name="Accept").click()
    page.screenshot(path=OUT / "2-confirm-accept-en.png", full_page=True)
    # the letter preview, as the button posts it
    fields = {i.get_attribute("name"): i.get_attribute("value") for i in page.locator("form[target=_blank] input[type=hidden]").all()}
    resp = ctx.request.post(base_url + page.locator("form[target=_blank]").get_attribute("action"), form=fields)
    (OUT / "3-letter-preview.pdf").write_bytes(resp.body())
    page.get_by_role("button", name="Confirm and send").click()
    page.goto(base_url + "/dashboard/submissions?lang=en")
    page.get_by_role("link", name=two).click()
    detail_two = page.url.split("?")[0]
    form_of(page, "Start review").get_by_role("button", name="Start review").click()
    form_of(page, "Put on waiting list").get_by_role("button", name="Put on waiting list").click()
    page.screenshot(path=OUT / "4-confirm-waitlist-en.png", full_page=True)
    page.goto(detail_two + "?lang=pl")
    form_of(page, "Lista rezerwowa").get_by_role("button", name="Lista rezerwowa").click()
    page.screenshot(path=OUT / "5-confirm-waitlist-pl.png", full_page=True)
    page.goto(detail_one + "?lang=pl")
    page.locator("#decide").screenshot(path=OUT / "6-detail-reopen-pl.png")
    form_of(page, "Cofnij decyzję").get_by_role("textbox").first.fill("Ocena pominęła drugi załącznik.")
    form_of(page, "Cofnij decyzję").get_by_role("button", name="Cofnij decyzję").click()
    page.screenshot(path=OUT / "7-confirm-reopen-pl.png", full_page=True)
    page.get_by_role("button", name="Potwierdź i wyślij").click()
    page.screenshot(path=OUT / "8-after-reopen-pl.png")
    page.goto(detail_one + "?lang=en")
    form_of(page, "Accept").get_by_role("button", name="Accept").click()
    page.screenshot(path=OUT / "9-confirm-accept-pl-applicant-en-ui.png", full_page=True)
    ctx.close()


def test_offer_shots(app, create_form, browser):
    from tests.test_applicant import GROUP_PAGE, people
    from tests.test_applicant import apply as register
    from tests.test_applicant import confirm as take
    create_form(base("event", GROUP_PAGE, capacity=2, workflow="event-registration", seats_field="people"))
    token_a, _ = register(app, "event", people("A", "B"))
    token_b, _ = register(app, "event", people("C"))
    client = FormClient(app.test_client())
    take(client, token_a, "cancel")
    css = (ROOT / "static/css/formdesk.css").read_text()
    for lang in ("en", "pl"):
        html = client.get(f"/s/{token_b}?lang={lang}").get_data(as_text=True)
        html = html.replace("</head>", f"<style>{css}</style></head>")
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.set_content(html)
        page.screenshot(path=OUT / f"10-offer-{lang}.png", full_page=True)
        page.close()
