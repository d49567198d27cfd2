"""The ``campaigns`` blueprint and what all its pages share: the campaign reached through the
organization's sponsorship, the status words, and one way to answer a plain POST button."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, flash, g, redirect
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from undersign.campaigns.models import Campaign, SponsorRole, SponsorshipStatus
from undersign.db import utcnow
from undersign.organizations.models import Permission
from undersign.web.forms import EmptyForm, field_errors
from undersign.web.tenancy import campaign_console_blueprint, console_campaign

# The only pages an organization that is invited (and has not accepted) may open.
INVITATION_ENDPOINTS = frozenset({"campaigns.detail", "campaigns.accept_invitation", "campaigns.decline_invitation"})

bp = campaign_console_blueprint("campaigns", "undersign.campaigns.views", invited_endpoints=INVITATION_ENDPOINTS)
campaign = console_campaign

T = TypeVar("T")


def is_lead() -> bool:
    return bool(g.sponsorship.role == SponsorRole.LEAD.value)


def press_button(action: Callable[[], T], done: Callable[[T], str], then: str) -> Response:
    """Answer a plain POST button (publish, accept, remove, ...): run ``action`` and go to ``then``,
    flashing ``done(result)``, or the refusal's message once what it wrote is undone.

    A refusal that is about access, not about the petition's state (403, 404),
    is answered as such instead: the page would be of no use to the caller.

    :raise 400: the form's CSRF token is missing or wrong.
    """
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    result: list[T] = []
    with field_errors(form) as outcome:
        result.append(action())
    if outcome.error is not None:
        if outcome.error.status_code in (403, 404):
            raise outcome.error
        flash(outcome.error.message, "error")
    else:
        flash(done(result[0]), "success")
    return redirect(then)


def campaign_status_label(campaign: Campaign) -> str:
    """The status as staff should read it: the public one (closed by date included), and a takedown."""
    status = campaign.public_status(utcnow())
    label = str(CAMPAIGN_STATUS_LABELS.get(status, status))
    if campaign.taken_down_at is not None:
        label = _("%(status)s (taken down)", status=label)
    return label


CAMPAIGN_STATUS_LABELS = {
    "draft": _l("Draft"),
    "published": _l("Open"),
    "closed": _l("Closed"),
    "victory": _l("Victory"),
}


SPONSORSHIP_STATUS_LABELS = {
    SponsorshipStatus.INVITED.value: _l("Invited, no answer yet"),
    SponsorshipStatus.ACCEPTED.value: _l("Co-sponsoring"),
    SponsorshipStatus.DECLINED.value: _l("Declined"),
    SponsorshipStatus.WITHDRAWN.value: _l("Withdrew"),
    SponsorshipStatus.REMOVED.value: _l("Removed"),
}


def day(moment: dt.datetime | None) -> str:
    """A day as the console writes it: "3 December 2026" in English, the language's long date otherwise."""
    if moment is None:
        return ""
    locale = get_locale()
    if locale is None or locale.language == "en":
        return f"{moment.day} {moment:%B %Y}"
    return str(format_date(moment, "long"))


@bp.context_processor
def _console_helpers() -> dict[str, Any]:
    return {
        "Permission": Permission,
        "now": utcnow(),
        "day": day,
        "campaign_status_label": campaign_status_label,
        "sponsorship_status_label": lambda status: str(SPONSORSHIP_STATUS_LABELS.get(status, status)),
    }
