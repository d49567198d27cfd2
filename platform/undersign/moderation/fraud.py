"""Platform administrators' fraud tools under /admin (issue 13, point 4): blocked sources, held signatures,
where a campaign's signatures come from, and bulk invalidation with its preview and reversal.

Every view is `platform_admin`: anyone else gets 404, signed in or not. The
rules and the counting are `undersign.signatures.screening` and `.fraud`.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from undersign.campaigns.models import Campaign
from undersign.charts import sparkline
from undersign.db import db, is_row_id
from undersign.errors import DomainError
from undersign.moderation.forms import BlockDomainForm, BlockRangeForm, HeldSignaturesForm, InvalidationForm
from undersign.signatures import fraud, screening
from undersign.signatures.fraud import Preview, PreviewChanged
from undersign.signatures.models import BlockedAddressRange, BlockedDomain
from undersign.web.access import platform_admin
from undersign.web.forms import EmptyForm, attach_error, field_errors

bp = Blueprint("fraud", __name__, url_prefix="/admin")

CAMPAIGNS_LISTED = 200


def _campaign_or_404(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id) if is_row_id(campaign_id) else None
    if campaign is None:
        abort(404)
    return campaign


@bp.get("/fraud")
@platform_admin
def index() -> ResponseReturnValue:
    """The campaigns with how many signatures each holds for review, the most held first."""
    rows = fraud.campaigns_by_held(CAMPAIGNS_LISTED)
    return render_template("moderation/fraud.html", rows=rows)


# ---------------------------------------------------------------------------------------------
# Blocked e-mail domains and address ranges


def _blocked_page(domain_form: BlockDomainForm | None = None, range_form: BlockRangeForm | None = None,
                  status: int = 200) -> ResponseReturnValue:
    return render_template(
        "moderation/blocked.html", domains=screening.blocked_domains(), networks=screening.blocked_networks(),
        domain_form=domain_form or BlockDomainForm(formdata=None), range_form=range_form or BlockRangeForm(formdata=None),
        shipped=len(screening.DISPOSABLE_DOMAINS),
    ), status


@bp.get("/blocked")
@platform_admin
def blocked() -> ResponseReturnValue:
    return _blocked_page()


@bp.post("/blocked/domains")
@platform_admin
def block_domain() -> ResponseReturnValue:
    form = BlockDomainForm()
    if not form.validate_on_submit():
        return _blocked_page(domain_form=form, status=400)
    with field_errors(form, "pattern") as outcome:
        entry = screening.block_domain(current_user, form.pattern.data, form.reason.data, ip=request.remote_addr)
    if not outcome.ok:
        return _blocked_page(domain_form=form, status=outcome.status)
    flash(_("Signatures from %(source)s are held from now on.", source=entry.pattern), "success")
    return redirect(url_for("fraud.blocked"))


@bp.post("/blocked/ranges")
@platform_admin
def block_range() -> ResponseReturnValue:
    form = BlockRangeForm()
    if not form.validate_on_submit():
        return _blocked_page(range_form=form, status=400)
    with field_errors(form, "network") as outcome:
        entry = screening.block_network(current_user, form.network.data, form.reason.data, ip=request.remote_addr)
    if not outcome.ok:
        return _blocked_page(range_form=form, status=outcome.status)
    flash(_("Signatures from %(source)s are held from now on.", source=entry.network), "success")
    return redirect(url_for("fraud.blocked"))


@bp.post("/blocked/<any(domains, ranges):kind>/<int:entry_id>/remove")
@platform_admin
def unblock(kind: str, entry_id: int) -> ResponseReturnValue:
    if not EmptyForm().validate_on_submit():
        abort(400)
    if not is_row_id(entry_id):
        abort(404)
    model = BlockedDomain if kind == "domains" else BlockedAddressRange
    try:
        screening.unblock(current_user, model, entry_id, ip=request.remote_addr)
    except DomainError as exc:
        abort(exc.status_code)
    flash(_("Removed from the list. Signatures it held stay held until you release them."), "success")
    return redirect(url_for("fraud.blocked"))


# ---------------------------------------------------------------------------------------------
# Held signatures


def _held_page(campaign: Campaign, form: HeldSignaturesForm, status: int = 200) -> ResponseReturnValue:
    return render_template("moderation/held.html", campaign=campaign, form=form,
                           signatures=fraud.held_signatures(campaign), held=fraud.held_count(campaign.id)), status


@bp.get("/campaigns/<int:campaign_id>/held")
@platform_admin
def held(campaign_id: int) -> ResponseReturnValue:
    return _held_page(_campaign_or_404(campaign_id), HeldSignaturesForm(formdata=None))


@bp.post("/campaigns/<int:campaign_id>/held/<any(release, invalidate):action>")
@platform_admin
def decide_held(campaign_id: int, action: str) -> ResponseReturnValue:
    """Release or invalidate the ticked held signatures."""
    campaign = _campaign_or_404(campaign_id)
    form = HeldSignaturesForm()
    if not form.validate_on_submit():
        return _held_page(campaign, form, 400)
    ids = [int(v) for v in request.form.getlist("signature") if v.isascii() and v.isdigit() and is_row_id(int(v))]
    with field_errors(form) as outcome:
        if action == "release":
            done = fraud.release(current_user, campaign, ids, ip=request.remote_addr)
        else:
            done = fraud.invalidate_held(current_user, campaign, ids, form.reason.data or "", ip=request.remote_addr)
    if not outcome.ok:
        return _held_page(campaign, form, outcome.status)
    if action == "release":
        flash(_("%(num)s signature(s) released: they count now if confirmed.", num=done), "success")
    else:
        flash(_("%(num)s signature(s) invalidated.", num=done), "success")
    return redirect(url_for("fraud.held", campaign_id=campaign.id))


# ---------------------------------------------------------------------------------------------
# Sources


@bp.get("/campaigns/<int:campaign_id>/sources")
@platform_admin
def sources(campaign_id: int) -> ResponseReturnValue:
    campaign = _campaign_or_404(campaign_id)
    return render_template("moderation/sources.html", campaign=campaign, sources=fraud.sources(campaign),
                           sparkline=sparkline, hours=fraud.SOURCES_HOURS)


# ---------------------------------------------------------------------------------------------
# Bulk invalidation


def _invalidations_page(campaign: Campaign, form: InvalidationForm, preview: Preview | None = None,
                        status: int = 200, error: str | None = None) -> ResponseReturnValue:
    return render_template("moderation/invalidations.html", campaign=campaign, form=form, preview=preview,
                           error=error, batches=fraud.batches(campaign)), status


@bp.get("/campaigns/<int:campaign_id>/invalidations")
@platform_admin
def invalidations(campaign_id: int) -> ResponseReturnValue:
    """The conditions form (``?email_domain=`` and ``?ip_hash=`` fill it in, from the sources page) and the batches."""
    campaign = _campaign_or_404(campaign_id)
    form = InvalidationForm(formdata=None, email_domain=request.args.get("email_domain", "")[:253],
                            ip_hash=request.args.get("ip_hash", "")[:64])
    return _invalidations_page(campaign, form)


@bp.post("/campaigns/<int:campaign_id>/invalidations/preview")
@platform_admin
def preview_invalidation(campaign_id: int) -> ResponseReturnValue:
    campaign = _campaign_or_404(campaign_id)
    form = InvalidationForm()
    if not form.validate_on_submit():
        return _invalidations_page(campaign, form, status=400)
    try:
        preview = fraud.preview(campaign, form.conditions())
    except DomainError as exc:
        attach_error(form, exc)
        return _invalidations_page(campaign, form, status=exc.status_code)
    return _invalidations_page(campaign, form, preview)


@bp.post("/campaigns/<int:campaign_id>/invalidations")
@platform_admin
def start_invalidation(campaign_id: int) -> ResponseReturnValue:
    """Run the previewed invalidation in the background; the preview again if its set changed meanwhile."""
    campaign = _campaign_or_404(campaign_id)
    form = InvalidationForm()
    if not form.validate_on_submit():
        return _invalidations_page(campaign, form, status=400)
    frozen = form.frozen()
    if frozen is None:
        return _invalidations_page(campaign, form, status=400, error=_("Preview the invalidation before running it."))
    max_id, expected, expected_counted = frozen
    try:
        batch = fraud.start(current_user, campaign, form.conditions(), form.reason.data or "",
                            max_signature_id=max_id, expected=expected, expected_counted=expected_counted,
                            ip=request.remote_addr)
    except PreviewChanged as exc:
        db.session.rollback()
        return _invalidations_page(campaign, form, exc.preview, status=exc.status_code, error=exc.message)
    except DomainError as exc:
        db.session.rollback()
        attach_error(form, exc)
        preview = fraud.preview(campaign, form.conditions(), max_id) if exc.field == "reason" else None
        return _invalidations_page(campaign, form, preview, status=exc.status_code)
    flash(_("Invalidating %(num)s signature(s) in the background; the list below shows when it is done.",
            num=batch.expected), "success")
    return redirect(url_for("fraud.invalidations", campaign_id=campaign.id))


@bp.post("/campaigns/<int:campaign_id>/invalidations/<int:batch_id>/reverse")
@platform_admin
def reverse_invalidation(campaign_id: int, batch_id: int) -> ResponseReturnValue:
    campaign = _campaign_or_404(campaign_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        batch = fraud.batch_of(campaign, batch_id) if is_row_id(batch_id) else None
        if batch is None:
            abort(404)
        fraud.reverse(current_user, batch, ip=request.remote_addr)
    except DomainError as exc:
        db.session.rollback()
        return _invalidations_page(campaign, InvalidationForm(formdata=None), status=exc.status_code,
                                   error=exc.message)
    flash(_("Reversing the invalidation in the background: its signatures and their counts come back."), "success")
    return redirect(url_for("fraud.invalidations", campaign_id=campaign.id))
