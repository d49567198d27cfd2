"""Input shape for the platform administrators' pages."""

from __future__ import annotations

import datetime as dt

from wtforms import DateTimeLocalField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from undersign.moderation.rules import REASON_MAX
from undersign.signatures.rules import Conditions
from undersign.web.forms import Form, MultiLine, SingleLine


class ReasonedDecisionForm(Form):
    """Reject or suspend: the owners are told why."""

    reason = TextAreaField(
        "Reason",
        validators=[DataRequired("Give a reason: the organization's owners will read it."),
                    Length(max=REASON_MAX, message=f"Use at most {REASON_MAX:,} characters."), MultiLine()],
        description="The organization's owners read this in the e-mail and on their dashboard.",
        render_kw={"rows": 4},
    )


# ---------------------------------------------------------------- fraud defences (`undersign.moderation.fraud`)


def _reason_field(description: str) -> StringField:
    return StringField("Reason", validators=[DataRequired("Give a reason."), Length(max=500), SingleLine()],
                       description=description)


class BlockDomainForm(Form):
    pattern = StringField("E-mail domain", validators=[DataRequired("Enter a domain."), Length(max=255), SingleLine()],
                          description="example.com exactly, or *.example.com for all its subdomains.")
    reason = _reason_field("For the other administrators and the audit log.")


class BlockRangeForm(Form):
    network = StringField("Address range", validators=[DataRequired("Enter an address range."), Length(max=64),
                                                       SingleLine()],
                          description="CIDR, IPv4 or IPv6: 203.0.113.0/24, 2001:db8::/32, or one address.")
    reason = _reason_field("For the other administrators and the audit log.")


class HeldSignaturesForm(Form):
    """Release or invalidate the ticked held signatures (their ids come as repeated ``signature`` fields)."""

    reason = StringField("Reason (when invalidating)", validators=[Optional(), Length(max=500), SingleLine()])


class InvalidationForm(Form):
    """The conditions of a bulk invalidation (all given ones together), and the reason."""

    email_domain = StringField("E-mail domain", validators=[Optional(), Length(max=253), SingleLine()])
    ip_hash = StringField("Address hash", validators=[Optional(), Length(max=64), SingleLine()])
    since = DateTimeLocalField("Sent from (UTC)", validators=[Optional()], format="%Y-%m-%dT%H:%M")
    until = DateTimeLocalField("Sent before (UTC)", validators=[Optional()], format="%Y-%m-%dT%H:%M")
    source = StringField("Tag (source)", validators=[Optional(), Length(max=64), SingleLine()])
    reason = StringField("Reason", validators=[Optional(), Length(max=500), SingleLine()],
                         description="Kept on each signature and in the audit log.")
    # The frozen set the preview showed: running checks that it is still what was shown.
    max_signature_id = HiddenField(validators=[Optional()])
    expected = HiddenField(validators=[Optional()])
    expected_counted = HiddenField(validators=[Optional()])

    def conditions(self) -> Conditions:
        def utc(value: dt.datetime | None) -> dt.datetime | None:
            return value.replace(tzinfo=dt.timezone.utc) if value is not None else None

        return Conditions(email_domain=self.email_domain.data or "", ip_hash=self.ip_hash.data or "",
                          since=utc(self.since.data), until=utc(self.until.data), source=self.source.data or "")

    def frozen(self) -> tuple[int, int, int] | None:
        """(max signature id, signatures, counted) of the preview this form carries, or None."""
        try:
            return int(self.max_signature_id.data), int(self.expected.data), int(self.expected_counted.data)
        except (TypeError, ValueError):
            return None
