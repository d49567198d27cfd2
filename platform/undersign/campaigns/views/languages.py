"""The petition in other languages (console): the lead's editors add, change and remove the versions."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from undersign.campaigns import service, translations
from undersign.campaigns.forms import OriginalLanguageForm, TranslationForm, format_demands
from undersign.campaigns.models import LANGUAGES, Campaign, CampaignTranslation
from undersign.campaigns.views.console import bp, campaign, press_button
from undersign.organizations.models import Permission
from undersign.web.access import member
from undersign.web.forms import EmptyForm, field_errors
from undersign.web.language import LANGUAGE_NAMES


def _lead_petition() -> Campaign:
    """The campaign, for its lead only (a co-sponsor sees the 403 of `service.require_lead`)."""
    petition = campaign()
    service.require_lead(g.org, petition)
    return petition


def _language(petition: Campaign, code: str) -> str:
    """:raise 404: not a language of the platform, or the original's (edited on the edit page)."""
    if code not in LANGUAGES or code == petition.language:
        abort(404)
    return code


def _original_form(petition: Campaign) -> OriginalLanguageForm:
    form = OriginalLanguageForm() if request.method == "POST" else OriginalLanguageForm(
        data={"language": petition.language})
    form.language.choices = [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES]
    return form


def _languages_page(petition: Campaign, original: OriginalLanguageForm, status: int = 200) -> ResponseReturnValue:
    versions = {t.language: t for t in petition.translations}
    others = [code for code in LANGUAGES if code != petition.language]
    return render_template("campaigns/languages.html", org=g.org, campaign=petition, versions=versions,
                           others=others, names=LANGUAGE_NAMES, form=EmptyForm(), original=original), status


@bp.route("/<slug>/languages", methods=["GET", "POST"])
@member(Permission.EDIT_CAMPAIGNS)
def languages(slug: str) -> ResponseReturnValue:
    """The versions, and (POST) which language the original is written in."""
    petition = _lead_petition()
    original = _original_form(petition)
    if not original.is_submitted():
        return _languages_page(petition, original)
    if not original.validate():
        return _languages_page(petition, original, 400)
    with field_errors(original, "language") as outcome:
        translations.set_original_language(current_user, g.org, petition, original.language.data or "",
                                           ip=request.remote_addr)
    if not outcome.ok:
        return _languages_page(petition, original, outcome.status)
    flash(_("Saved."), "success")
    return redirect(url_for("campaigns.languages", slug=petition.slug))


def _form_data(version: CampaignTranslation | None) -> dict[str, Any]:
    if version is None:
        return {}
    return {"title": version.title, "summary": version.summary, "body": version.body,
            "demands": format_demands(version.demands)}


@bp.route("/<slug>/languages/<code>", methods=["GET", "POST"])
@member(Permission.EDIT_CAMPAIGNS)
def edit_language(slug: str, code: str) -> ResponseReturnValue:
    """Add the version in ``code``, or change it."""
    petition = _lead_petition()
    language = _language(petition, code)
    version = translations.version(petition, language)
    form = TranslationForm() if request.method == "POST" else TranslationForm(data=_form_data(version))
    status = 200
    if form.is_submitted():
        status = 400
        if form.validate():
            with field_errors(form, "body") as outcome:
                translations.save_translation(current_user, g.org, petition, language, form.draft(),
                                              ip=request.remote_addr)
            if outcome.ok:
                flash(_("The %(language)s version is saved.", language=LANGUAGE_NAMES[language]), "success")
                return redirect(url_for("campaigns.languages", slug=petition.slug))
            status = outcome.status
    return render_template("campaigns/language_form.html", org=g.org, campaign=petition, form=form,
                           language=language, language_name=LANGUAGE_NAMES[language], version=version), status


@bp.post("/<slug>/languages/<code>/delete")
@member(Permission.EDIT_CAMPAIGNS)
def remove_language(slug: str, code: str) -> ResponseReturnValue:
    petition = _lead_petition()
    language = _language(petition, code)
    return press_button(
        lambda: translations.remove_translation(current_user, g.org, petition, language, ip=request.remote_addr),
        lambda _result: _("The %(language)s version is removed.", language=LANGUAGE_NAMES[language]),
        url_for("campaigns.languages", slug=petition.slug))
