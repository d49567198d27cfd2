"""JSON API v1 (token authentication, see `undersign.api.auth`)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, request
from flask.typing import ResponseReturnValue

from undersign.api import idempotency, intake, resources
from undersign.api.auth import api
from undersign.links import absolute_url
from undersign.signatures.collected import record_collected

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.get("/me")
@api(scope="read")
def me() -> ResponseReturnValue:
    """The token's organization and scope."""
    token = g.api_token
    return {
        "organization": {"slug": g.api_org.slug, "name": g.api_org.name},
        "token": {"name": token.name, "prefix": token.prefix, "scope": token.scope_label},
        "scope": token.scope_label,
    }


@bp.get("/campaigns")
@api(scope="read")
def campaigns() -> ResponseReturnValue:
    """The campaigns the token's organization sponsors."""
    found = [resources.campaign_resource(s) for s in resources.sponsorships_of(g.api_org)]
    return {
        "total_records": len(found),
        "_links": {"self": {"href": absolute_url("api.campaigns")}},
        "_embedded": {"osdi:petitions": found},
    }


@bp.get("/campaigns/<slug>")
@api(scope="read")
def campaign(slug: str) -> ResponseReturnValue:
    """One campaign the organization sponsors. :raise 404: it does not sponsor it."""
    return resources.campaign_resource(resources.sponsorship_of(g.api_org, slug))


@bp.get("/campaigns/<slug>/signatures")
@api(scope="read")
def campaign_signatures(slug: str) -> ResponseReturnValue:
    """The campaign's signers who consented to the organization, and tombstones, a page at a time.

    :raise 400: a bad ``cursor``, ``per_page`` or ``modified_since``. :raise 404: not a sponsor.
    """
    sponsorship = resources.sponsorship_of(g.api_org, slug)
    args = request.args
    per_page = resources.parse_per_page(args.get("per_page"))
    since_raw = args.get("modified_since")
    since = resources.parse_modified_since(since_raw) if since_raw is not None else None
    cursor = args.get("cursor")
    after = resources.parse_cursor(cursor) if cursor is not None else None
    page = resources.signature_page(sponsorship, after=after, modified_since=since, per_page=per_page)
    kept: dict[str, Any] = {"per_page": per_page}
    if since_raw is not None:
        kept["modified_since"] = since_raw
    links: dict[str, Any] = {"self": {"href": absolute_url("api.campaign_signatures", slug=slug, **kept,
                                                          **({"cursor": cursor} if cursor else {}))}}
    if page.next is not None:
        links["next"] = {"href": absolute_url("api.campaign_signatures", slug=slug, **kept,
                                              cursor=page.next.encode())}
    return {"per_page": per_page, "_links": links, "_embedded": {"osdi:signatures": page.items}}


@bp.post("/campaigns/<slug>/signatures")
@api(scope="write")
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
