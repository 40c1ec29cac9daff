"""A problem in a call's definition: where (a path into the document), what (a code) and
the values that say it (params). The YAML loader prints it in English; the builder shows
it beside the setting, in the page's language.

SKELETON by the lead: helper "problems" replaces the catalogue and `message`."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    path: tuple = ()
    code: str = "invalid"
    params: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def where(self) -> str:
        out = ""
        for part in self.path:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
        return out

    def message(self) -> str:
        return str(self.params.get("message", self.code))

    def __str__(self) -> str:
        return f"{self.where}: {self.message()}" if self.path else self.message()
