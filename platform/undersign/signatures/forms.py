"""The sign form (DESIGN §4 field names), and the tokens of the confirm and withdraw buttons.

The sign form carries no session: its ``csrf_token`` is a signed,
time-limited token bound to the campaign (itsdangerous), checked by the view
together with the browser's ``Origin`` / ``Sec-Fetch-Site`` headers. So the
petition page stays the same for every anonymous visitor and can sit in a
shared cache (DESIGN §9), the embedded form works inside another site's iframe
where our cookies are not sent, and a supporter who blocks cookies can sign.

The confirm and withdraw buttons work the same way (`button_token`): their token is signed for the link
it was served on, so confirming needs no session cookie at all (no session read or written, no cookie
set on a page opened from an e-mail), and a token from one link does not work on another.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from flask import current_app
from flask_babel import force_locale, gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from itsdangerous import BadData, URLSafeTimedSerializer
from markupsafe import Markup, escape
from wtforms import BooleanField, EmailField, Field, HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError
from wtforms.widgets import Select, html_params

from undersign.campaigns.models import Campaign
from undersign.errors import InvalidInput
from undersign.signatures import rules
from undersign.signatures.canonical import current_rules
from undersign.signatures.rules import ExportFilters, ExportStatus, SignatureInput, SigningCampaign
from undersign.tokens import hash_token
from undersign.web.forms import Form, current_language

# A cached page may hand out a form for a while; two days leaves room for a tab left open.
FORM_TOKEN_MAX_AGE = 2 * 24 * 3600
SIGN_PURPOSE = "sign-form"
EMBED_PURPOSE = "embed-form"
CONFIRM_PURPOSE = "confirm-button"
WITHDRAW_PURPOSE = "withdraw-button"


class Rule:
    """A WTForms validator running one of `rules`' checks, so the form shows every broken rule at once."""

    def __init__(self, check: Callable[[Any], object], required: bool = False) -> None:
        self.check = check
        self.field_flags = {"required": True} if required else {}

    def __call__(self, form: FlaskForm, field: Field) -> None:
        try:
            self.check(field.data)
        except InvalidInput as exc:
            raise ValidationError(_(exc.message)) from exc


def _email_rule(value: str | None) -> object:
    return rules.clean_email(value, current_rules())


COUNTRY_PROMPT = _l("Choose your country")


@lru_cache(maxsize=64)
def country_options(selected: str = "", language: str = "en") -> Markup:
    """The ~250 ``<option>``s of the country list, made once per process per language and selected value.

    Rendering them through WTForms on every page view was a third of the
    petition page's time; the list changes only with the language the page is
    in, so the markup is kept per language (a second language costs one more
    render, not one per view).
    """
    with force_locale(language):
        prompt = str(COUNTRY_PROMPT)
    options = [("", prompt), *rules.country_choices(language)]
    return Markup("".join(
        f"<option {html_params(value=code, selected=code == selected)}>{escape(name)}</option>"
        for code, name in options
    ))


class CountrySelect(Select):
    """WTForms' ``<select>`` with the options from `country_options` (same markup, made once per language)."""

    def __call__(self, field: Field, **kwargs: Any) -> Markup:
        kwargs.setdefault("id", field.id)
        flags = getattr(field, "flags", {})
        for k in dir(flags):
            if k in self.validation_attrs and k not in kwargs:
                kwargs[k] = getattr(flags, k)
        selected = field.data if isinstance(field.data, str) and field.data in rules.country_names() else ""
        options = country_options(selected, current_language())
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>{options}</select>")


