"""PDF rendering with WeasyPrint: a sandboxed template, tagged PDF/UA output, and a URL
fetcher that reaches only our own document stylesheet — never the network or other files."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from urllib.parse import unquote

from jinja2 import FileSystemLoader, select_autoescape
from jinja2.sandbox import SandboxedEnvironment
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from documents.content import DocumentContent

TEMPLATES = Path(__file__).with_name("templates")
ASSETS = Path(__file__).resolve().parent.parent / "static" / "documents"


class BlockedURL(ValueError):
    pass


@cache
def font_configuration() -> FontConfiguration:
    """One per process: a new FontConfiguration per PDF leaks about 220 KB each time."""
    return FontConfiguration()


@cache
def _environment() -> SandboxedEnvironment:
    # Sandboxed, autoescaped: answers are data, never markup or template code.
    return SandboxedEnvironment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape())


class OwnAssetsOnly(URLFetcher):
    """Fetches file URLs inside static/documents and refuses everything else: http(s),
    data:, and file:// anywhere else. Every refusal is recorded, so tests can show that a
    hostile answer made no request."""

    def __init__(self):
        super().__init__(allowed_protocols=("file",), allow_redirects=False)
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        if url.startswith("file://"):
            path = Path(unquote(url[len("file://") :].split("?")[0])).resolve()
            if path.is_relative_to(ASSETS):
                return super().fetch(url, headers)
        self.refused.append(url)
        raise BlockedURL(f"not fetched: {url[:80]}")


def html_for(content: DocumentContent) -> str:
    return _environment().get_template("document.html").render(c=content)


def render_pdf(content: DocumentContent, fetcher: OwnAssetsOnly | None = None) -> bytes:
    """`fetcher` may be given to see what was refused (tests); a new one otherwise."""
    html = html_for(content).replace(
        "</head>",
        # The page label (a translated word) and the installation's name, given to CSS as
        # custom properties.
        f'<style>html {{ --page-label: "{_css_string(content.labels["page"])}"; '
        f'--installation: "{_css_string(content.installation)}"; }}</style></head>',
        1,
    )
    document = HTML(
        string=html, base_url=ASSETS.as_uri() + "/", url_fetcher=fetcher or OwnAssetsOnly()
    )
    return document.write_pdf(
        font_config=font_configuration(),
        pdf_variant="pdf/ua-1",
        uncompressed_pdf=False,
        finisher=running_content_as_artifacts,
    )


def running_content_as_artifacts(_document, pdf) -> None:
    """PDF/UA wants running headers and footers marked as artifacts, so screen readers do
    not read them on every page. WeasyPrint marks the content of page margins with
    MCIDs but leaves it out of the structure tree (an Artifact node there needs PDF 2.0):
    this turns exactly that content into `/Artifact` marked content and clears its entries
    in the parent tree. Runs as WeasyPrint's `finisher`, before the file is written."""
    root = _object(pdf, pdf.catalog.get("StructTreeRoot"))
    if root is None:
        return
    in_tree = _reachable(pdf, root["K"])
    nums = _object(pdf, root["ParentTree"])["Nums"]
    page_numbers = list(pdf.pages["Kids"])[::3]  # [number, 0, "R"] per page
    for key, elements in zip(nums[::2], nums[1::2], strict=True):
        if not isinstance(elements, list) or key >= len(page_numbers):
            continue  # an annotation's entry, not a page's
        outside = {mcid for mcid, ref in enumerate(elements) if _number(ref) not in in_tree}
        if not outside:
            continue
        page = pdf.objects[page_numbers[key]]
        stream = _object(pdf, page["Contents"])
        stream.stream = _as_artifacts(stream.stream, outside)
        for mcid in outside:
            elements[mcid] = b"null"


def _as_artifacts(operations: list, mcids: set[int]) -> list:
    result, index = [], 0
    while index < len(operations):
        item = operations[index]
        following = operations[index + 1 : index + 3]
        if (
            isinstance(item, str)
            and len(following) == 2
            and isinstance(following[0], dict)
            and following[0].get("MCID") in mcids
            and following[1] == b"BDC"
        ):
            result.append(b"/Artifact BMC")  # its EMC stays where it is
            index += 3
            continue
        result.append(item)
        index += 1
    return result


def _number(reference) -> int | None:
    """The object number of a pydyf reference (b"12 0 R"), None for anything else."""
    if isinstance(reference, str):
        reference = reference.encode()
    if isinstance(reference, bytes) and reference.endswith(b" R"):
        return int(reference.split()[0])
    return None


def _object(pdf, reference):
    number = _number(reference)
    return pdf.objects[number] if number is not None else None


def _reachable(pdf, kids) -> set[int]:
    """Object numbers of the structure elements under `kids` (the structure tree)."""
    found, pending = set(), list(kids if isinstance(kids, list) else [kids])
    while pending:
        number = _number(pending.pop())
        if number is None or number in found:
            continue
        found.add(number)
        element = pdf.objects[number]
        children = element.get("K") if isinstance(element, dict) else None
        if isinstance(children, list):
            pending += children
        elif children is not None:
            pending.append(children)
    return found


def _css_string(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch == " " else f"\\{ord(ch):x} " for ch in text)
