"""The signer's confirmation and "you already signed" mails, composed by the job worker when it sends them.

The sign request only writes the outbox row (`undersign.mail.queue_composed`: the signature and its raw
confirmation token); the text is written here at delivery, in the signer's language
(``Signature.language``) and the campaign's version in it, with links from ``BASE_URL``. A signature
withdrawn or erased before its mail is composed gets no mail.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import render_template
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from undersign.campaigns.models import LANGUAGES, Campaign
from undersign.campaigns.translations import in_signers_language
from undersign.db import db
from undersign.links import absolute_url
from undersign.mail import ComposeOne, Composed, NotToBeSent, OutboxMessage, register_composer
from undersign.signatures.models import Signature
from undersign.signatures.tokens import withdraw_token

# The kinds of outbox message composed here.
CONFIRM_MAIL = "signature.confirm"
ALREADY_SIGNED_MAIL = "signature.already_signed"
WITHDRAWN = "the signature was withdrawn or erased before its mail was composed"


def mail_links(campaign: Campaign, signature: Signature, raw: str | None) -> dict[str, str | None]:
    """The links of a signer's mail, from ``BASE_URL`` (also outside a request: the CLI, a worker, the API's jobs)."""
    # A signer in another language than the default opens the pages in theirs (``?lang=``), whatever the browser says.
    lang = {"lang": signature.language} if signature.language != LANGUAGES[0] else {}
    return {
        "confirm_url": absolute_url("signing.confirm", slug=campaign.slug, token=raw, **lang) if raw else None,
        "withdraw_url": absolute_url("signing.withdraw", slug=campaign.slug, token=withdraw_token(signature), **lang),
        "petition_url": absolute_url("public.petition", slug=campaign.slug, **lang),
        "me_url": absolute_url("me.me"),
    }


def mail_subject(text: str) -> str:
    """One line (a line break in a header would break the message), at most the outbox's 300 characters."""
    return " ".join(text.split())[:300]


def signatures_and_campaigns(ids: Iterable[int | None]) -> tuple[dict[int, Signature], dict[int, Campaign]]:
    """The signatures a batch of mail is about and their campaigns with their language versions: three
    queries for the whole batch, whatever its size."""
    wanted = {i for i in ids if i is not None}
    signatures = {s.id: s for s in db.session.scalars(select(Signature).where(Signature.id.in_(wanted)))}
    campaign_ids = {s.campaign_id for s in signatures.values()}
    campaigns = {c.id: c for c in db.session.scalars(
        select(Campaign).where(Campaign.id.in_(campaign_ids)).options(selectinload(Campaign.translations)))}
    return signatures, campaigns


def signature_to_mail(message: OutboxMessage, signatures: dict[int, Signature]) -> Signature:
    """:raise NotToBeSent: the signature is gone, withdrawn or erased."""
    signature = signatures.get(message.signature_id) if message.signature_id is not None else None
    if signature is None or signature.withdrawn_at is not None or not signature.email:
        raise NotToBeSent(WITHDRAWN)
    return signature


def composer(messages: list[OutboxMessage]) -> ComposeOne:
    """Compose confirmation and "already signed" mails (both kinds: they need the same rows)."""
    signatures, campaigns = signatures_and_campaigns(m.signature_id for m in messages)

    def compose_one(message: OutboxMessage) -> Composed:
        signature = signature_to_mail(message, signatures)
        campaign = campaigns[signature.campaign_id]
        with in_signers_language(campaign, signature.language) as text:
            if message.kind == CONFIRM_MAIL:
                if not message.token:
                    raise NotToBeSent("a confirmation mail without its link")
                return Composed(
                    mail_subject(_("Please confirm your signature: %(title)s", title=text.title)),
                    render_template("mail/signatures/confirm.txt", campaign=text, name=signature.name,
                                    **mail_links(campaign, signature, message.token)))
            # Confirmed when the duplicate came (no token), or since: then there is no link to give.
            raw = None if signature.confirmed_at is not None else message.token
            return Composed(
                mail_subject(_("You have already signed: %(title)s", title=text.title)),
                render_template("mail/signatures/already_signed.txt", campaign=text, name=signature.name,
                                confirmed=raw is None, **mail_links(campaign, signature, raw)))

    return compose_one


def register() -> None:
    register_composer(CONFIRM_MAIL, composer)
    register_composer(ALREADY_SIGNED_MAIL, composer)
