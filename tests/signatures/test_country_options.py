"""The sign form's country list, rendered once per language instead of once per view: the same choices."""

from __future__ import annotations

import html
import re

from wtforms import Form, SelectField
from wtforms.fields.choices import SelectChoice

from tests.signatures.petitions import make_petition, sign, supporter
from undersign.signatures import rules
from undersign.signatures.forms import COUNTRY_PROMPT, country_options


def _select(html: str) -> str:
    match = re.search(r'<select[^>]*id="sign-country"[^>]*>(.*?)</select>', html, re.S)
    assert match, "no country select on the page"
    return match.group(1)


def _options(markup: str) -> list[tuple[str, str, bool]]:
    return [(re.search(r'value="([^"]*)"', attrs).group(1), html.unescape(name), re.search(r"\bselected\b", attrs) is not None)
            for attrs, name in re.findall(r"<option([^>]*)>([^<]*)</option>", markup)]


def _wtforms_options(selected: str) -> str:
    """What WTForms' own ``<select>`` widget renders for the same list (the markup before the cache)."""

    class CountryForm(Form):
        country = SelectField(choices=[SelectChoice(code, name) for code, name in [("", COUNTRY_PROMPT), *rules.country_choices("en")]])

    form = CountryForm(data={"country": selected})  # "" selects the prompt, as on the page
    return _select(form.country(id="sign-country"))


def test_the_page_offers_every_country_in_order_with_the_prompt_first(client):
    options = _options(_select(client.get(make_petition().url).get_data(as_text=True)))
    assert options[0] == ("", COUNTRY_PROMPT, True)  # the prompt shows until a country is chosen
    assert [(code, name) for code, name, _ in options[1:]] == rules.country_choices("en")
    assert {code for code, _, _ in options[1:]} == set(rules.country_names())
    assert not any(selected for _, _, selected in options[1:])


def test_the_options_are_the_markup_wtforms_would_render(app):
    with app.test_request_context("/"):
        assert str(country_options("", "en")) == _wtforms_options("")
        assert str(country_options("KR", "en")) == _wtforms_options("KR")


def test_a_form_sent_back_with_an_error_keeps_the_chosen_country(client, mailbox):
    petition = make_petition()
    response = sign(client, petition.url, supporter("Ann Lee", "not-an-address", country="KR"))
    assert response.status_code == 400
    chosen = [code for code, _, selected in _options(_select(response.get_data(as_text=True))) if selected]
    assert chosen == ["KR"]


def test_a_korean_page_has_the_same_choices_named_in_korean(client):
    petition = make_petition()
    english = _options(_select(client.get(petition.url).get_data(as_text=True)))
    client.set_cookie("lang", "ko")
    korean = _options(_select(client.get(petition.url).get_data(as_text=True)))
    assert sorted(code for code, _, _ in korean) == sorted(code for code, _, _ in english)
    assert dict((code, name) for code, name, _ in korean)["KR"] == "대한민국"
