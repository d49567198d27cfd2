"""The application factory."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from undersign import config as config_module
from undersign.db import render_migration_item
from undersign.extensions import csrf, db, limiter, login_manager, migrate

ROOT = Path(__file__).resolve().parents[2]


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build an application; ``config`` overrides what the environment says.

    :raise ConfigError: the environment cannot run the application (see `config.load`).
    """
    instance_path = Path((config or {}).get("INSTANCE_PATH", ROOT / "instance"))
    app = Flask(
        "undersign",
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(instance_path),
        instance_relative_config=False,
    )
    app.config.update(config_module.load(instance_path, config))
    instance_path.mkdir(parents=True, exist_ok=True)

    _configure_logging(app)
    import_models()
    _init_database(app)
    migrate.init_app(
        app, db, directory=str(ROOT / "migrations"),
        render_as_batch=True, compare_type=True, render_item=render_migration_item,
    )
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)

    if app.config["PROXY_COUNT"]:
        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    _register_blueprints(app)
    _register_web(app)

    from undersign import cli

    cli.register(app)
    return app


def import_models() -> None:
    """Import every domain's models so that the metadata (and Alembic) sees all tables."""
    from undersign import mail  # noqa: F401
    from undersign.accounts import models as _accounts  # noqa: F401
    from undersign.api import models as _api  # noqa: F401
    from undersign.campaigns import models as _campaigns  # noqa: F401
    from undersign.moderation import models as _moderation  # noqa: F401
    from undersign.organizations import models as _organizations  # noqa: F401
    from undersign.signatures import models as _signatures  # noqa: F401


def _configure_logging(app: Flask) -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _init_database(app: Flask) -> None:
    uri: str = app.config["SQLALCHEMY_DATABASE_URI"]
    options: dict[str, Any] = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if uri.startswith("postgresql"):
        options.setdefault("pool_size", app.config["DB_POOL_SIZE"])
        options.setdefault("max_overflow", app.config["DB_POOL_SIZE"])
        options.setdefault("pool_pre_ping", True)
        options.setdefault("pool_timeout", 10)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    db.init_app(app)
    if uri.startswith("sqlite"):
        from undersign.db import configure_sqlite

        with app.app_context():
            configure_sqlite(db.engine)


def _register_blueprints(app: Flask) -> None:
    from undersign.accounts.views import bp as accounts
    from undersign.api.views import bp as api
    from undersign.campaigns.views import bp as campaigns_console
    from undersign.moderation.views import bp as moderation
    from undersign.organizations.views import bp as organizations
    from undersign.organizations.views import console as organization_console
    from undersign.signatures.pages import bp as public_pages
    from undersign.signatures.views import bp as signing
    from undersign.web.views import bp as web

    for blueprint in (
        web, accounts, organizations, organization_console, campaigns_console, public_pages, signing, moderation, api,
    ):
        app.register_blueprint(blueprint)
    csrf.exempt(api)


def _register_web(app: Flask) -> None:
    from undersign.accounts.service import load_user_from_cookie
    from undersign.organizations.views import image_url
    from undersign.web import access, errors, headers

    login_manager.user_loader(load_user_from_cookie)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Please sign in to continue."
    app.before_request(access.enforce_access)
    # Flask's own static route declares no rule; it is public by nature.
    app.view_functions["static"] = access.public(app.view_functions["static"])
    errors.register(app)
    headers.register(app)

    @app.context_processor
    def _template_helpers() -> dict[str, Any]:
        return {"can": access.can, "image_url": image_url}
