"""Sending webhook deliveries: Standard Webhooks signatures, retries, SSRF refusal.

A delivery row is written with its event (`webhooks.service.emit`); this
module sends it later, outside any request (`undersign.jobs`). Each attempt
is claimed in a short transaction (its due time is pushed past the attempt's
length, so a second sweeper skips it), the HTTP request runs with no
transaction open, and the outcome is written in another one.

Requests time out after ``TIMEOUT_SECONDS``, never follow redirects (a 3xx
is a failed attempt), and in production go only to public addresses: the
host is resolved, every address checked, and the connection made to the
address that was checked (no second look-up that could answer otherwise).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from standardwebhooks.webhooks import Webhook

from undersign.db import db, utcnow
from undersign.transaction import unit_of_work
from undersign.errors import InvalidInput
from undersign.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5.0
# Seconds before each retry: ×4 each time, the last capped; together just under a day.
RETRY_DELAYS = (30, 120, 480, 1920, 7680, 30720, 43200)
CLAIM_SECONDS = 60
SWEEP_BUDGET_SECONDS = 20.0
USER_AGENT = "undersign-webhooks/1"


# ---------------------------------------------------------------------------------------------
# Which URLs


def production() -> bool:
    return bool(current_app.config["UNDERSIGN_ENV"] == "production")


def check_url(url: str) -> list[str]:
    """The addresses ``url``'s host may be reached at; in development any (returns []).

    :raise InvalidInput: (field ``url``) not an http(s) URL; in production not HTTPS,
        or the host resolves to a private, loopback, link-local or reserved address.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(_("Enter a full URL starting with https://."), field="url")
    if parts.username or parts.password:
        raise InvalidInput(_("Leave user names and passwords out of the URL; the signature authenticates us."),
                           field="url")
    if not production():
        return []
    if parts.scheme != "https":
        raise InvalidInput(_("Webhook URLs must start with https://."), field="url")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise InvalidInput(_("%(host)s could not be found in DNS.", host=parts.hostname), field="url") from None
    addresses = sorted({str(info[4][0]) for info in infos})
    for address in addresses:
        if not ipaddress.ip_address(address.split("%")[0]).is_global:
            raise InvalidInput(_("%(host)s resolves to %(address)s, a private or reserved address; "
                                 "webhooks go only to addresses on the public internet.", host=parts.hostname, address=address),
                               field="url")
    return addresses


# ---------------------------------------------------------------------------------------------
# One HTTP request


@dataclass(frozen=True)
class Outcome:
    status: int | None
    milliseconds: int
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def signed_headers(secret: str, event_id: str, body: str, now: dt.datetime) -> dict[str, str]:
    """The Standard Webhooks headers for ``body``."""
    moment = now.replace(tzinfo=dt.timezone.utc)
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(secret).sign(event_id, moment, body),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


def send(url: str, secret: str, event_id: str, body: str) -> Outcome:
    """POST ``body`` to ``url`` once; never raises."""
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    headers = signed_headers(secret, event_id, body, utcnow())
    extensions: dict[str, str] = {}
    target = url
    try:
        addresses = check_url(url)
    except InvalidInput as exc:
        return Outcome(None, took(), str(exc)[:300])
    if addresses:  # production: connect to the address that was checked
        parts = urlsplit(url)
        host = parts.hostname or ""
        address = addresses[0]
        netloc = f"[{address}]" if ":" in address else address
        if parts.port:
            netloc += f":{parts.port}"
        target = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
        headers["host"] = parts.netloc.rsplit("@", 1)[-1]
        extensions["sni_hostname"] = host
    try:
        with httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False, trust_env=False) as client:
            response = client.post(target, content=body.encode(), headers=headers, extensions=extensions)
    except httpx.TimeoutException:
        return Outcome(None, took(), f"No answer within {TIMEOUT_SECONDS:.0f} seconds.")
    except httpx.HTTPError as exc:
        return Outcome(None, took(), (str(exc) or type(exc).__name__)[:300])
    error = None
    if response.is_redirect:
        error = "Redirects are not followed; register the final URL."
    elif not response.is_success:
        error = f"The endpoint answered {response.status_code}."
    return Outcome(response.status_code, took(), error)


# ---------------------------------------------------------------------------------------------
# Attempts


def due_ids(now: dt.datetime, limit: int = 100) -> list[int]:
    return list(db.session.scalars(
        select(WebhookDelivery.id).join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(WebhookDelivery.status == DeliveryStatus.PENDING.value, WebhookDelivery.next_attempt_at <= now,
               WebhookEndpoint.enabled.is_(True))
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(limit)
    ))


def deliver_due(now: dt.datetime | None = None, budget_seconds: float = SWEEP_BUDGET_SECONDS) -> int:
    """Attempt the deliveries that are due, for at most about ``budget_seconds`` (the rest wait for the next
    sweep: on the embedded default the same thread delivers the mail); returns how many were delivered.
    Never raises."""
    delivered = 0
    stop_at = time.monotonic() + budget_seconds
    try:
        with unit_of_work():
            ids = due_ids(now or utcnow())
    except Exception:
        log.exception("looking up due webhook deliveries failed")
        return 0
    for delivery_id in ids:
        if time.monotonic() >= stop_at:
            break
        try:
            delivered += attempt(delivery_id, now)
        except Exception:
            log.exception("webhook delivery %s failed", delivery_id)
    return delivered


def attempt(delivery_id: int, now: dt.datetime | None = None) -> bool:
    """Claim, send and record one delivery; True if it was delivered by this call."""
    now = now or utcnow()
    with unit_of_work():
        claimed = db.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == DeliveryStatus.PENDING.value,
                   WebhookDelivery.next_attempt_at <= now)
            .values(next_attempt_at=now + dt.timedelta(seconds=CLAIM_SECONDS))
            .returning(WebhookDelivery.id)
            .execution_options(synchronize_session=False)
        ).first()
        if claimed is None:
            return False
        delivery = db.session.get(WebhookDelivery, delivery_id)
        assert delivery is not None
        url, secret, event_id, body = delivery.endpoint.url, delivery.endpoint.secret, delivery.event_id, delivery.body
    outcome = send(url, secret, event_id, body)
    with unit_of_work():
        delivery = db.session.get(WebhookDelivery, delivery_id)
        if delivery is None:  # the endpoint was deleted meanwhile
            return False
        _record(delivery, outcome, now)
    return outcome.ok


def _record(delivery: WebhookDelivery, outcome: Outcome, now: dt.datetime) -> None:
    from undersign.webhooks.service import endpoint_gave_up

    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.response_status = outcome.status
    delivery.response_ms = outcome.milliseconds
    delivery.last_error = outcome.error
    if outcome.ok:
        delivery.status = DeliveryStatus.DELIVERED.value
        delivery.next_attempt_at = None
        return
    if delivery.attempts > len(RETRY_DELAYS):
        delivery.status = DeliveryStatus.FAILED.value
        delivery.next_attempt_at = None
        endpoint_gave_up(delivery.endpoint, now)
        return
    delivery.next_attempt_at = now + dt.timedelta(seconds=RETRY_DELAYS[delivery.attempts - 1])