class SignForm(Form):
    class Meta:
        csrf = False  # the signed token below replaces the session token

    csrf_token = HiddenField(id="sign-token")
    name = StringField(_l("Your name"), id="sign-name", validators=[Rule(rules.clean_name, required=True)],
                       render_kw={"autocomplete": "name", "maxlength": rules.NAME_MAX})
    email = EmailField(_l("E-mail"), id="sign-email", validators=[Rule(_email_rule, required=True)],
                       description=_l("We send you a link to confirm your signature."),
                       render_kw={"autocomplete": "email", "maxlength": rules.EMAIL_MAX})
    country = SelectField(_l("Country"), id="sign-country", validators=[Rule(rules.clean_country, required=True)], validate_choice=False,
                          render_kw={"autocomplete": "country"}, widget=CountrySelect())
    postcode = StringField(_l("Postcode"), id="sign-postcode", validators=[Rule(rules.clean_postcode)],
                           render_kw={"autocomplete": "postal-code", "maxlength": rules.POSTCODE_MAX})
    comment = TextAreaField(_l("Why are you signing?"), id="sign-comment", validators=[Rule(rules.clean_comment)],
                            render_kw={"maxlength": rules.COMMENT_MAX, "rows": 3})
    public = BooleanField(_l("Show my first name, initial, country and comment on this page"), id="sign-public")
    consent = SelectMultipleField(_l("Updates"), id="sign-consent", choices=[], validate_choice=False)
    via = HiddenField(id="sign-via")
    source = HiddenField(id="sign-source")
    # Honeypot: hidden from people by CSS, filled in by bots that fill in everything.
    website = StringField(_l("Leave this field empty"), id="sign-website", render_kw={"autocomplete": "off", "tabindex": "-1"})

    action_url: str = ""
    purpose: str = SIGN_PURPOSE

    def to_input(self) -> SignatureInput:
        return SignatureInput(
            name=self.name.data, email=self.email.data, country=self.country.data,
            postcode=self.postcode.data, comment=self.comment.data, show_publicly=bool(self.public.data),
            consents=tuple(str(c) for c in (self.consent.data or [])), source=self.source.data,
        )

    @property
    def is_bot(self) -> bool:
        return bool((self.website.data or "").strip())


def sign_input(formdata: Any) -> SignatureInput:
    """What `SignForm` would hand the service for ``formdata`` (the same fields, read the way WTForms
    reads them), without building the form: the sign POST builds it only to show errors again."""
    public = formdata.getlist("public")
    return SignatureInput(
        name=formdata.get("name"), email=formdata.get("email"), country=formdata.get("country"),
        postcode=formdata.get("postcode"), comment=formdata.get("comment"),
        show_publicly=bool(public) and public[0] not in BooleanField.false_values,
        consents=tuple(str(c) for c in formdata.getlist("consent")), source=formdata.get("source"),
    )


def is_bot(formdata: Any) -> bool:
    """`SignForm.is_bot` for ``formdata``: the honeypot field is filled in."""
    return bool((formdata.get("website") or "").strip())


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt=f"undersign.signatures.{purpose}")


def form_token(campaign: Campaign, purpose: str = SIGN_PURPOSE) -> str:
    """A token that says "this form was handed out by us for this campaign, recently"."""
    return campaign_form_token(campaign.id, purpose)


def campaign_form_token(campaign_id: int, purpose: str = SIGN_PURPOSE) -> str:
    """`form_token` from the campaign's id alone (the petition page's shell fills it in on every view).

    The token's time is in whole seconds, so within one second it is the same string: it is made once per
    second and campaign (and key) rather than once per view.
    """
    return _token_of_second(current_app.secret_key or "", campaign_id, purpose, int(time.time()))


@lru_cache(maxsize=64)
def _token_of_second(secret: str | bytes, campaign_id: int, purpose: str, second: int) -> str:
    """``secret`` and ``second`` are the key only: the serializer reads the app's key and the clock itself."""
    return _serializer(purpose).dumps(campaign_id)


def form_token_valid(token: str | None, campaign: Campaign | SigningCampaign, purpose: str = SIGN_PURPOSE) -> bool:
    try:
        return bool(_serializer(purpose).loads(token or "", max_age=FORM_TOKEN_MAX_AGE) == campaign.id)
    except BadData:
        return False


def button_token(link_token: str, purpose: str) -> str:
    """The token of the button on the page of the link ``link_token`` (``purpose``: confirm or withdraw).

    Bound to the link by its hash in the signing salt, so the page does not repeat the link's secret in
    another form, and a token served for one signature's link is refused on another's.
    """
    return _serializer(f"{purpose}:{hash_token(link_token)}").dumps(1)


