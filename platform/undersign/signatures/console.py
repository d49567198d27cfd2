"""The supporters' export in the console: the signers who consented to this organization, as a streamed CSV.

Its URLs sit with the campaign's console pages (``/orgs/<org>/campaigns/<slug>/export``),
on a blueprint of this domain: the campaigns console cannot import the signatures
domain (the domains import one way), so the campaign is reached here the same way,
through ``g.org``'s accepted sponsorship, or 404 (STYLE 9). Admins and owners
only (`Permission.VIEW_SUPPORTERS`): a viewer or an editor gets 403.
"""

from __future__ import annotations

from typing import Any

from flask import Response, g, render_template, request, stream_with_context
from flask.typing import ResponseReturnValue
from flask_login import current_user

from undersign.campaigns.models import Campaign
from undersign.organizations.models import Permission
from undersign.signatures import export
from undersign.signatures.forms import ExportForm
from undersign.web.access import member
from undersign.web.database import writes
from undersign.web.tenancy import campaign_console_blueprint, console_campaign

bp = campaign_console_blueprint("supporters", __name__)


@bp.context_processor
def _console_helpers() -> dict[str, Any]:
    return {"Permission": Permission}  # the campaign's console navigation asks what the member may do


def _page(petition: Campaign, form: ExportForm, status: int = 200) -> ResponseReturnValue:
    return render_template("campaigns/export.html", org=g.org, campaign=petition, form=form), status


@bp.get("/<slug>/export")
@member(Permission.VIEW_SUPPORTERS)
def export_page(slug: str) -> ResponseReturnValue:
    return _page(console_campaign(), ExportForm(formdata=None))


@bp.get("/<slug>/export.csv")
@writes
@member(Permission.VIEW_SUPPORTERS)
def export_csv(slug: str) -> ResponseReturnValue:
    """The CSV, streamed: the audit event is committed with this request, the rows follow it.

    :raise 400: a filter does not parse (the form page again, naming the field).
    """
    petition = console_campaign()
    form = ExportForm(formdata=request.args)
    if not form.validate():
        return _page(petition, form, 400)
    filters = form.filters()
    event = export.start_export(current_user, g.org, petition, filters, ip=request.remote_addr)
    chunks = export.csv_chunks(petition.id, g.org.id, filters, event.id)
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{petition.slug}-{g.org.slug}-supporters-{filters.status.value}.csv"')
    response.headers["Cache-Control"] = "no-store"
    return response
