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
        # The page label is a translated word, given to CSS as a custom property.
        f'<style>html {{ --page-label: "{_css_string(content.labels["page"])}"; }}</style></head>',
        1,
    )
    document = HTML(
        string=html, base_url=ASSETS.as_uri() + "/", url_fetcher=fetcher or OwnAssetsOnly()
    )
    return document.write_pdf(
        font_config=font_configuration(), pdf_variant="pdf/ua-1", uncompressed_pdf=False
    )


def _css_string(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch == " " else f"\\{ord(ch):x} " for ch in text)