def button_token_valid(token: str | None, link_token: str, purpose: str) -> bool:
    """The button's token was served by us, for this link, within `FORM_TOKEN_MAX_AGE`."""
    try:
        return bool(_serializer(f"{purpose}:{hash_token(link_token)}").loads(token or "", max_age=FORM_TOKEN_MAX_AGE) == 1)
    except BadData:
        return False


def new_sign_form(campaign: Campaign, *, action_url: str, consent_choices: list[tuple[str, str]],
                  via: str | None = None, source: str | None = None, embed: bool = False,
                  formdata: Any = None) -> SignForm:
    """The sign form for ``campaign``'s page, posting to ``action_url``, with the consent checkboxes
    ``consent_choices`` (`rules.consent_choices`).

    Without ``formdata`` it is a fresh form: a new token, nothing typed, ``via``
    (the hosting sponsor, or the page's ``?via=`` through `rules.clean_via`) and
    ``source`` (``?source=`` through `rules.clean_source`) in hidden fields. With
    ``formdata`` it is the submitted form (the signing views).
    """
    form = SignForm(formdata=formdata) if formdata is not None else SignForm(formdata=None)
    form.country.choices = [("", COUNTRY_PROMPT), *rules.countries()]
    form.consent.choices = consent_choices
    form.purpose = EMBED_PURPOSE if embed else SIGN_PURPOSE
    form.action_url = action_url
    if formdata is None:
        form.via.data = via or ""
        form.source.data = source or ""
    form.csrf_token.data = form_token(campaign, form.purpose)
    return form


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
EXPORT_STATUS_CHOICES = [
    SelectChoice(ExportStatus.CONFIRMED.value, _l("Confirmed (the signatures that count)")),
    SelectChoice(ExportStatus.WITHDRAWN.value, _l("Withdrawn or unsubscribed (dates only, no personal data)")),
    SelectChoice(ExportStatus.ALL.value, _l("Both")),
]


def _day(label: object) -> Callable[[FlaskForm, Field], None]:
    def check(form: FlaskForm, field: Field) -> None:
        raw = (field.data or "").strip()
        if not raw:
            return
        try:
            if not _ISO_DAY.fullmatch(raw):
                raise ValueError(raw)
            dt.date.fromisoformat(raw)
        except ValueError:
            raise ValidationError(_("%(label)s: “%(typed)s” is not a date; write it as YYYY-MM-DD, e.g. 2026-12-31.",
                                    label=str(label), typed=raw[:20])) from None
    return check


class ExportForm(Form):
    """The filters of a supporters' export, read from the query string (``?status=&from=&to=``)."""

    class Meta:
        csrf = False  # a GET that changes nothing but the audit log, which records every one

    status = SelectField(_l("Signatures"), choices=EXPORT_STATUS_CHOICES, default=ExportStatus.CONFIRMED.value,
                         validate_choice=False)
    signed_from = StringField(_l("Signed from"), name="from", validators=[_day(_l("Signed from"))], render_kw={"type": "date"})
    signed_to = StringField(_l("Signed until (included)"), name="to", validators=[_day(_l("Signed until"))],
                          render_kw={"type": "date"})

    def validate_status(self, field: Field) -> None:
        if (field.data or ExportStatus.CONFIRMED.value) not in {s.value for s in ExportStatus}:
            raise ValidationError(_("Signatures: choose confirmed, withdrawn or both (all)."))

    def validate_signed_to(self, field: Field) -> None:
        try:
            start, end = _parsed(self.signed_from.data), _parsed(field.data)
        except ValueError:
            return  # the field's own check names the date that does not parse
        if start is not None and end is not None and end < start:
            raise ValidationError(_("Signed until: this day comes before the “signed from” day."))

    def filters(self) -> ExportFilters:
        """The validated filters (call after ``validate()``); an empty date means no bound."""
        return ExportFilters(ExportStatus(self.status.data or ExportStatus.CONFIRMED.value),
                             _parsed(self.signed_from.data), _parsed(self.signed_to.data))


def _parsed(raw: str | None) -> dt.date | None:
    return dt.date.fromisoformat(raw.strip()) if raw and raw.strip() else None
