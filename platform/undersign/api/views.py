"""JSON API v1 (token authentication, see `undersign.api.auth`), its OpenAPI document and its reference page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify, render_template, request
from flask.typing import ResponseReturnValue

from undersign.api import idempotency, intake, openapi, resources
from undersign.api.auth import api
from undersign.api.schemas import (Campaign, CampaignList, CosignatureIn, CosignatureOut, Me, SignaturePage,
                                   SignatureQuery, WitnessKey, WitnessKeyIn, iso)
from undersign.links import absolute_url
from undersign.signatures.collected import record_collected
from undersign.transparency import witnesses
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


@bp.post("/campaigns/<slug>/signatures")
@api(scope="write", body=intake.SignaturesBody, answer=intake.BatchResultOut, status=(201, 200),
     errors=(404, 409, 413, 415, 422))
def record_signatures(slug: str) -> ResponseReturnValue:
    """Record signatures collected elsewhere (`undersign.api.intake`, `undersign.signatures.collected`).

    201 when any was created, else 200; each item's outcome in ``results``. With an ``Idempotency-Key``
    the same request is answered once and replayed after (`undersign.api.idempotency`).

    :raise 404: not a sponsor. :raise 400/413/415/422: the body as a whole (see `intake.parse`), or the
        key used with another request. :raise 409: the petition takes no signatures.
    """
    sponsorship = resources.sponsorship_of(g.api_org, slug)
    batch = intake.parse(request.get_data(cache=False), request.mimetype)
    claimed = None
    raw_key = request.headers.get("Idempotency-Key")
    if raw_key is not None:
        digest = idempotency.request_hash(request.method, request.path, batch.body)
        outcome = idempotency.claim(g.api_org.id, idempotency.clean_key(raw_key), digest)
        if isinstance(outcome, idempotency.Replay):
            return outcome.response, outcome.status_code, {"Idempotent-Replayed": "true"}
        claimed = outcome
    token = g.api_token
    recorded = record_collected(sponsorship.campaign, sponsorship, [item.signature for item in batch.parsed],
                                via=f"API token {token.prefix} ({token.name})", ip=request.remote_addr)
    body = intake.answer(batch, recorded)
    status = 201 if body["created"] else 200
    if claimed is not None:
        idempotency.remember(claimed, status, body)
    return body, status


@bp.put("/witness-key")
@api(scope="write", json=WitnessKeyIn, answer=WitnessKey, errors=(409,))
def register_witness_key(json: WitnessKeyIn) -> ResponseReturnValue:
    """Register your organization's own Ed25519 public key to witness the heads of the petitions it sponsors.

    Registering the same key again is fine. :raise 409: your organization already witnesses with another key
    (or one the platform keeps for it).
    """
    witness = witnesses.register_public_key(g.api_org, json.public_key)
    return {"sponsor": g.api_org.slug, "public_key": witness.public_key}


@bp.post("/campaigns/<slug>/log/cosignatures")
@api(scope="write", json=CosignatureIn, answer=CosignatureOut, status=201, errors=(404, 409))
def cosign_head(slug: str, json: CosignatureIn) -> ResponseReturnValue:
    """Countersign a signed head of the petition's log with your organization's witness key.

    Sign the RFC 8785 canonical JSON of the head from `/p/<slug>/log/head` without `signature` and
    `witnesses`. The head is refused (409) when it is not consistent with the last head your organization
    cosigned, or older than it; 400 when the signature does not verify.
    """
    sponsorship = resources.sponsorship_of(g.api_org, slug)
    cosignature = witnesses.cosign(g.api_org, sponsorship.campaign, json.tree_size, json.root_hash,
                                   json.signature)
    return {"campaign": sponsorship.campaign.slug, "sponsor": g.api_org.slug, "tree_size": cosignature.tree_size,
            "root_hash": cosignature.root_hash, "signature": cosignature.signature}, 201
