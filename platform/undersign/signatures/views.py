"""Signing: the sign POST, confirmation, withdrawal, public figures (.json) and the embeddable form.

The pages these routes render are built by `undersign.public` (the petition
page's view-model, the embed's); the routes stay on this blueprint because
each one signs, confirms or withdraws, or reads the counters (``signing.*``).

The sign form is checked with its own signed token and the browser's
``Origin`` / ``Sec-Fetch-Site`` instead of the session CSRF token (see
`undersign.signatures.forms`), so these views are exempt from the global
CSRF check; so are the confirm and withdraw buttons, whose token is signed for
their link (`undersign.signatures.forms.button_token`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, TypeVar
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, g, jsonify, make_response, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.wrappers import Response

from undersign.campaigns.models import Campaign, Sponsorship
from undersign.campaigns.translations import languages_of
from undersign.config import ConfigError
from undersign.db import utcnow
from undersign.errors import DomainError
from undersign.extensions import csrf, db, limiter
from undersign.links import absolute_url
from undersign.public.embed import embed_context
from undersign.public.petition import localized, page_language, page_sign_form, petition_context
from undersign.public.visibility import hosting_sponsorship, is_unavailable, public_campaign
from undersign.signatures import counting, service, tallies, tokens
from undersign.signatures.canonical import load_rules
from undersign.signatures.forms import (
    CONFIRM_PURPOSE,
    EMBED_PURPOSE,
    SIGN_PURPOSE,
    WITHDRAW_PURPOSE,
    SignForm,
    button_token,
    button_token_valid,
    form_token_valid,
    is_bot,
    sign_input,
)
from undersign.signatures.rules import SigningCampaign, Sponsor
from undersign.text import is_slug_shaped
from undersign.transparency.heads import latest_head
from undersign.web.access import public
from undersign.web.cache import cached_public, counted_recently, mark_counted
from undersign.web.forms import field_errors
from undersign.web.language import linked_language

bp = Blueprint("signing", __name__)

F = TypeVar("F", bound=Callable[..., Any])


def csrf_exempt(view: F) -> F:
    """`CSRFProtect.exempt` with its type kept (Flask-WTF ships none): the sign form carries its own token."""
    csrf.exempt(view)
    return view


@bp.record_once
def _check_email_rules(state: BlueprintSetupState) -> None:
    """A broken ``EMAIL_RULES_FILE`` stops the start-up with one line, not the first signature with a 500."""
    path = state.app.config.get("EMAIL_RULES_FILE")
    try:
        load_rules(path or None)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"EMAIL_RULES_FILE {path!r} cannot be used: {exc}") from exc


def sign_limit() -> str:
    """Per client address, counting sign POSTs only (hosted pages and the embed together), ``SIGN_RATE_LIMIT``;
    in the README. A flood below it is held, not refused (`undersign.signatures.screening`)."""
    return str(current_app.config["SIGN_RATE_LIMIT"])


EXPIRED_FORM = _l("This form had expired. Please check your details and send it again.")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def same_origin_request() -> bool:
    """False when the browser says the POST comes from another site's page.

    Browsers send ``Sec-Fetch-Site`` and ``Origin`` with form POSTs. Our own
    form, even inside another site's iframe, posts same-origin; a page on
    another site posting straight at us does not. Clients that send neither
    (old browsers, scripts) still need the signed form token.
    """
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    return origin.rstrip("/").lower() in {_origin(request.host_url), _origin(current_app.config["BASE_URL"])}


def _rerender(campaign: Campaign, host: Sponsorship | None, form: SignForm, status: int, embed: bool) -> Response:
    """The page the form came from, with the typed values and the errors; the first one is focused
    (`undersign.web.forms.Form.first_error_field`). It holds what the person typed: never cached."""
    if embed:
        body = render_template("signatures/embed.html", **embed_context(campaign, form))
    else:
        body = render_template("public/petition.html", **petition_context(campaign, host, sign_form=form))
    response = make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _sign(campaign: Campaign, host: Sponsorship | None, *, embed: bool = False) -> Response:
    """Validate -> sign -> "check your e-mail"; errors re-render the page with the typed values (nothing kept)."""
    if not same_origin_request():
        abort(403)
    token = request.form.get("csrf_token")
    form = page_sign_form(campaign, host, embed=embed, formdata=request.form)
    done = url_for("signing.embed_signed" if embed else "signing.signed", slug=campaign.slug, lang=linked_language())
    if form.is_bot:
        return redirect(done, 303)
    valid = form.validate()
    if not form_token_valid(token, campaign, form.purpose):
        form.form_errors.append(str(EXPIRED_FORM))
        return _rerender(campaign, host, form, 400, embed)
    if not valid:
        return _rerender(campaign, host, form, 400, embed)
    with field_errors(form) as outcome:
        sponsorship = host or service.attributed_sponsorship(campaign, form.via.data)
        data = form.to_input()
        if not data.source and (embed or host is not None):
            # Without a tag of its own, the signature still says which way it came (the dashboard's channels).
            data = replace(data, source=tallies.EMBED_SOURCE if embed else tallies.SPONSOR_PAGE_SOURCE)
        data = replace(data, language=page_language())
        service.sign(campaign, sponsorship, data, ip=request.remote_addr)
    if not outcome.ok:
        return _rerender(campaign, host, form, outcome.status, embed)
    # The same answer for a first signature and a repeated one (DESIGN §9).
    return redirect(done, 303)


def _sign_quick(target: SigningCampaign, host: Sponsor | None, *, embed: bool = False) -> Response:
    """`_sign` for a petition that takes signatures, from `service.signing_campaign`'s one light query:
    the form is read without WTForms and checked once, by the service. Anything it refuses (an expired
    form, a broken rule, the petition closing meanwhile) goes the whole way again (`_sign` on the full
    campaign), so the page comes back exactly as before, with every field's message and what was typed."""
    if not same_origin_request():
        abort(403)
    done = url_for("signing.embed_signed" if embed else "signing.signed", slug=target.slug, lang=linked_language())
    if is_bot(request.form):
        return redirect(done, 303)
    if form_token_valid(request.form.get("csrf_token"), target, EMBED_PURPOSE if embed else SIGN_PURPOSE):
        try:
            data = sign_input(request.form)
            sponsorship = host or service.attributed_sponsor(target, request.form.get("via"))
            if not data.source and (embed or host is not None):
                # Without a tag of its own, the signature still says which way it came (the dashboard's channels).
                data = replace(data, source=tallies.EMBED_SOURCE if embed else tallies.SPONSOR_PAGE_SOURCE)
            service.sign(target, sponsorship, replace(data, language=page_language()), ip=request.remote_addr)
            # The same answer for a first signature and a repeated one (DESIGN §9).
            return redirect(done, 303)
        except DomainError:
            db.session.rollback()
    # The rare way: the full page, its form and every message, as `_sign` has always made them.
    campaign = public_campaign(target.slug)
    full_host = hosting_sponsorship(campaign, host.slug) if host is not None else None
    if host is not None and full_host is None:  # suspended meanwhile: on to the canonical page
        return redirect(url_for("signing.sign", slug=campaign.slug), 307)
    return _sign(campaign, full_host, embed=embed)


