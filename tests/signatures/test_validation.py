"""Bad input on the sign form: a clear message, a 4xx, the typed values kept, nothing stored, never a 500."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import text_of
from tests.signatures.petitions import form_action, hidden_fields, make_petition, sign, signature_rows, supporter
from undersign.extensions import db
from undersign.mail import OutboxMessage
from undersign.signatures.canonical import EmailRules, email_key
from undersign.signatures.rules import clean_comment, clean_name


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "Enter your name."),
        ("name", "   ", "Enter your name."),
        ("name", "x" * 101, "at most 100"),
        ("name", "=HYPERLINK(\"http://evil\")", "cannot start with"),
        ("name", "+1 555", "cannot start with"),
        ("name", "-Ann", "cannot start with"),
        ("name", "@ann", "cannot start with"),
        ("name", "Ann\x00Lee", "control characters"),
        ("name", "Ann\u202eeeL", "control characters"),
        ("email", "", "Enter your e-mail address."),
        ("email", "not-an-address", "look like an e-mail address"),
        ("email", "ann@", "look like an e-mail address"),
        ("email", "a" * 250 + "@example.org", "look like an e-mail address"),
        ("email", "ann\x00@example.org", "look like an e-mail address"),
        ("country", "", "Choose your country"),
        ("country", "XX", "Choose your country"),
        ("country", "Canada", "Choose your country"),
        ("postcode", "x" * 17, "postcode"),
        ("postcode", "<b>1</b>", "postcode"),
        ("comment", "y" * 1001, "1,000"),
        ("comment", "fine\x07bell", "control characters"),
    ],
)
def test_invalid_field_is_refused_with_message_and_values_kept(client, mailbox, field, value, message):
    petition = make_petition()
    data = supporter("Ann Lee", "ann@example.org", comment="My typed comment", postcode="M5V 2T6")
    data[field] = value
    response = sign(client, petition.url, data)
    assert response.status_code == 400
    page = text_of(response)
    assert message in page
    html = response.get_data(as_text=True)
    if field != "name":
        assert 'value="Ann Lee"' in html
    if field != "comment":
        assert "My typed comment" in html
    assert signature_rows(petition.campaign) == 0
    assert db.session.query(OutboxMessage).count() == 0


def test_every_problem_is_shown_at_once(client):
    petition = make_petition()
    response = sign(client, petition.url, {"name": "=x", "email": "nope", "country": "ZZ"})
    page = text_of(response)
    assert response.status_code == 400
    assert "cannot start with" in page and "look like an e-mail address" in page and "Choose your country" in page


def test_honeypot_looks_like_success_and_stores_nothing(client, mailbox):
    petition = make_petition()
    response = sign(client, petition.url, supporter(website="http://spam.example"))
    assert response.status_code == 303
    assert signature_rows(petition.campaign) == 0
    assert db.session.query(OutboxMessage).count() == 0


def test_forged_or_stale_form_token_is_refused_kindly(client):
    petition = make_petition()
    other = make_petition()
    html = client.get(other.url).get_data(as_text=True)
    fields = hidden_fields(html)
    # A token handed out for another petition, and none at all.
    for token in (fields["csrf_token"], ""):
        response = client.post(f"{petition.url}/sign", data={**supporter(), "csrf_token": token})
        assert response.status_code == 400
        assert "This form had expired" in text_of(response)
        assert 'value="Ann Lee"' in response.get_data(as_text=True)
    assert signature_rows(petition.campaign) == 0


def test_cross_site_post_is_refused(client):
    petition = make_petition()
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}, {"Origin": "null"}):
        response = sign(client, petition.url, supporter(), headers=headers)
        assert response.status_code == 403
    assert sign(client, petition.url, supporter(), headers={"Origin": "http://localhost",
                                                            "Sec-Fetch-Site": "same-origin"}).status_code == 303
    assert signature_rows(petition.campaign) == 1


def test_sign_posts_are_rate_limited_per_address(client):
    """The hard limit (``SIGN_RATE_LIMIT``, 60 a minute): far above the rate at which signatures are held
    (tests/signatures/test_fraud.py), it only stops plain denial of service."""
    petition = make_petition()
    page = client.get(petition.url).get_data(as_text=True)
    data = {**hidden_fields(page), "name": "=", "email": "x", "country": "CA"}
    action = form_action(page)
    statuses = [client.post(action, data=data).status_code for _ in range(61)]
    assert statuses[:60] == [400] * 60 and statuses[60] == 429
    # Another address is not affected.
    assert client.post(action, data=data, environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 400


def test_ratelimit_enabled_false_switches_the_limit_off(make_app):
    """RATELIMIT_ENABLED=false (load tests) switches the limit off."""
    petition = make_petition()
    client = make_app(RATELIMIT_ENABLED=False).test_client()
    page = client.get(petition.url).get_data(as_text=True)
    data = {**hidden_fields(page), "name": "=", "email": "x", "country": "CA"}
    assert all(client.post(form_action(page), data=data).status_code == 400 for _ in range(25))


# ---------------------------------------------------------------------------------------------
# Arbitrary text in every field


_addresses = itertools.count()


@pytest.fixture
def fuzz_petition():
    """Made once per test function: hypothesis runs all its examples inside that one test."""
    return make_petition()

PAYLOADS = [
    "<script>alert(1)</script>", "'; DROP TABLE signatures; --", "\x00", "Robert'); --", "=1+1", "\u202e",
    "\ud7ff\uffff", "𝕬𝖓𝖓", "a" * 5000, "\r\n\t", "%00", "' OR '1'='1", "{{ 7*7 }}", "ann@example.org",
]
any_text = st.one_of(st.text(max_size=2000), st.sampled_from(PAYLOADS),
                     st.text(alphabet=st.characters(codec="utf-8"), min_size=0, max_size=300))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=any_text, email=any_text, country=st.one_of(any_text, st.sampled_from(["CA", "KR", "ca"])),
       postcode=any_text, comment=any_text, public=any_text, consent=st.lists(any_text, max_size=3),
       via=any_text, source=any_text, website=st.one_of(st.just(""), any_text))
def test_arbitrary_text_never_breaks_the_form(client, fuzz_petition, name, email, country, postcode, comment, public,
                                              consent, via, source, website):
    petition = fuzz_petition
    page = client.get(petition.url).get_data(as_text=True)
    before = signature_rows(petition.campaign)
    data = {**hidden_fields(page), "name": name, "email": email, "country": country, "postcode": postcode,
            "comment": comment, "public": public, "consent": consent, "via": via, "source": source,
            "website": website}
    address = next(_addresses)
    response = client.post(form_action(page), data=data,
                           environ_base={"REMOTE_ADDR": f"10.{address // 65536 % 256}.{address // 256 % 256}.{address % 256}"})
    assert response.status_code in (303, 400, 413), response.status_code
    if response.status_code != 303 or (website or "").strip():
        assert signature_rows(petition.campaign) == before
    else:
        assert signature_rows(petition.campaign) in (before, before + 1)  # a repeat adds nothing


@given(st.text(max_size=300))
def test_name_rule_never_crashes(raw):
    try:
        name = clean_name(raw)
    except Exception as exc:  # noqa: BLE001
        assert type(exc).__name__ == "InvalidInput"
    else:
        assert 1 <= len(name) <= 100 and name[0] not in "=+-@" and "\x00" not in name


@given(st.text(max_size=1500))
def test_comment_rule_never_crashes(raw):
    try:
        comment = clean_comment(raw)
    except Exception as exc:  # noqa: BLE001
        assert type(exc).__name__ == "InvalidInput"
    else:
        assert comment is None or (len(comment) <= 1000 and "\x00" not in comment)


# ---------------------------------------------------------------------------------------------
# Canonical e-mail keys


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("Ann@Example.org", "ann@example.org"),
        ("  ann+petitions@example.org ", "ann@example.org"),
        ("a.n.n@example.org", "a.n.n@example.org"),
        ("A.n.N+x@gmail.com", "ann@gmail.com"),
        ("ann@googlemail.com", "ann@gmail.com"),
        ("+only@example.org", "+only@example.org"),
    ],
)
def test_email_key(app, typed, key):
    with app.app_context():
        assert email_key(typed) == key


def test_email_rules_are_data_an_operator_can_extend(app, tmp_path):
    rules = {"default": {"tag_separators": ["+"]},
             "domains": {"yahoo.com": {"tag_separators": ["-"]}, "ymail.com": {"alias": "yahoo.com"}}}
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(rules))
    from undersign.signatures.canonical import load_rules

    loaded = load_rules(str(path))
    assert email_key("ann-news@yahoo.com", loaded) == "ann@yahoo.com"
    assert email_key("ann@ymail.com", loaded) == "ann@yahoo.com"
    assert email_key("a.nn+x@gmail.com", loaded) == "a.nn@gmail.com"  # no gmail rule in this file
    with pytest.raises(ValueError):
        EmailRules.from_mapping({"domains": {"x.org": {"remove_dots": "yes"}}})


def test_a_broken_rules_file_stops_the_start(make_app, tmp_path):
    from undersign.config import ConfigError

    broken = tmp_path / "rules.json"
    broken.write_text('{"domains": {"x.org": {"remove_dots": "sometimes"}}}')
    with pytest.raises(ConfigError, match="EMAIL_RULES_FILE"):
        make_app(EMAIL_RULES_FILE=str(broken))
    with pytest.raises(ConfigError, match="EMAIL_RULES_FILE"):
        make_app(EMAIL_RULES_FILE=str(tmp_path / "missing.json"))
