"""The public pages: the list of petitions, organization pages, and the hosted petition pages.

Public pages are cacheable for anonymous visitors (``Last-Modified``/304,
``max-age``, ``stale-while-revalidate``) and the petition page is micro-cached
per process (`undersign.web.cache`). Signing on these pages is the signing
blueprint's (`undersign.signatures.views`).

A petition that is taken down or whose lead is suspended answers every page of
it (the hosted pages, signing, confirming, the embed) with the unavailable page,
``410 Gone``: the petition is not there for now, so search engines drop it and a
client that checks the status learns so, while the body still says, in neutral
words, how many signed (and the moderators' public reason for a takedown). 410
does not promise permanence to browsers or caches: a reinstated or restored
petition answers 200 again once ``max-age`` has passed.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from undersign.campaigns.models import Campaign
from undersign.db import utcnow
from undersign.public.history import history_csv, history_json
from undersign.public.petition import localized, page_last_modified, petition_context, safe_link, supporters
from undersign.public.shell import shell_page, shells_apply
from undersign.public.visibility import (
    PetitionUnavailable,
    clean_search,
    hosting_sponsorship,
    hosts_page,
    organization_campaigns,
    page_state,
    public_campaign,
    public_organization,
    search_campaigns,
)
from undersign.web.access import public
from undersign.web.cache import cached_public, public_cache_control

bp = Blueprint("public", __name__)
# The campaign cards (home and organization pages) show each petition in the page's language where it has it.
bp.add_app_template_global(localized, "localized")


def render_petition(slug: str, org: str | None = None) -> Response:
    """The hosted page (``org``: a sponsor's), or 304 when the visitor's copy is current (checked before any
    rendering). Read in one query of plain values; the text comes from this process's shell when it may
    (`undersign.public.shell`), else the whole page is rendered.

    :raise 404: not visible to the public, or ``org`` is not an accepted sponsor.
    :raise PetitionUnavailable: taken down or its lead suspended.
    """
    state = page_state(slug)
    if state.unavailable:
        public_campaign(slug)  # raises PetitionUnavailable with the campaign the unavailable page shows
    host = state.host(org) if org is not None else None
    if org is not None and host is None:
        return suspended_host(state.slug)
    now = utcnow()
    modified = page_last_modified(state, now)
    since = request.if_modified_since
    if since is not None and modified <= since:
        response = Response(status=304)
    else:
        body = shell_page(state, host, now) if shells_apply() else None
        if body is None:
            campaign = public_campaign(slug)
            hosting = hosting_sponsorship(campaign, org) if org is not None else None
            if org is not None and hosting is None:
                return suspended_host(campaign.slug)
            body = render_template("public/petition.html", **petition_context(campaign, hosting))
        response = make_response(body)
    response.last_modified = modified
    public_cache_control(response)
    return response


@bp.app_errorhandler(PetitionUnavailable)
def unavailable(exc: PetitionUnavailable) -> ResponseReturnValue:
    """Any page of an unavailable petition: 410 with the count kept; a POST (signing, confirming) recorded nothing."""
    campaign = exc.campaign
    template = "public/unavailable_embed.html" if g.get("framable") else "public/unavailable.html"
    response = make_response(render_template(
        template, count_text=supporters(campaign.signature_count), taken_down=campaign.taken_down_at is not None,
        reason=campaign.takedown_reason, refused=request.method == "POST",
    ), 410)
    public_cache_control(response)
    return response


def suspended_host(slug: str) -> Response:
    """A suspended co-sponsor's hosted copy sends visitors to the canonical page, where the petition runs
    without it (302: it comes back when the organization is reinstated)."""
    return redirect(url_for("public.petition", slug=slug), 302)


@bp.get("/")
@public
def home() -> ResponseReturnValue:
    words = clean_search(request.args.get("q"))
    page = request.args.get("page", 1, type=int) or 1
    page = max(1, min(page, 10_000))
    campaigns, has_next = search_campaigns(words, page)
    response = make_response(render_template(
        "public/home.html", campaigns=campaigns, q=words, page=page, has_next=has_next, now=utcnow(),
    ))
    public_cache_control(response)
    return response


@bp.get("/o/<org>")
@public
def organization(org: str) -> ResponseReturnValue:
    """An approved organization's public page. :raise 404: not approved or unknown."""
    organization = public_organization(org)
    led, co_sponsored = organization_campaigns(organization)
    website = organization.website if safe_link(organization.website) else None
    response = make_response(render_template(
        "public/organization.html", org=organization, led=led, co_sponsored=co_sponsored, website=website,
        now=utcnow(), hosts_page=hosts_page,
    ))
    public_cache_control(response)
    return response


@bp.get("/p/<slug>")
@public
def petition(slug: str) -> ResponseReturnValue:
    """The canonical hosted page. :raise 404: not visible to the public (see `public_campaign`)."""
    return cached_public(lambda: render_petition(slug), finish=public_cache_control)


@bp.get("/o/<org>/p/<slug>")
@public
def hosted_petition(org: str, slug: str) -> ResponseReturnValue:
    """The petition hosted by one accepted sponsor. :raise 404: ``org`` is not an accepted sponsor."""
    return cached_public(lambda: render_petition(slug, org), finish=public_cache_control)


def _open_data(response: Response, campaign: Campaign) -> Response:
    """The ``.json``'s headers: CORS-open, cacheable, ``Last-Modified`` from the count's last move (304 on a match)."""
    response.last_modified = campaign.changed_at.replace(microsecond=0)
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = (
        f"public, max-age={current_app.config['PUBLIC_CACHE_MAX_AGE']}, stale-while-revalidate=60"
    )
    return response.make_conditional(request)


@bp.get("/p/<slug>/history.json")
@public
def history(slug: str) -> ResponseReturnValue:
    """How the petition grew, per day and sponsor (`public.history`), still open data while the petition is
    unavailable (counts only). :raise 404: as the petition page."""
    def render() -> Response:
        campaign = public_campaign(slug, unavailable_ok=True)
        return _open_data(jsonify(history_json(campaign)), campaign)

    return cached_public(render, for_everyone=True)


@bp.get("/p/<slug>/history.csv")
@public
def history_as_csv(slug: str) -> ResponseReturnValue:
    """The same as CSV, to open in a spreadsheet. :raise 404: as the petition page."""
    def render() -> Response:
        campaign = public_campaign(slug, unavailable_ok=True)
        response = Response(history_csv(campaign), mimetype="text/csv")
        response.headers["Content-Disposition"] = f'inline; filename="{campaign.slug}-history.csv"'
        return _open_data(response, campaign)

    return cached_public(render, for_everyone=True)
