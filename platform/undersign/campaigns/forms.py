"""Input shape for the campaign console: lengths, required fields, characters, list formats.

Forms never query: whether a slug is free, whether an organization may be
invited or a date lies in the future is decided by the services. The limits and
data objects come from `campaigns.rules`.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, Field, HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from undersign.campaigns.rules import (
    BODY_MAX,
    CTA_LABEL_MAX,
    CTA_MAX,
    CTA_URL_MAX,
    DEMAND_TEXT_MAX,
    DEMAND_TITLE_MAX,
    DEMANDS_MAX,
    GOAL_MAX,
    SLUG_MAX,
    SUMMARY_MAX,
    TITLE_MAX,
    CallToAction,
    CampaignDraft,
    Demand,
)
from undersign.web.forms import Form, MultiLine, SingleLine

# A blank line (possibly holding spaces) separates two demands.
_BLOCK_SEPARATOR = re.compile(r"\n[ \t]*\n")
# "1)", "1.", "2 -" typed in front of a demand: the page numbers demands itself.
_NUMBERING = re.compile(r"^\s*\d{1,3}\s*[.):-]\s*")


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def _normalize_newlines(value: Any) -> Any:
    return value.replace("\r\n", "\n").replace("\r", "\n").strip() if isinstance(value, str) else value


def _http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in {"http", "https"} and bool(parts.hostname) and not any(c.isspace() for c in url)


def parse_demands(text: str) -> tuple[Demand, ...]:
    """Demands from the textarea: blocks separated by an empty line; a block's first line is its heading.

    :raise ValidationError: too many demands, or a heading or text too long.
    """
    demands: list[Demand] = []
    for block in _BLOCK_SEPARATOR.split(text or ""):
        block = block.strip()
        if not block:
            continue
        heading, _, rest = block.partition("\n")
        heading = _NUMBERING.sub("", heading).strip()
        rest = rest.strip()
        if not heading:
            raise ValidationError("Every demand needs a heading on its first line.")
        if len(heading) > DEMAND_TITLE_MAX:
            raise ValidationError(f"A demand's heading (its first line) may have at most {DEMAND_TITLE_MAX} characters.")
        if len(rest) > DEMAND_TEXT_MAX:
            raise ValidationError(f"A demand's text may have at most {DEMAND_TEXT_MAX:,} characters.")
        demands.append(Demand(title=heading, text=rest))
    if len(demands) > DEMANDS_MAX:
        raise ValidationError(f"Keep it to at most {DEMANDS_MAX} demands.")
    return tuple(demands)


def format_demands(demands: list[dict[str, Any]]) -> str:
    """The textarea's text for stored demands (the inverse of `parse_demands`)."""
    blocks = []
    for demand in demands or []:
        title, text = str(demand.get("title", "")), str(demand.get("text", ""))
        blocks.append(f"{title}\n{text}".strip())
    return "\n\n".join(blocks)


def parse_calls_to_action(text: str) -> tuple[CallToAction, ...]:
    """One call to action a line: ``Label | https://address``.

    :raise ValidationError: a line without a label or an http(s) address, or too many lines.
    """
    actions: list[CallToAction] = []
    for number, line in enumerate((text or "").split("\n"), start=1):
        line = line.strip()
        if not line:
            continue
        if "|" in line:
            label, _, url = line.rpartition("|")
        else:
            label, _, url = line.rpartition(" ")
        label, url = label.strip(), url.strip()
        if not label or not url:
            raise ValidationError(f"Line {number}: write a label, then “|”, then the address.")
        if not _http_url(url):
            raise ValidationError(f"Line {number}: the address must start with http:// or https:// and name a site.")
        if len(label) > CTA_LABEL_MAX:
            raise ValidationError(f"Line {number}: the label may have at most {CTA_LABEL_MAX} characters.")
        if len(url) > CTA_URL_MAX:
            raise ValidationError(f"Line {number}: the address may have at most {CTA_URL_MAX} characters.")
        actions.append(CallToAction(label=label, url=url))
    if len(actions) > CTA_MAX:
        raise ValidationError(f"Keep it to at most {CTA_MAX} calls to action.")
    return tuple(actions)


def format_calls_to_action(actions: list[dict[str, Any]]) -> str:
    return "\n".join(f"{a.get('label', '')} | {a.get('url', '')}" for a in actions or [])


