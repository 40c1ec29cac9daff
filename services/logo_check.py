"""Is an uploaded logo what it claims, and harmless wherever it is shown? A PNG must be one
by its signature and decode (Pillow) within a bounded size; an SVG must parse without a DTD
or entities (defusedxml) and use only drawing elements and attributes from an allow-list:
no script, no event attribute, no style sheet, no link or reference outside the file."""

from __future__ import annotations

import io
import re

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from flask_babel import gettext as _
from PIL import Image

MAX_LOGO_BYTES = 256 * 1024
MAX_PNG_PIXELS = 4000 * 4000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"

SVG_ELEMENTS = frozenset(
    "svg g path rect circle ellipse line polyline polygon text tspan title desc defs "
    "linearGradient radialGradient stop clipPath symbol use".split()
)
SVG_ATTRIBUTES = frozenset(
    """id class viewBox width height x y x1 y1 x2 y2 cx cy r rx ry d points transform fill
    fill-opacity fill-rule stroke stroke-width stroke-opacity stroke-linecap stroke-linejoin
    stroke-miterlimit stroke-dasharray stroke-dashoffset opacity offset stop-color stop-opacity
    gradientUnits gradientTransform spreadMethod fx fy clip-path clip-rule clipPathUnits
    font-family font-size font-weight font-style text-anchor dominant-baseline letter-spacing
    preserveAspectRatio version role aria-label aria-hidden focusable dx dy href
    xml:space""".split()
)
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
# A reference is allowed only to something in the same file: url(#id) or href="#id".
OUTSIDE_REFERENCE = re.compile(r"url\(\s*['\"]?\s*[^#\s'\")]", re.IGNORECASE)


class LogoRefused(ValueError):
    """The message is for the admin, in their language."""


def check_logo(data: bytes) -> str:
    """The logo's content type ("image/png" or "image/svg+xml"), or LogoRefused."""
    if len(data) > MAX_LOGO_BYTES:
        raise LogoRefused(
            _(
                "The logo can be at most %(size)d KB; this file is larger.",
                size=MAX_LOGO_BYTES // 1024,
            )
        )
    if not data:
        raise LogoRefused(_("The file is empty."))
    if data.startswith(PNG_SIGNATURE):
        _check_png(data)
        return "image/png"
    if data.lstrip()[:1] == b"<":
        _check_svg(data)
        return "image/svg+xml"
    raise LogoRefused(_("The logo must be a PNG or an SVG file; this file is neither."))


def _check_png(data: bytes) -> None:
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "PNG" or image.width * image.height > MAX_PNG_PIXELS:
                raise LogoRefused(_("The PNG image is too large: at most 4000 × 4000 pixels."))
            image.verify()
    except LogoRefused:
        raise
    except Exception as error:  # noqa: BLE001  (Pillow raises many kinds for a broken file)
        raise LogoRefused(_("The PNG file is damaged and cannot be shown.")) from error


def _check_svg(data: bytes) -> None:
    try:
        root = fromstring(data, forbid_dtd=True)
    except DefusedXmlException as error:
        raise LogoRefused(
            _("The SVG file declares a DTD or entities, which are not allowed.")
        ) from error
    except Exception as error:  # noqa: BLE001  (ParseError and its kin)
        raise LogoRefused(_("The SVG file is not well-formed XML.")) from error
    if root.tag != SVG + "svg":
        raise LogoRefused(_("The file is not an SVG image."))
    for element in root.iter():
        _check_element(element)


def _check_element(element) -> None:
    tag = element.tag if isinstance(element.tag, str) else ""
    local = tag[len(SVG) :] if tag.startswith(SVG) else None
    if local not in SVG_ELEMENTS:
        shown = tag.rsplit("}", 1)[-1] or "?"
        raise LogoRefused(
            _(
                "The SVG file holds a <%(element)s> element, which a logo cannot use "
                "(scripts, styles, embedded documents and other files are not allowed).",
                element=shown,
            )
        )
    for attribute, value in element.attrib.items():
        name = "href" if attribute == XLINK + "href" else attribute
        name = "xml:space" if attribute == XML_SPACE else name
        if name.lower().startswith("on") or name not in SVG_ATTRIBUTES:
            raise LogoRefused(
                _(
                    "The SVG file uses the attribute “%(attribute)s”, which a logo cannot "
                    "use (event handlers, styles and foreign attributes are not allowed).",
                    attribute=name.rsplit("}", 1)[-1],
                )
            )
        if (name == "href" and not value.strip().startswith("#")) or OUTSIDE_REFERENCE.search(
            value
        ):
            raise LogoRefused(
                _("The SVG file refers to something outside itself, which is not allowed.")
            )
