"""JSON API v1 (token authentication, see `undersign.api.auth`), its OpenAPI document and its reference page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify, render_template, request
from flask.typing import ResponseReturnValue

from undersign.api import openapi, resources
from undersign.api.auth import api
from undersign.api.schemas import Campaign, CampaignList, Me, SignaturePage, SignatureQuery, iso
from undersign.links import absolute_url
from undersign.web.access import public

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# How long a client or cache may keep the document: it changes only with a deployment.
DOCUMENT_MAX_AGE = 300


@bp.get("/me")
@api(scope="read", answer=Me)
def me() -> ResponseReturnValue:
    """The token's organization and scope.

    A cheap way to check that a token works, and whose it is.
    """
    token = g.api_token
    return {
        "organization": {"slug": g.api_org.slug, "name": g.api_org.name},
        "token": {"name": token.name, "prefix": token.prefix, "scope": token.scope_label},
        "scope": token.scope_label,
    }


@bp.get("/campaigns")
@api(scope="read", answer=CampaignList)
def campaigns() -> ResponseReturnValue:
    """The campaigns your organization sponsors.

    Led and co-sponsored, newest first, each with the shared count (`total_signatures`) and the part
    credited to your organization.
    """
    found = [resources.campaign_resource(s) for s in resources.sponsorships_of(g.api_org)]
    return {
        "total_records": len(found),
        "_links": {"self": {"href": absolute_url("api.campaigns")}},
        "_embedded": {"osdi:petitions": found},
    }


@bp.get("/campaigns/<slug>")
@api(scope="read", answer=Campaign, errors=(404,))
def campaign(slug: str) -> ResponseReturnValue:
    """One campaign your organization sponsors.

    404 when it does not sponsor it (or there is no such campaign: the answer does not tell which).
    """
    return resources.campaign_resource(resources.sponsorship_of(g.api_org, slug))


@bp.get("/campaigns/<slug>/signatures")
@api(scope="read", answer=SignaturePage, errors=(404,), query=SignatureQuery)
def campaign_signatures(slug: str, query: SignatureQuery) -> ResponseReturnValue:
    """The campaign's signers who consented to your organization, a page at a time.

    Confirmed, not withdrawn, oldest change first. A signer your organization may no longer hold
    (withdrawn, unsubscribed from it, invalidated) comes as a tombstone (`deleted: true`): delete your copy.
    Follow `_links.next` until it is absent; pass `modified_since` for an incremental sync.
    """
    sponsorship = resources.sponsorship_of(g.api_org, slug)
    page = resources.signature_page(sponsorship, after=query.cursor, modified_since=query.modified_since,
                                    per_page=query.per_page)
    kept: dict[str, Any] = {"per_page": query.per_page}
    if query.modified_since is not None:
        kept["modified_since"] = iso(query.modified_since)
    here = {"cursor": query.cursor.encode()} if query.cursor is not None else {}
    links: dict[str, Any] = {"self": {"href": absolute_url("api.campaign_signatures", slug=slug, **kept, **here)}}
    if page.next is not None:
        links["next"] = {"href": absolute_url("api.campaign_signatures", slug=slug, **kept,
                                              cursor=page.next.encode())}
    return {"per_page": query.per_page, "_links": links, "_embedded": {"osdi:signatures": page.items}}


@bp.get("/openapi.json")
@public
def openapi_document() -> ResponseReturnValue:
    """The OpenAPI 3.1 document of this API, generated from the models that validate it. No token needed."""
    response = jsonify(openapi.document())
    response.cache_control.public = True
    response.cache_control.max_age = DOCUMENT_MAX_AGE
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/docs")
@public
def reference() -> ResponseReturnValue:
    """The API's reference, read from the same document: every path, its parameters, body and answers."""
    return render_template("api/docs.html", doc=openapi.document(), schema_of=openapi.schema_of,
                           type_label=openapi.type_label, prose=openapi.prose, status_phrase=openapi.status_phrase)
