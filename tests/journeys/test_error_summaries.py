"""A form sent back with errors opens with an announced summary (role="alert") whose links lead to
the fields, and each field names its error (and keeps its description) with aria-describedby."""

from __future__ import annotations

import re

from tests.factories import login_as, make_user
from tests.helpers import submit
from tests.signatures.petitions import make_petition, sign, supporter

SUMMARY_RE = re.compile(r'<div class="form-errors" role="alert">(.*?)</div>', re.S)


def _summary_targets(html: str) -> list[str]:
    summaries = SUMMARY_RE.findall(html)
    assert len(summaries) == 1, summaries
    return re.findall(r'<a href="#([^"]+)">', summaries[0])


def _control(html: str, element_id: str) -> str:
    match = re.search(rf'<(?:input|select|textarea)\b[^>]*\bid="{element_id}"[^>]*>', html)
    assert match, f"no control #{element_id}"
    return match.group(0)


def _described_by(html: str, element_id: str) -> list[str]:
    match = re.search(r'aria-describedby="([^"]+)"', _control(html, element_id))
    assert match, f"#{element_id} names no description"
    return match.group(1).split()


def test_sign_up_errors_are_summarised_and_tied_to_their_fields(client):
    response = submit(client, "/signup", {"name": "", "email": "kim@example.org", "password": "short"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    targets = _summary_targets(html)
    assert targets == ["name", "password"]  # the e-mail was fine
    for target in targets:
        described = _described_by(html, target)
        assert described[0] == f"{target}-error", described
        assert 'aria-invalid="true"' in _control(html, target)
        for element_id in described:
            assert f'id="{element_id}"' in html, element_id


def test_the_sign_form_keeps_the_fields_description_beside_its_error(client):
    petition = make_petition()
    response = sign(client, petition.url, supporter(email="ann@example"))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert _summary_targets(html) == ["sign-email"]
    assert _described_by(html, "sign-email") == ["sign-email-error", "sign-email-help"]
    assert re.search(r'<small id="sign-email-help" class="field-help">\s*We send you a link', html)
    assert 'aria-invalid' not in _control(html, "sign-name")


def test_a_fresh_form_has_no_summary(client):
    login_as(client, make_user())
    html = client.get("/orgs/new").get_data(as_text=True)
    assert 'role="alert"' not in html and "-error" not in html
