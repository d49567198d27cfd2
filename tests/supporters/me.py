"""Helpers for /me: sign and confirm through the real pages, ask for a link, open it."""

from __future__ import annotations

import re
from typing import Any

from tests.helpers import Mailbox, csrf_token, submit
from tests.signatures.petitions import Petition, sign, supporter


def confirm(client: Any, link: str) -> Any:
    page = client.get(link)
    assert page.status_code == 200, link
    return client.post(link, data={"csrf_token": csrf_token(page.get_data(as_text=True))})


def sign_and_confirm(client: Any, mailbox: Mailbox, petition: Petition, email: str, **fields: Any) -> None:
    assert sign(client, petition.url, supporter(email=email, **fields)).status_code == 303
    assert confirm(client, mailbox.last_to(email).link("/confirm/")).status_code == 200


def ask_for_link(client: Any, email: str) -> Any:
    return submit(client, "/me", {"email": email})


def link_from(mailbox: Mailbox, email: str) -> str:
    return mailbox.last_to(email).link("/me/link/")


def open_link(client: Any, link: str) -> Any:
    """Open the link like a person: the page with the button, then the button."""
    return confirm(client, link)


def sign_in(client: Any, mailbox: Mailbox, email: str) -> Any:
    assert ask_for_link(client, email).status_code == 200
    response = open_link(client, link_from(mailbox, email))
    assert response.status_code == 303 and response.headers["Location"] == "/me"
    return client.get("/me")


def post_on_me(client: Any, action: str, data: dict[str, Any] | None = None) -> Any:
    """Post one of the /me page's buttons, with the page's CSRF token."""
    return submit(client, "/me", data, action=action)


def without_nonces(html: str) -> str:
    return re.sub(r'nonce="[^"]*"', 'nonce=""', html)
