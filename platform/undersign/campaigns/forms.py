"""Input shape for the campaign console: lengths, required fields, characters, list formats.

Forms never query: whether a slug is free, whether an organization may be
invited or a date lies in the future is decided by the services. The limits and
data objects come from `campaigns.rules`.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, Field, HiddenField, IntegerField, SelectField, StringField, TextAreaField
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
        heading, _newline, rest = block.partition("\n")
        heading = _NUMBERING.sub("", heading).strip()
        rest = rest.strip()
        if not heading:
            raise ValidationError(_("Every demand needs a heading on its first line."))
        if len(heading) > DEMAND_TITLE_MAX:
            raise ValidationError(_("A demand's heading (its first line) may have at most %(max)d characters.",
                                    max=DEMAND_TITLE_MAX))
        if len(rest) > DEMAND_TEXT_MAX:
            raise ValidationError(_("A demand's text may have at most %(max)s characters.", max=f"{DEMAND_TEXT_MAX:,}"))
        demands.append(Demand(title=heading, text=rest))
    if len(demands) > DEMANDS_MAX:
        raise ValidationError(_("Keep it to at most %(max)d demands.", max=DEMANDS_MAX))
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
            label, _separator, url = line.rpartition("|")
        else:
            label, _separator, url = line.rpartition(" ")
        label, url = label.strip(), url.strip()
        if not label or not url:
            raise ValidationError(_("Line %(number)d: write a label, then “|”, then the address.", number=number))
        if not _http_url(url):
            raise ValidationError(_("Line %(number)d: the address must start with http:// or https:// and name a site.",
                                    number=number))
        if len(label) > CTA_LABEL_MAX:
            raise ValidationError(_("Line %(number)d: the label may have at most %(max)d characters.",
                                    number=number, max=CTA_LABEL_MAX))
        if len(url) > CTA_URL_MAX:
            raise ValidationError(_("Line %(number)d: the address may have at most %(max)d characters.",
                                    number=number, max=CTA_URL_MAX))
        actions.append(CallToAction(label=label, url=url))
    if len(actions) > CTA_MAX:
        raise ValidationError(_("Keep it to at most %(max)d calls to action.", max=CTA_MAX))
    return tuple(actions)


def format_calls_to_action(actions: list[dict[str, Any]]) -> str:
    return "\n".join(f"{a.get('label', '')} | {a.get('url', '')}" for a in actions or [])


class CampaignForm(Form):
    """Everything a petition says. The same form drafts a new petition and edits one."""

    title = StringField(
        _l("Title"), filters=[_strip],
        validators=[DataRequired(_l("Give the petition a title.")),
                    Length(max=TITLE_MAX, message=_l("Use at most %(max)d characters.", max=TITLE_MAX)), SingleLine()],
    )
    slug = StringField(
        _l("Web address"), filters=[_lower],
        validators=[Optional(), Length(max=SLUG_MAX, message=_l("Use at most %(max)d characters.", max=SLUG_MAX)), SingleLine()],
        description=_l("The end of /p/…: lower-case letters, digits and hyphens. Left empty, it is made from the "
                       "title. It cannot change once the petition is published."),
    )
    summary = TextAreaField(
        _l("Summary"), filters=[_normalize_newlines],
        validators=[Length(max=SUMMARY_MAX, message=_l("Keep the summary to %(max)d characters.", max=SUMMARY_MAX)), MultiLine()],
        description=_l("At most %(max)d characters; shown when the petition is shared.", max=SUMMARY_MAX),
        render_kw={"rows": 3, "maxlength": SUMMARY_MAX},
    )
    body = TextAreaField(
        _l("Text of the petition"), filters=[_normalize_newlines],
        validators=[Length(max=BODY_MAX, message=_l("Use at most %(max)s characters.", max=f"{BODY_MAX:,}")), MultiLine()],
        description=_l("Markdown: **bold**, *italic*, [link](https://…), lists with “-”, headings with “##”."),
        render_kw={"rows": 14},
    )
    decision_maker = StringField(
        _l("Decision maker"), filters=[_strip],
        validators=[Length(max=200, message=_l("Use at most %(max)d characters.", max=200)), SingleLine()],
        description=_l("Who can grant the demands, e.g. “UN High Commissioner for Refugees”."),
    )
    decision_maker_handle = StringField(
        _l("Decision maker's social media handle"), filters=[_strip],
        validators=[Length(max=64, message=_l("Use at most %(max)d characters.", max=64)), SingleLine()],
        description=_l("For example @Refugees."),
    )
    demands = TextAreaField(
        _l("Demands"), filters=[_normalize_newlines],
        validators=[Length(max=DEMANDS_MAX * (DEMAND_TITLE_MAX + DEMAND_TEXT_MAX + 2), message=_l("That is too long.")),
                    MultiLine()],
        description=_l("One demand per block, blocks separated by an empty line. The first line of a block is the "
                       "demand's heading, the lines after it explain it. Demands are numbered on the page."),
        render_kw={"rows": 8},
    )
    hashtag = StringField(
        _l("Hashtag"), filters=[_strip],
        validators=[Length(max=100, message=_l("Use at most %(max)d characters.", max=100)), SingleLine()],
        description=_l("For example #EscapeNorthKorea."),
    )
    social_handle = StringField(
        _l("Handle to address on social media"), filters=[_strip],
        validators=[Length(max=64, message=_l("Use at most %(max)d characters.", max=64)), SingleLine()],
        description=_l("Shares mention it, for example @thedefectormov."),
    )
    calls_to_action = TextAreaField(
        _l("Other ways to help"), filters=[_normalize_newlines],
        validators=[Length(max=CTA_MAX * (CTA_LABEL_MAX + CTA_URL_MAX + 4), message=_l("That is too long.")),
                    MultiLine()],
        description=_l("One a line: a label, “|”, and an http(s) address. "
                       "For example: Join the community on Facebook | https://facebook.com/…"),
        render_kw={"rows": 4},
    )
    image = FileField(_l("Image"),
                      description=_l("JPEG, PNG or WebP, at most 5 MB. It is shown at the top and when shared."),
                      render_kw={"accept": "image/jpeg,image/png,image/webp"})
    # A picture chosen in an earlier save that had errors, already stored (`campaigns.images.image_ref`).
    image_ref = HiddenField()
    remove_image = BooleanField(_l("Remove the current image"))
    goal = IntegerField(
        _l("Signature goal"),
        validators=[Optional(), NumberRange(min=1, max=GOAL_MAX, message=_l("Choose a goal between 1 and %(max)s.", max=f"{GOAL_MAX:,}"))],
        render_kw={"min": 1, "max": GOAL_MAX, "inputmode": "numeric"},
    )
    closes_on = DateField(
        _l("Closing date"), validators=[Optional()],
        description=_l("Optional. The petition closes at the end of this day (UTC)."),
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
        _l("Organization's web address"), filters=[_lower],
        validators=[DataRequired(_l("Name the organization to invite.")), Length(max=80, message=_l("Use at most %(max)d characters.", max=80)),
                    SingleLine()],
        description=_l("The part after /o/ in its public address, e.g. hanvoice. Only approved organizations can "
                       "co-sponsor."),
        render_kw={"list": "approved-organizations", "autocomplete": "off"},
    )


class UpdateForm(Form):
    title = StringField(
        _l("Title"), filters=[_strip],
        validators=[DataRequired(_l("Give the update a title.")),
                    Length(max=TITLE_MAX, message=_l("Use at most %(max)d characters.", max=TITLE_MAX)), SingleLine()],
    )
    body = TextAreaField(
        _l("Text"), filters=[_normalize_newlines],
        validators=[DataRequired(_l("Write the update.")), Length(max=BODY_MAX, message=_l("Use at most %(max)s characters.", max=f"{BODY_MAX:,}")),
                    MultiLine()],
        description=_l("Markdown, like the petition's text."),
        render_kw={"rows": 10},
    )


class TranslationForm(Form):
    """The petition's text in another language: the edit form's title, summary, text and demands, same rules."""

    title = CampaignForm.title
    summary = CampaignForm.summary
    body = CampaignForm.body
    demands = CampaignForm.demands

    def validate_demands(self, field: Field) -> None:
        self.parsed_demands = parse_demands(field.data or "")

    def draft(self) -> CampaignDraft:
        """The version's text as the service's data object (the other fields are the campaign's)."""
        return CampaignDraft(title=self.title.data or "", summary=self.summary.data or "",
                             body=self.body.data or "", demands=getattr(self, "parsed_demands", ()))


class OriginalLanguageForm(Form):
    """Which language the petition's own text is in; the view gives the choices (the platform's languages)."""

    language = SelectField(_l("The original text is written in"),
                           validators=[DataRequired(_l("Choose one of the languages listed."))])
