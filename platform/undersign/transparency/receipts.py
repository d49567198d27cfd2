"""A signer's receipt: the campaign, the index of their ``+1`` entry, their salt, and the latest signed head.

With their own address it proves their signature is in the log (``python -m undersign.verify URL --receipt
FILE --email ADDRESS``). The head is the latest signed when they confirmed, which may be a few seconds older
than their entry: the verifier checks the entry against the head it downloads.
"""

from __future__ import annotations

import json
from typing import Any

from flask_babel import gettext as _

from undersign.campaigns.models import Campaign
from undersign.links import absolute_url
from undersign.campaigns.translations import CampaignInLanguage, in_signers_language
from undersign.mail import queue_message
from undersign.signatures.models import Signature
from undersign.signatures.tokens import withdraw_token
from undersign.transparency import heads, service


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
    """Mail the receipt to the signer, through the outbox like every mail."""
    document = receipt(campaign, signature)
    if document is None or not signature.email:
        return
    with in_signers_language(campaign, signature.language) as text:
        _queue_receipt(campaign, signature, text, document)


def _queue_receipt(campaign: Campaign, signature: Signature, text: CampaignInLanguage, document: dict[str, Any]) -> None:
    assert signature.email is not None
    queue_message(signature.email, _("Your receipt: %(title)s", title=text.title), "signatures/receipt", {
        "campaign": text, "receipt": receipt_text(document),
        "verify_url": absolute_url("transparency.verify_page", slug=campaign.slug),
        "petition_url": absolute_url("public.petition", slug=campaign.slug),
        "me_url": absolute_url("me.me"),
        "withdraw_url": absolute_url("signing.withdraw", slug=campaign.slug, token=withdraw_token(signature)),
    })
