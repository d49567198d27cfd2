"""The application factory."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from pathlib import Path
from typing import Any

from flask import Flask, has_request_context, request
from flask_babel import get_locale, lazy_gettext as _l
from werkzeug.middleware.proxy_fix import ProxyFix

from undersign import config as config_module
from undersign.db import ping_idle_connections, render_migration_item
from undersign.extensions import babel, csrf, db, limiter, login_manager, migrate

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
    register_mail_composers()
    _init_database(app)
    migrate.init_app(
        app, db, directory=str(ROOT / "migrations"),
        render_as_batch=True, compare_type=True, render_item=render_migration_item,
    )
    _init_languages(app)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)

    if app.config["PROXY_COUNT"]:
        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    _register_blueprints(app)
    _register_web(app)
    # Registers the after-commit hook that kicks mail delivery (thread or queue).
    from undersign import jobs  # noqa: F401

    from undersign import cli

    cli.register(app)
    return app


def register_mail_composers() -> None:
    """The mails the worker composes at delivery, each from the domain that owns its data (`undersign.mail`)."""
    from undersign.signatures import signer_mail
    from undersign.transparency import receipts

    signer_mail.register()
    receipts.register()


def import_models() -> None:
    """Import every domain's models so that the metadata (and Alembic) sees all tables."""
    from undersign import mail  # noqa: F401
    from undersign.accounts import models as _accounts  # noqa: F401
    from undersign import audit  # noqa: F401
    from undersign.api import models as _api  # noqa: F401
    from undersign.campaigns import models as _campaigns  # noqa: F401
    from undersign.delivery import models as _delivery  # noqa: F401
    from undersign.images import models as _images  # noqa: F401
    from undersign.mailings import models as _mailings  # noqa: F401
    from undersign.moderation import models as _moderation  # noqa: F401
    from undersign.organizations import models as _organizations  # noqa: F401
    from undersign.signatures import models as _signatures  # noqa: F401
    from undersign.transparency import models as _transparency  # noqa: F401
    from undersign.supporters import models as _supporters  # noqa: F401
    from undersign.webhooks import models as _webhooks  # noqa: F401


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line, for log collectors that read stdout.

    Records carry time (UTC, ISO 8601), level, logger and message; inside a
    request also method, path and the client address; gunicorn's access
    records (``gunicorn.access``) become status, bytes and duration fields.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        if record.name == "gunicorn.access" and isinstance(record.args, dict):
            atoms = record.args
            entry.update(
                message="request", method=atoms.get("m"), path=atoms.get("U"), query=atoms.get("q") or None,
                status=_int_or_none(atoms.get("s")), bytes=_int_or_none(atoms.get("B")),
                duration_ms=round(int(atoms.get("D") or 0) / 1000, 1), remote=atoms.get("h"),
                user_agent=atoms.get("a"),
            )
        else:
            entry["message"] = record.getMessage()
            if has_request_context():
                entry.update(method=request.method, path=request.path, remote=request.remote_addr)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def _int_or_none(value: object) -> int | None:
    if not isinstance(value, (str, int)):
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _configure_logging(app: Flask) -> None:
    """Text for people in development; JSON lines on stdout in production (``LOG_FORMAT``).

    Configures the root logger once per process: several apps in one process
    (tests) share it, and gunicorn's own loggers are set in gunicorn.conf.py.
    """
    root = logging.getLogger()
    if app.config["LOG_FORMAT"] == "json":
        if not any(isinstance(h.formatter, JsonLogFormatter) for h in root.handlers):
            handler = logging.StreamHandler(sys.stdout)
            handler.setFormatter(JsonLogFormatter())
            for old in [h for h in root.handlers if isinstance(h, logging.StreamHandler) and not _is_capture(h)]:
                root.removeHandler(old)
            root.addHandler(handler)
        root.setLevel(app.config["LOG_LEVEL"])
    elif not root.handlers:
        logging.basicConfig(level=app.config["LOG_LEVEL"], format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _is_capture(handler: logging.Handler) -> bool:
    """pytest's log capture handlers must stay where they are."""
    return type(handler).__module__.startswith("_pytest")


def _init_database(app: Flask) -> None:
    uri: str = app.config["SQLALCHEMY_DATABASE_URI"]
    options: dict[str, Any] = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if uri.startswith("postgresql"):
        options.setdefault("pool_size", app.config["DB_POOL_SIZE"])
        options.setdefault("max_overflow", app.config["DB_POOL_SIZE"])
        # No ping on every checkout (two round trips per request); `ping_idle_connections`
        # pings only a connection that sat idle, which is where a restart leaves dead ones.
        options.setdefault("pool_pre_ping", False)
        options.setdefault("pool_timeout", 10)
        # A database that does not answer fails fast (503) instead of holding a worker thread.
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("connect_timeout", app.config["DB_CONNECT_TIMEOUT"])
        if app.config["DB_PGBOUNCER"]:
            # PgBouncer in transaction pooling hands each transaction to any server
            # connection: a statement prepared on one is unknown on the next.
            connect_args["prepare_threshold"] = None
        options["connect_args"] = connect_args
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    db.init_app(app)
    if uri.startswith("postgresql") and not options.get("pool_pre_ping"):
        with app.app_context():
            ping_idle_connections(db.engine, app.config["DB_PING_AFTER_IDLE_SECONDS"])

    # Registered after Flask-SQLAlchemy's own teardown, so it runs first (Flask runs them in
    # reverse). When the database died mid-request, ending the session means a ROLLBACK on a
    # dead socket; that error would escape the request after its 503 page was made and
    # gunicorn would answer a bare 500 instead. The dead connection is already invalidated
    # (the pool replaces it), so the session is dropped and the 503 goes out.
    @app.teardown_appcontext
    def _end_session_even_if_the_database_is_gone(_exc: BaseException | None) -> None:
        from sqlalchemy.exc import DBAPIError

        try:
            db.session.remove()
        except DBAPIError as exc:
            logging.getLogger(__name__).warning("database gone while ending the session: %s", str(exc).splitlines()[0])
            db.session.registry.clear()
    if uri.startswith("sqlite"):
        from undersign.db import configure_sqlite

        with app.app_context():
            configure_sqlite(db.engine)


def _init_languages(app: Flask) -> None:
    """Flask-Babel with our catalogues (``translations/`` at the repository root, compiled by ``make``)."""
    from undersign.web.language import select_language

    babel.init_app(app, locale_selector=select_language,
                   default_translation_directories=str(ROOT / "translations"))
    # {% trans %} blocks are extracted and looked up with their whitespace collapsed.
    app.jinja_env.policies["ext.i18n.trimmed"] = True


def _register_blueprints(app: Flask) -> None:
    from undersign.accounts.views import bp as accounts
    from undersign.api.console import bp as api_console
    from undersign.api.views import bp as api
    from undersign.campaigns.views import bp as campaigns_console
    from undersign.delivery.views import bp as delivery
    from undersign.delivery.views import console as delivery_console
    from undersign.images.views import bp as images
    from undersign.mailings.views import bp as mailings
    from undersign.mailings.views import console as mailings_console
    from undersign.moderation.report_views import bp as admin_reports
    from undersign.moderation.fraud import bp as fraud
    from undersign.moderation.views import bp as moderation
    from undersign.organizations.account_views import bp as staff_data
    from undersign.organizations.views import bp as organizations
    from undersign.organizations.views import console as organization_console
    from undersign.public.reports import bp as reports
    from undersign.public.views import bp as public_pages
    from undersign.signatures.console import bp as supporters
    from undersign.signatures.views import bp as signing
    from undersign.supporters.views import bp as my_signatures
    from undersign.transparency.console import bp as witnessing
    from undersign.transparency.views import bp as transparency
    from undersign.web.views import bp as web
    from undersign.webhooks.service import subscribe as subscribe_webhooks
    from undersign.webhooks.views import console as webhooks

    for blueprint in (
        web, accounts, organizations, organization_console, campaigns_console, supporters, public_pages, signing,
        reports, images, moderation, admin_reports, fraud, api, api_console, mailings, mailings_console, webhooks,
        my_signatures, staff_data, delivery, delivery_console, transparency, witnessing,
    ):
        app.register_blueprint(blueprint)
    csrf.exempt(api)
    subscribe_webhooks(app)


def _register_web(app: Flask) -> None:
    from undersign.accounts.views import load_signed_in_user
    from undersign.images.urls import image_url
    from undersign.web import access, database, errors, headers

    database.register(app)
    login_manager.user_loader(load_signed_in_user)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please sign in to continue.")
    app.before_request(access.enforce_access)
    # Flask's own static route declares no rule; it is public by nature.
    app.view_functions["static"] = access.public(app.view_functions["static"])
    errors.register(app)
    headers.register(app)

    from undersign.web.language import LANGUAGE_NAMES

    @app.context_processor
    def _template_helpers() -> dict[str, Any]:
        return {"can": access.can, "image_url": image_url, "current_language": str(get_locale() or "en"),
                "language_names": LANGUAGE_NAMES}
