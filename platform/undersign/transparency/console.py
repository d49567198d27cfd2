"""Witnessing in a sponsor's console: enable it with a key the platform keeps, and countersign the current head.

The routes reach the campaign through ``g.org``'s accepted sponsorship (`campaign_console_blueprint`): another
organization's campaign is a 404 whatever the role. Enabling and cosigning need MANAGE_CAMPAIGNS.
"""

from __future__ import annotations

from flask import g, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from undersign.campaigns.views.console import press_button
from undersign.organizations.models import Permission
from undersign.transparency import witnesses
from undersign.transparency.models import Cosignature, Witness
from undersign.web.access import member
from undersign.web.forms import EmptyForm
from undersign.web.tenancy import campaign_console_blueprint, console_campaign

bp = campaign_console_blueprint("witnessing", __name__)


@bp.get("/<slug>/witness")
@member(Permission.VIEW)
def overview(slug: str) -> ResponseReturnValue:
    petition = console_campaign()
    return render_template("transparency/witness.html", org=g.org, campaign=petition, form=EmptyForm(),
                           witness=witnesses.witness_of(g.org),
                           last=witnesses.last_cosigned(g.org.id, petition.id), Permission=Permission)


@bp.post("/<slug>/witness/enable")
@member(Permission.MANAGE_CAMPAIGNS)
def enable(slug: str) -> Response:
    console_campaign()

    def done(_witness: Witness) -> str:
        return str(_("Witnessing is on. The platform keeps a key for your organization and publishes its public "
                     "half."))

    return press_button(lambda: witnesses.enable_held_key(g.org), done, url_for("witnessing.overview", slug=slug))


@bp.post("/<slug>/witness/cosign")
@member(Permission.MANAGE_CAMPAIGNS)
def cosign(slug: str) -> Response:
    petition = console_campaign()

    def done(cosignature: Cosignature) -> str:
        return str(_("Your organization witnessed the head of %(size)s entries.", size=cosignature.tree_size))

    return press_button(lambda: witnesses.cosign_with_held_key(g.org, petition), done, url_for("witnessing.overview", slug=slug))
