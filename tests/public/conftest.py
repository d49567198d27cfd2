"""Fixtures of the public pages' tests."""

from __future__ import annotations

import pytest

from undersign.extensions import db


@pytest.fixture
def demo(app):  # type: ignore[no-untyped-def]
    """The demo data (three sponsoring organizations, two co-sponsored petitions and one more), committed."""
    from undersign import demo as demo_data

    demo_data.load()
    db.session.commit()
