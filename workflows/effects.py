"""Hooks for what a transition causes outside the submission (an email, a document).
create_app connects a handler per kind (wiring.py: `email` → services.notifications,
`document` → documents.letters); the transition service calls them inside its
transaction, so they can write outbox rows atomically with the state change."""

from __future__ import annotations

from collections.abc import Callable

Handler = Callable[..., None]
_handlers: dict[str, list[Handler]] = {}


def register(kind: str, handler: Handler) -> None:
    """`kind` is the part before the colon in an effect, e.g. `email` for `email:accepted`."""
    if handler not in _handlers.setdefault(kind, []):
        _handlers[kind].append(handler)


def dispatch(effect: str, **context) -> None:
    kind, _, target = effect.partition(":")
    for handler in _handlers.get(kind, []):
        handler(target, **context)
