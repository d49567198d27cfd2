from tests.factories import login_as, make_org, make_user
from tests.helpers import submit


def test_healthz_reports_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["database"] == "ok"


def test_login_flow(client, mailbox):
    user = make_user("ann@example.org")
    response = submit(client, "/login", {"email": "ANN@example.org", "password": "correct horse battery staple"})
    assert response.status_code == 302
    assert client.get("/account").status_code == 200
    make_org(owner=user)
    assert "Organization" in client.get("/orgs").get_data(as_text=True)


def test_signup_sends_mail(client, mailbox):
    response = submit(client, "/signup", {"name": "Bo", "email": "bo@example.org", "password": "a long enough passphrase"})
    assert response.status_code == 200
    mail = mailbox.last_to("bo@example.org")
    link = mail.link("/verify/")
    assert client.get(link).status_code == 302
