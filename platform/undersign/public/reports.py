""""Report this petition": the public form linked from every petition page, and its thank-you page.

No account is needed; the form carries the session's CSRF token (it is its own
page, never cached) and a honeypot. A bot that fills the honeypot is shown the
same thank-you page and nothing is stored. The reports land in the
administrators' queue (`undersign.moderation.report_views`).
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l

from undersign.extensions import limiter
from undersign.moderation import reports
from undersign.moderation.forms import ReportForm
from undersign.public.visibility import public_campaign
from undersign.web.access import public
from undersign.web.forms import field_errors

bp = Blueprint("reports", __name__)

# Per client address, counting report POSTs only (in the README).
REPORT_LIMIT = "5 per hour;20 per day"
REPORT_LIMITED = _l("You have sent several reports in a short time. Please wait an hour before you send another.")


@bp.route("/p/<slug>/report", methods=["GET", "POST"])
@public
@limiter.limit(REPORT_LIMIT, methods=["POST"], error_message=lambda: str(REPORT_LIMITED))  # type: ignore[arg-type]
def report(slug: str) -> ResponseReturnValue:
    """The form; a valid report is stored and answered by the thank-you page.

    :raise 404: the petition is not visible to the public (as its page).
    """
    campaign = public_campaign(slug, with_sponsors=False)
    form = ReportForm()
    thanks = url_for("reports.thanks", slug=campaign.slug)
    if request.method == "POST":
        if form.is_bot:
            return redirect(thanks, 303)
        if form.validate():
            with field_errors(form) as outcome:
                reports.file_report(campaign, form.to_input(), ip=request.remote_addr)
            if outcome.ok:
                return redirect(thanks, 303)
    status = 400 if request.method == "POST" else 200
    return render_template("public/report.html", campaign=campaign, form=form), status


@bp.get("/p/<slug>/report/thanks")
@public
def thanks(slug: str) -> ResponseReturnValue:
    """:raise 404: as the petition page."""
    return render_template("public/report_thanks.html", campaign=public_campaign(slug, with_sponsors=False))
