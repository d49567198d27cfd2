from __future__ import annotations

import pytest


@pytest.fixture
def committed(committed_db):  # type: ignore[no-untyped-def]
    """``committed_db``, closing this test's own session first: an open transaction of the test
    (a last SELECT) would otherwise hold the locks that emptying the tables waits for, for ever."""
    yield committed_db
    committed_db.session.remove()
