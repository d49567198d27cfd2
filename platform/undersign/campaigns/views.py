"""The console side of campaigns: drafting, publishing, co-sponsorship, updates."""

from __future__ import annotations

from undersign.web.tenancy import console_blueprint

bp = console_blueprint("campaigns", __name__, "/campaigns")
