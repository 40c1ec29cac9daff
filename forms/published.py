"""A published form version, read as a FormSpec. Every layer reads forms through this, so
it lives beside the form engine, below the services that publish versions."""

from __future__ import annotations

import json

from forms.schema import validate
from forms.spec import FormSpec
from models import FormVersion

_specs: dict[tuple[int, str], FormSpec] = {}
MAX_CACHED_SPECS = 256


def spec_for(version: FormVersion) -> FormSpec:
    """Published versions never change, so their parsed spec is cached by id and checksum
    (the checksum is the definition's digest: a database whose version 3 holds another
    definition gets its own entry). Serialising the definition to key the cache cost more
    than a page's SQL queries."""
    key = (version.id, version.checksum)
    spec = _specs.get(key)
    if spec is None:
        if len(_specs) >= MAX_CACHED_SPECS:
            _specs.clear()  # many databases in one process (tests); rebuilt on demand
        # The row holds the document as written; the spec reads its normalised form. A copy:
        # the spec outlives the session, and nobody's edit of the row may reach it.
        document = json.loads(json.dumps(version.definition))
        spec = _specs[key] = FormSpec(validate(document, f"version {version.id}", published=True))
    return spec
