"""The embeddable sign form's view-model (``/p/<slug>/embed``, the only page other sites may frame).

The routes are the signing blueprint's (`signatures.views.embed`), since the
embed's POST is a signature.
"""

from __future__ import annotations

from undersign.campaigns.models import Campaign
from undersign.db import utcnow
from undersign.links import absolute_url
from undersign.public.petition import localized
from undersign.signatures import rules
from undersign.signatures.forms import SignForm


def embed_context(campaign: Campaign, form: SignForm | None) -> dict[str, object]:
    """Everything ``signatures/embed.html`` needs; ``form`` is shown only while the petition is open."""
    open_ = campaign.accepts_signatures(utcnow())
    return {
        "campaign": localized(campaign),  # the text in the embed's language where that version exists
        "sign_form": form if open_ else None,
        "is_open": open_,
        "count": campaign.signature_count,
        "sponsors": [s.organization for s in rules.consent_sponsors(campaign)],
        # From BASE_URL, never the request's Host: the embed is publicly cacheable (DESIGN §11).
        "petition_url": absolute_url("public.petition", slug=campaign.slug),
    }