def _signing_campaign(slug: str) -> SigningCampaign | None:
    return service.signing_campaign(slug, utcnow()) if is_slug_shaped(slug) else None


# The sign form posts to the page it is on (``POST /p/<slug>``, ``POST /o/<org>/p/<slug>``), so a
# form sent back with errors is the petition page at the petition's own address: reloading it sends
# the form again instead of landing on a URL that only takes POSTs. ``POST .../sign`` stays for
# clients that use the documented address; a GET there (a bookmark, a reload typed into the address
# bar) is sent to the page's form.


@bp.post("/p/<slug>")
@bp.post("/p/<slug>/sign")
@public
@csrf_exempt
@limiter.shared_limit(sign_limit, scope="sign")
def sign(slug: str) -> ResponseReturnValue:
    """Sign on the canonical page (credited to ``via`` if it is a sponsor, else the lead)."""
    target = _signing_campaign(slug)
    if target is not None:
        return _sign_quick(target, None)
    return _sign(public_campaign(slug), None)


@bp.post("/o/<org>/p/<slug>")
@bp.post("/o/<org>/p/<slug>/sign")
@public
@csrf_exempt
@limiter.shared_limit(sign_limit, scope="sign")
def sign_hosted(org: str, slug: str) -> ResponseReturnValue:
    """Sign on a sponsor's hosted page, credited to that sponsor. :raise 404: not an accepted sponsor.

    The hosted page of a suspended sponsor sends the form on to the canonical page (307 keeps the
    POST), where it is credited to the lead.
    """
    target = _signing_campaign(slug)
    sponsor = service.hosting_sponsor(target, org) if target is not None else None
    if target is not None and sponsor is not None:
        return _sign_quick(target, sponsor)
    campaign = public_campaign(slug)
    host = hosting_sponsorship(campaign, org)
    if host is None:
        return redirect(url_for("signing.sign", slug=campaign.slug), 307)
    return _sign(campaign, host)


