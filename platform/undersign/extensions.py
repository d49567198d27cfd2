"""Flask extension objects, created unbound; `create_app` binds them (``db`` lives in `undersign.db`)."""

from __future__ import annotations

from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

from undersign.db import db

__all__ = ["babel", "csrf", "db", "limiter", "login_manager", "migrate", "client_address"]


def client_address() -> str:
    """The client's address as ProxyFix left it in ``remote_addr``."""
    return request.remote_addr or "unknown"


babel = Babel()
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=client_address, default_limits=[])
