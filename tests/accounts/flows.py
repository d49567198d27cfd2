"""What a staff member does in the browser, as steps for the account tests."""

from __future__ import annotations

from typing import Any

from tests.factories import PASSWORD
from tests.helpers import csrf_token, submit

NEW_PASSWORD = "lantern orchard velvet compass"


def sign_up(client: Any, email: str, name: str = "Ada Staff", password: str = NEW_PASSWORD) -> Any:
    return submit(client, "/signup", {"name": name, "email": email, "password": password})


def sign_in(client: Any, email: str, password: str = PASSWORD, path: str = "/login", **kwargs: Any) -> Any:
    return submit(client, path, {"email": email, "password": password, **kwargs})


def press_button(client: Any, page: str) -> Any:
    """Open ``page`` and press its (single) POST button."""
    response = client.get(page)
    assert response.status_code == 200, f"GET {page} gave {response.status_code}"
    return client.post(page, data={"csrf_token": csrf_token(response.get_data(as_text=True))})


def post_from_account_page(client: Any, action: str, data: dict[str, Any] | None = None) -> Any:
    return submit(client, "/account", data, action=action)


def copied_session(app: Any, client: Any) -> Any:
    """A second browser holding a copy of ``client``'s session cookie as it is now."""
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = client.get_cookie(name)
    assert cookie is not None, "the client has no session cookie"
    other = app.test_client()
    other.set_cookie(name, cookie.value)
    return other


def is_signed_in(client: Any) -> bool:
    response = client.get("/account")
    if response.status_code == 200:
        return True
    assert response.status_code == 302 and "/login" in response.headers["Location"], response.status_code
    return False