@bp.get("/p/<slug>/sign")
@public
def sign_page(slug: str) -> ResponseReturnValue:
    """:raise 404: as the petition page."""
    campaign = public_campaign(slug, with_sponsors=False)
    return redirect(url_for("public.petition", slug=campaign.slug) + "#sign", 303)


@bp.get("/o/<org>/p/<slug>/sign")
@public
def sign_hosted_page(org: str, slug: str) -> ResponseReturnValue:
    """:raise 404: as the hosted page."""
    campaign = public_campaign(slug)
    host = hosting_sponsorship(campaign, org)
    if host is None:  # a suspended sponsor's page: the canonical one
        return redirect(url_for("public.petition", slug=campaign.slug) + "#sign", 303)
    return redirect(url_for("public.hosted_petition", org=host.organization.slug, slug=campaign.slug) + "#sign", 303)


@bp.get("/p/<slug>/signed")
@public
def signed(slug: str) -> ResponseReturnValue:
    return render_template("signatures/check_email.html", campaign=localized(public_campaign(slug, with_sponsors=False)))


# ---------------------------------------------------------------------------------------------
# Confirm and withdraw: the link opens a page with one button; only the POST changes anything.


REFUSED_BUTTON = _l("This button had expired or was not sent from this page, so nothing happened. "
                    "Press it again if you meant to.")


def _from_another_site() -> bool:
    """The browser says the POST comes from another site's page (`same_origin_request`'s headers).

    The button pages send no referrer (their address holds the link's secret), so browsers post them
    with ``Origin: null``: then ``Sec-Fetch-Site`` decides, or, without it, the token alone.
    """
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site not in ("same-origin", "none")
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        return False
    return origin.rstrip("/").lower() not in {_origin(request.host_url), _origin(current_app.config["BASE_URL"])}


def _button_refused(purpose: str, token: str) -> int | None:
    """The status to refuse the button's POST with (403 from another site, 400 without a valid token), or None.

    A POST from another site's page, or without the token served on this link's page, changes nothing
    (`signatures.forms.button_token`): the session CSRF token is not used here, so the page opened from
    an e-mail sets no cookie and the POST reads none.
    """
    if _from_another_site():
        return 403
    if not button_token_valid(request.form.get("csrf_token"), token, purpose):
        return 400
    return None


@bp.route("/p/<slug>/confirm/<token>", methods=["GET", "POST"])
@public
@csrf_exempt
def confirm(slug: str, token: str) -> ResponseReturnValue:
    """GET shows the button (mail scanners prefetch links); POST confirms and counts, once.

    :raise NotFound: unknown, expired or withdrawn link (the error page says so).
    :raise 400, 403: the POST has no valid button token, or comes from another site (nothing is counted;
        the page with the button is shown again, saying so).
    """
    campaign = public_campaign(slug, with_sponsors=False)
    refused = _button_refused(CONFIRM_PURPOSE, token) if request.method == "POST" else None
    if request.method == "POST" and refused is None:
        signature, _ = service.confirm(campaign, token)
        response = make_response(render_template(
            "signatures/confirmed.html", campaign=localized(campaign), signature=signature,
            # A held signature is thanked exactly as a counted one (it counts once released): the sender learns nothing.
            supporters=campaign.signature_count + (signature.held_at is not None and signature.invalidated_at is None),
            withdraw_url=url_for("signing.withdraw", slug=campaign.slug, token=tokens.withdraw_token(signature)),
            petition_url=url_for("public.petition", slug=campaign.slug),
            verify_url=url_for("transparency.verify_page", slug=campaign.slug),
        ))
        # The pages this browser opens next show the count with this signature in it.
        mark_counted(response)
        return response
    signature = tokens.signature_by_confirm_token(campaign, token)
    return render_template(
        "signatures/confirm.html", campaign=localized(campaign), signature=signature,
        button_token=button_token(token, CONFIRM_PURPOSE), refused=REFUSED_BUTTON if refused else None,
        withdraw_url=url_for("signing.withdraw", slug=campaign.slug, token=tokens.withdraw_token(signature)),
    ), refused or 200


