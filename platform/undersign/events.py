"""Domain events: a domain says what happened, without importing who listens.

Campaigns and signatures call `publish` in the transaction of the change;
packages above them (webhooks) subscribe in the application factory. A
subscriber runs in the caller's transaction, so what it writes commits or
rolls back with the change itself.
"""

from __future__ import annotations

from typing import Any, Callable

from flask import Flask, current_app

Subscriber = Callable[..., None]


def subscribe(app: Flask, name: str, subscriber: Subscriber) -> None:
    """Have ``subscriber(**data)`` called for every ``publish(name, **data)`` in ``app``."""
    registry: dict[str, list[Subscriber]] = app.extensions.setdefault("undersign_events", {})
    if subscriber not in registry.setdefault(name, []):
        registry[name].append(subscriber)


def publish(name: str, **data: Any) -> None:
    """Tell this application's subscribers of ``name`` (none outside an app context)."""
    try:
        registry: dict[str, list[Subscriber]] = current_app.extensions.get("undersign_events", {})
    except RuntimeError:
        return
    for subscriber in registry.get(name, ()):
        subscriber(**data)