class CampaignForm(Form):
    """Everything a petition says. The same form drafts a new petition and edits one."""

    title = StringField(
        "Title", filters=[_strip],
        validators=[DataRequired("Give the petition a title."),
                    Length(max=TITLE_MAX, message=f"Use at most {TITLE_MAX} characters."), SingleLine()],
    )
    slug = StringField(
        "Web address", filters=[_lower],
        validators=[Optional(), Length(max=SLUG_MAX, message=f"Use at most {SLUG_MAX} characters."), SingleLine()],
        description="The end of /p/…: lower-case letters, digits and hyphens. Left empty, it is made from the title. "
                    "It cannot change once the petition is published.",
    )
    summary = TextAreaField(
        "Summary", filters=[_normalize_newlines],
        validators=[Length(max=SUMMARY_MAX, message=f"Keep the summary to {SUMMARY_MAX} characters."), MultiLine()],
        description=f"At most {SUMMARY_MAX} characters; shown when the petition is shared.",
        render_kw={"rows": 3, "maxlength": SUMMARY_MAX},
    )
    body = TextAreaField(
        "Text of the petition", filters=[_normalize_newlines],
        validators=[Length(max=BODY_MAX, message=f"Use at most {BODY_MAX:,} characters."), MultiLine()],
        description="Markdown: **bold**, *italic*, [link](https://…), lists with “-”, headings with “##”.",
        render_kw={"rows": 14},
    )
    decision_maker = StringField(
        "Decision maker", filters=[_strip],
        validators=[Length(max=200, message="Use at most 200 characters."), SingleLine()],
        description="Who can grant the demands, e.g. “UN High Commissioner for Refugees”.",
    )
    decision_maker_handle = StringField(
        "Decision maker's social media handle", filters=[_strip],
        validators=[Length(max=64, message="Use at most 64 characters."), SingleLine()],
        description="For example @Refugees.",
    )
    demands = TextAreaField(
        "Demands", filters=[_normalize_newlines],
        validators=[Length(max=DEMANDS_MAX * (DEMAND_TITLE_MAX + DEMAND_TEXT_MAX + 2), message="That is too long."),
                    MultiLine()],
        description="One demand per block, blocks separated by an empty line. The first line of a block is the "
                    "demand's heading, the lines after it explain it. Demands are numbered on the page.",
        render_kw={"rows": 8},
    )
    hashtag = StringField(
        "Hashtag", filters=[_strip],
        validators=[Length(max=100, message="Use at most 100 characters."), SingleLine()],
        description="For example #EscapeNorthKorea.",
    )
    social_handle = StringField(
        "Handle to address on social media", filters=[_strip],
        validators=[Length(max=64, message="Use at most 64 characters."), SingleLine()],
        description="Shares mention it, for example @thedefectormov.",
    )
    calls_to_action = TextAreaField(
        "Other ways to help", filters=[_normalize_newlines],
        validators=[Length(max=CTA_MAX * (CTA_LABEL_MAX + CTA_URL_MAX + 4), message="That is too long."),
                    MultiLine()],
        description="One a line: a label, “|”, and an http(s) address. "
                    "For example: Join the community on Facebook | https://facebook.com/…",
        render_kw={"rows": 4},
    )
    image = FileField("Image", description="JPEG, PNG or WebP, at most 5 MB. It is shown at the top and when shared.",
                      render_kw={"accept": "image/jpeg,image/png,image/webp"})
    # A picture chosen in an earlier save that had errors, already stored (`campaigns.images.image_ref`).
    image_ref = HiddenField()
    remove_image = BooleanField("Remove the current image")
    goal = IntegerField(
        "Signature goal",
        validators=[Optional(), NumberRange(min=1, max=GOAL_MAX, message=f"Choose a goal between 1 and {GOAL_MAX:,}.")],
        render_kw={"min": 1, "max": GOAL_MAX, "inputmode": "numeric"},
    )
    closes_on = DateField(
        "Closing date", validators=[Optional()],
        description="Optional. The petition closes at the end of this day (UTC).",
    )

    def validate_demands(self, field: Field) -> None:
        self.parsed_demands = parse_demands(field.data or "")

    def validate_calls_to_action(self, field: Field) -> None:
        self.parsed_calls_to_action = parse_calls_to_action(field.data or "")

    def draft(self) -> CampaignDraft:
        """The validated input as the service's data object."""
        return CampaignDraft(
            title=self.title.data or "",
            slug=self.slug.data or "",
            summary=self.summary.data or "",
            body=self.body.data or "",
            decision_maker=self.decision_maker.data or "",
            decision_maker_handle=self.decision_maker_handle.data or "",
            demands=getattr(self, "parsed_demands", ()),
            hashtag=self.hashtag.data or "",
            social_handle=self.social_handle.data or "",
            calls_to_action=getattr(self, "parsed_calls_to_action", ()),
            goal=self.goal.data,
            closes_on=self.closes_on.data,
        )


class InviteSponsorForm(Form):
    organization = StringField(
        "Organization's web address", filters=[_lower],
        validators=[DataRequired("Name the organization to invite."), Length(max=80, message="Use at most 80 characters."),
                    SingleLine()],
        description="The part after /o/ in its public address, e.g. hanvoice. Only approved organizations can co-sponsor.",
        render_kw={"list": "approved-organizations", "autocomplete": "off"},
    )


class UpdateForm(Form):
    title = StringField(
        "Title", filters=[_strip],
        validators=[DataRequired("Give the update a title."),
                    Length(max=TITLE_MAX, message=f"Use at most {TITLE_MAX} characters."), SingleLine()],
    )
    body = TextAreaField(
        "Text", filters=[_normalize_newlines],
        validators=[DataRequired("Write the update."), Length(max=BODY_MAX, message=f"Use at most {BODY_MAX:,} characters."),
                    MultiLine()],
        description="Markdown, like the petition's text.",
        render_kw={"rows": 10},
    )
