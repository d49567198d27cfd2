"""A signer's receipt: the campaign, the index of their ``+1`` entry, their salt, and the latest signed head.

With their own address it proves their signature is in the log (``python -m undersign.verify URL --receipt
FILE --email ADDRESS``). The receipt mail is composed by the job worker when it sends it, not in the
confirmation (`undersign.mail.queue_composed`): the head is the latest signed then, which may be a few
seconds older than their entry, or newer: the verifier checks the entry against the head it downloads.
"""

from __future__ import annotations

import json
from typing import Any

from flask import render_template
from flask_babel import gettext as _
from sqlalchemy import select

from undersign.campaigns.models import Campaign
from undersign.db import db
from undersign.links import absolute_url
from undersign.campaigns.translations import in_signers_language
from undersign.mail import ComposeOne, Composed, NotToBeSent, OutboxMessage, queue_composed, register_composer
from undersign.signatures.models import Signature
from undersign.signatures.signer_mail import signature_to_mail, signatures_and_campaigns
from undersign.signatures.tokens import withdraw_token
from undersign.transparency import heads, service
from undersign.transparency.models import LogEntry

RECEIPT_MAIL = "signature.receipt"


def receipt(campaign: Campaign, signature: Signature) -> dict[str, Any] | None:
    """None while the signature is not in the log (held or invalidated when confirmed)."""
    entry = service.entry_of(signature.id)
    if entry is None or not signature.log_salt:
        return None
    return {"campaign": campaign.slug, "index": entry.index, "salt": signature.log_salt,
            "head": heads.latest_head(campaign.id)}


def receipt_text(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True)


def send_receipt(campaign: Campaign, signature: Signature) -> None:
    """Mail the receipt to the signer, through the outbox like every mail (composed by the worker)."""
    if signature.email:
        queue_composed(signature.email, RECEIPT_MAIL, signature_id=signature.id)


def composer(messages: list[OutboxMessage]) -> ComposeOne:
    """Compose a batch of receipts: the signatures, their campaigns, their entries and each campaign's
    latest head read once for the batch."""
    signatures, campaigns = signatures_and_campaigns(m.signature_id for m in messages)
    entries: dict[int, int] = {}
    for signature_id, index in db.session.execute(
            select(LogEntry.signature_id, LogEntry.index)
            .where(LogEntry.signature_id.in_(list(signatures)), LogEntry.delta == 1)):
        if signature_id is not None and index >= entries.get(signature_id, -1):
            entries[signature_id] = index  # the latest +1, should it have been reinstated
    latest = {campaign_id: heads.latest_head(campaign_id) for campaign_id in campaigns}

    def compose_one(message: OutboxMessage) -> Composed:
        signature = signature_to_mail(message, signatures)
        index = entries.get(signature.id)
        if index is None or not signature.log_salt:
            raise NotToBeSent("the signature is not in the log")
        campaign = campaigns[signature.campaign_id]
        document = {"campaign": campaign.slug, "index": index, "salt": signature.log_salt,
                    "head": latest[campaign.id]}
        with in_signers_language(campaign, signature.language) as text:
            return Composed(_("Your receipt: %(title)s", title=text.title), render_template(
                "mail/signatures/receipt.txt", campaign=text, receipt=receipt_text(document),
                verify_url=absolute_url("transparency.verify_page", slug=campaign.slug),
                petition_url=absolute_url("public.petition", slug=campaign.slug),
                me_url=absolute_url("me.me"),
                withdraw_url=absolute_url("signing.withdraw", slug=campaign.slug, token=withdraw_token(signature))))

    return compose_one


def register() -> None:
    register_composer(RECEIPT_MAIL, composer)