def _any_campaign(slug: str) -> Campaign:
    """Withdrawal works on every campaign that still exists, even one taken down: erasure is a right."""
    if not is_slug_shaped(slug):  # odd bytes (NUL) never reach the database
        abort(404)
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == slug))
    if campaign is None:
        abort(404)
    return campaign


@bp.route("/p/<slug>/withdraw/<token>", methods=["GET", "POST"])
@public
@csrf_exempt
def withdraw(slug: str, token: str) -> ResponseReturnValue:
    """GET shows the button; POST withdraws the signature and erases the signer's details.

    :raise NotFound: unknown link.
    :raise 400, 403: as `confirm`: nothing is withdrawn, the page with the button is shown again.
    """
    campaign = _any_campaign(slug)
    refused = _button_refused(WITHDRAW_PURPOSE, token) if request.method == "POST" else None
    if request.method == "POST" and refused is None:
        service.withdraw(campaign, token)
        return render_template("signatures/withdrawn.html", campaign=campaign)
    signature = tokens.signature_by_withdraw_token(campaign, token)
    return render_template("signatures/withdraw.html", campaign=campaign, signature=signature,
                           button_token=button_token(token, WITHDRAW_PURPOSE),
                           refused=REFUSED_BUTTON if refused else None), refused or 200


# ---------------------------------------------------------------------------------------------
# Public figures


@bp.get("/p/<slug>.json")
@public
def figures(slug: str) -> ResponseReturnValue:
    """Count, goal, status and each sponsor's part; CORS-open and cacheable (304 on ``If-Modified-Since``).

    The same for everyone, so it is micro-cached whoever asks (`undersign.web.cache.cached_public`).
    An unavailable petition (`undersign.public.visibility.is_unavailable`) still answers 200 with its
    count: the figures stay true and open; ``status`` says ``unavailable``.
    """
    def render() -> Response:
        campaign = public_campaign(slug, unavailable_ok=True)
        figures = (counting.unavailable_figures(campaign) if is_unavailable(campaign)
                   else counting.public_figures(campaign))
        figures["log_head"] = latest_head(campaign.id)  # the signed head of the public log (`transparency`)
        if "title" in figures:
            # The title in the asker's language (``?lang=`` or Accept-Language) where that version exists.
            text = localized(campaign)
            figures.update(title=text.title, language=text.language, languages=languages_of(campaign))
        response = jsonify(figures)
        response.vary.add("Accept-Language")
        # Suspending or reinstating the lead changes the answer without moving the count.
        moments = (campaign.changed_at, campaign.lead_organization.status_changed_at)
        response.last_modified = max(m for m in moments if m is not None).replace(microsecond=0)
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Cache-Control"] = (
            f"public, max-age={current_app.config['PUBLIC_CACHE_MAX_AGE']}, stale-while-revalidate=60"
        )
        return response.make_conditional(request)

    return cached_public(render, for_everyone=True)


# ---------------------------------------------------------------------------------------------
# The embeddable form: the only page other sites may frame.


@bp.route("/p/<slug>/embed", methods=["GET", "POST"])
@public
@csrf_exempt
@limiter.shared_limit(sign_limit, scope="sign", methods=["POST"])
def embed(slug: str) -> ResponseReturnValue:
    """A compact sign form for other sites' iframes; cookie-less (signed token + Origin check)."""
    g.framable = True
    if request.method == "POST":
        target = _signing_campaign(slug)
        if target is not None:
            return _sign_quick(target, None, embed=True)
    campaign = public_campaign(slug)
    if request.method == "POST":
        return _sign(campaign, None, embed=True)
    response = make_response(render_template("signatures/embed.html", **embed_context(campaign, page_sign_form(campaign, embed=True))))
    response.headers["Cache-Control"] = (
        "private, no-store" if counted_recently() else f"public, max-age={current_app.config['PUBLIC_CACHE_MAX_AGE']}"
    )
    return response


@bp.get("/p/<slug>/embed/signed")
@public
def embed_signed(slug: str) -> ResponseReturnValue:
    g.framable = True
    campaign = public_campaign(slug, with_sponsors=False)
    return render_template("signatures/embed_signed.html", campaign=localized(campaign),
                           petition_url=absolute_url("public.petition", slug=campaign.slug))

