"""The log's public JSON: head, entries, inclusion and consistency proofs, the signing key. CORS-open,
cacheable, no cookies; bad parameters are a 400 with a message, an unknown petition a 404."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from undersign.db import db, unit_writes, writing
from undersign.public.visibility import public_campaign
from undersign.transparency import heads, merkle, service, witnesses
from undersign.web.access import public

bp = Blueprint("transparency", __name__)
MAX_ENTRIES = 1000


class BadParameter(Exception):
    pass


def _open(body: object, max_age: int | None = None) -> Response:
    response = jsonify(body)
    response.headers["Access-Control-Allow-Origin"] = "*"
    age = current_app.config["PUBLIC_CACHE_MAX_AGE"] if max_age is None else max_age
    response.headers["Cache-Control"] = f"public, max-age={age}"
    return response


def _bad(message: str) -> Response:
    response = jsonify({"error": message})
    response.status_code = 400
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _int_arg(name: str, default: int | None = None) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        if default is None:
            raise BadParameter(f"{name} is required.")
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        raise BadParameter(f"{name} must be a whole number, at least 0.")
    return int(raw)


@bp.get("/.well-known/undersign-log-key")
@public
def log_key() -> ResponseReturnValue:
    """The platform's key and each witnessing sponsor's (kept briefly in caches: a sponsor may start witnessing)."""
    return _open({**heads.public_key_document(), "witnesses": witnesses.published_keys()})


@bp.get("/p/<slug>/log/head")
@public
def head(slug: str) -> ResponseReturnValue:
    """The latest signed head; a fresh one is signed when the log grew and the latest is over a minute old."""
    campaign = public_campaign(slug, unavailable_ok=True)
    if heads.head_due(campaign) and not unit_writes():
        # A reading request began a read transaction, which on SQLite cannot become a write once another
        # writer committed: end it (it wrote nothing) and sign in one that holds the write lock from its start.
        db.session.rollback()
        with writing():
            campaign = public_campaign(slug, unavailable_ok=True)
    return _open(heads.head_document(heads.current_head(campaign), campaign.slug))


@bp.get("/p/<slug>/log/entries")
@public
def entries(slug: str) -> ResponseReturnValue:
    campaign = public_campaign(slug, unavailable_ok=True)
    try:
        start = _int_arg("start", 0)
        end = _int_arg("end", start + MAX_ENTRIES)
    except BadParameter as error:
        return _bad(str(error))
    if end < start:
        return _bad("end must not be smaller than start.")
    if end - start > MAX_ENTRIES:
        return _bad(f"At most {MAX_ENTRIES} entries at a time.")
    return _open({"entries": [service.entry_document(e) for e in service.entries(campaign.id, start, end)]})


@bp.get("/p/<slug>/log/proof/inclusion")
@public
def inclusion(slug: str) -> ResponseReturnValue:
    campaign = public_campaign(slug, unavailable_ok=True)
    try:
        index, tree_size = _int_arg("index"), _int_arg("tree_size")
    except BadParameter as error:
        return _bad(str(error))
    if tree_size > service.size(campaign.id):
        return _bad("tree_size is larger than the log.")
    if index >= tree_size:
        return _bad("index must be smaller than tree_size.")
    leaves = service.leaf_hashes(campaign.id, tree_size)
    return _open({"index": index, "tree_size": tree_size, "leaf_hash": leaves[index].hex(),
                  "audit_path": [h.hex() for h in merkle.inclusion_proof(index, leaves)]})


@bp.get("/p/<slug>/log/proof/consistency")
@public
def consistency(slug: str) -> ResponseReturnValue:
    campaign = public_campaign(slug, unavailable_ok=True)
    try:
        first, second = _int_arg("first"), _int_arg("second")
    except BadParameter as error:
        return _bad(str(error))
    if second > service.size(campaign.id):
        return _bad("second is larger than the log.")
    if not 0 < first <= second:
        return _bad("first must be at least 1 and not larger than second.")
    leaves = service.leaf_hashes(campaign.id, second)
    return _open({"first": first, "second": second,
                  "proof": [h.hex() for h in merkle.consistency_proof(first, leaves)]})


@bp.get("/p/<slug>/verify")
@public
def verify_page(slug: str) -> ResponseReturnValue:
    """Checks the log in the browser (``static/js/log-verify.js``), the same checks as ``undersign.verify``."""
    campaign = public_campaign(slug, unavailable_ok=True)
    return render_template("transparency/verify.html", campaign=campaign)
