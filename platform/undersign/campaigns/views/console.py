"""The ``campaigns`` blueprint and what all its pages share: the campaign reached through the
organization's sponsorship, the status words, and one way to answer a plain POST button."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, flash, g, redirect
from flask_login import current_user
from werkzeug.wrappers import Response

from undersign.campaigns import service
from undersign.campaigns.models import Campaign, SponsorRole, SponsorshipStatus
from undersign.db import utcnow
from undersign.organizations.models import Permission
from undersign.web.forms import EmptyForm, field_errors
from undersign.web.tenancy import console_blueprint, load_membership

bp = console_blueprint("campaigns", "undersign.campaigns.views", "/campaigns")

# The only pages an organization that is invited (and has not accepted) may open.
INVITATION_ENDPOINTS = frozenset({"campaigns.detail", "campaigns.accept_invitation", "campaigns.decline_invitation"})

T = TypeVar("T")


@bp.url_value_preprocessor
def _pull_campaign(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """Load ``g.campaign`` through ``g.org``'s sponsorship, or answer 404.

    Runs before the access guard's permission check, so that a member of an
    unrelated organization gets 404 on every URL of the campaign whatever their
    role. Signed-out visitors and non-members are left to the guard, which
    answers them the same way whether or not the campaign exists.
    """
    slug = (values or {}).get("slug")
    if slug is None or g.get("org") is None:
        return
    if not current_user.is_authenticated or load_membership() is None:
        return
    sponsorship = service.sponsorship_of(g.org, slug)
    if sponsorship is None:
        abort(404)
    if sponsorship.status != SponsorshipStatus.ACCEPTED.value and not (
        sponsorship.status == SponsorshipStatus.INVITED.value and endpoint in INVITATION_ENDPOINTS
    ):
        abort(404)
    g.sponsorship = sponsorship
    g.campaign = sponsorship.campaign


def campaign() -> Campaign:
    """The campaign of this URL, as `_pull_campaign` loaded it."""
    loaded: Campaign | None = g.get("campaign")
    if loaded is None:  # the guard let the request through, so the preprocessor must have run
        abort(404)
    return loaded


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
    label = {"draft": "Draft", "published": "Open", "closed": "Closed", "victory": "Victory"}.get(status, status)
    if campaign.taken_down_at is not None:
        label += " (taken down)"
    return label


SPONSORSHIP_STATUS_LABELS = {
    SponsorshipStatus.INVITED.value: "Invited, no answer yet",
    SponsorshipStatus.ACCEPTED.value: "Co-sponsoring",
    SponsorshipStatus.DECLINED.value: "Declined",
    SponsorshipStatus.WITHDRAWN.value: "Withdrew",
    SponsorshipStatus.REMOVED.value: "Removed",
}


def day(moment: dt.datetime | None) -> str:
    return f"{moment.day} {moment:%B %Y}" if moment is not None else ""


@bp.context_processor
def _console_helpers() -> dict[str, Any]:
    return {
        "Permission": Permission,
        "now": utcnow(),
        "day": day,
        "campaign_status_label": campaign_status_label,
        "sponsorship_status_label": lambda status: SPONSORSHIP_STATUS_LABELS.get(status, status),
    }
