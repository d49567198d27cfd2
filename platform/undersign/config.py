"""Settings from environment variables, validated once at start-up.

Every setting has a development default so that `make run` needs no
configuration; production mode (``UNDERSIGN_ENV=production``) refuses to
start on the defaults that would be unsafe there.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

DEV_SECRET_KEY = "dev-only-secret-key-change-me"
MIN_SECRET_KEY_LENGTH = 32


class ConfigError(RuntimeError):
    """The environment cannot run the application; the message says why in one line."""


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


def _float(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from exc


def database_uri(url: str) -> str:
    """Route plain ``postgres://`` and ``postgresql://`` URLs to psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def load(instance_path: Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the Flask config from the environment, then apply ``overrides``.

    :raise ConfigError: production mode with a default or short ``SECRET_KEY``,
        or a malformed number.
    """
    overrides = dict(overrides or {})
    env = dict(os.environ)
    if env.get("UNDERSIGN_ENV", "development") != "production":
        # Read, not exported into os.environ: the real environment wins, and other
        # apps built in this process (tests) do not inherit one app's .env.
        dotenv = {k: v for k, v in dotenv_values(Path.cwd() / ".env").items() if v is not None}
        env = {**dotenv, **env}
    # The mode may come from the caller (tests build production apps), so every
    # setting that depends on it is derived after the overrides are known.
    mode = overrides.get("UNDERSIGN_ENV") or env.get("UNDERSIGN_ENV", "development")
    production = mode == "production"
    default_db = "sqlite:///" + str(instance_path / "undersign.sqlite3")
    redis_url = overrides["REDIS_URL"] if "REDIS_URL" in overrides else (env.get("REDIS_URL") or None)
    redis_timeout = _float(env, "REDIS_TIMEOUT", 0.5)

    config: dict[str, Any] = {
        "UNDERSIGN_ENV": mode,
        "SECRET_KEY": env.get("SECRET_KEY", DEV_SECRET_KEY),
        "SQLALCHEMY_DATABASE_URI": database_uri(env.get("DATABASE_URL", default_db)),
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "DB_POOL_SIZE": _int(env, "DB_POOL_SIZE", 5),
        "REDIS_URL": redis_url,
        "BASE_URL": env.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "MAIL_SERVER": env.get("MAIL_SERVER") or None,
        "MAIL_PORT": _int(env, "MAIL_PORT", 25),
        "MAIL_USE_TLS": _bool(env.get("MAIL_USE_TLS"), False),
        "MAIL_USERNAME": env.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD") or None,
        "MAIL_DEFAULT_SENDER": env.get("MAIL_DEFAULT_SENDER", "undersign <noreply@undersign.localhost>"),
        # Shown in every page's footer: where visitors write to the people who run this platform.
        # Production has no default (a made-up address is worse than none): the footer leaves it out.
        "CONTACT_EMAIL": env.get("CONTACT_EMAIL") or (None if production else "contact@undersign.localhost"),
        # "thread": deliver from a background thread of this process (embedded default);
        # "queue": enqueue on Redis for `flask worker`; "manual": only when asked (tests).
        "MAIL_DELIVERY": env.get("MAIL_DELIVERY", "queue" if redis_url else "thread"),
        "RATELIMIT_ENABLED": _bool(env.get("RATELIMIT_ENABLED"), True),
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI") or redis_url or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        # Redis down: each process counts in memory instead (limits loosen by the number of
        # processes, signing never blocks) and logs a warning; it re-checks Redis with backoff.
        # swallow_errors is the last resort if even that fails: the request goes through.
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_STORAGE_OPTIONS": (
            {"socket_connect_timeout": redis_timeout, "socket_timeout": redis_timeout} if redis_url else {}
        ),
        "REDIS_TIMEOUT": redis_timeout,
        # RQ queue for background jobs; tests and the benchmark use a name of their own.
        "JOB_QUEUE": env.get("JOB_QUEUE", "undersign"),
        # How often `flask worker` sweeps the mail outbox for mail whose job never reached Redis.
        "OUTBOX_SWEEP_SECONDS": _float(env, "OUTBOX_SWEEP_SECONDS", 30.0),
        # "json": one JSON object per line on stdout (production default); "text" for people.
        "LOG_FORMAT": env.get("LOG_FORMAT", "json" if production else "text"),
        # The signature log's Ed25519 key, base64 of the 32 raw bytes (`undersign.transparency.heads`);
        # unset, one is generated once into the instance folder.
        "LOG_SIGNING_KEY": env.get("LOG_SIGNING_KEY") or None,
        # A head is signed at least this often while the log grows (on request, and by the jobs).
        "LOG_HEAD_SECONDS": _int(env, "LOG_HEAD_SECONDS", 60),
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO").upper(),
        "DB_CONNECT_TIMEOUT": _int(env, "DB_CONNECT_TIMEOUT", 5),
        # A pooled connection idle longer than this is pinged before use (0: ping on every checkout).
        "DB_PING_AFTER_IDLE_SECONDS": _float(env, "DB_PING_AFTER_IDLE_SECONDS", 10.0),
        # Behind PgBouncer in transaction pooling: no server-side prepared statements.
        "DB_PGBOUNCER": _bool(env.get("DB_PGBOUNCER"), False),
        "RATELIMIT_STRATEGY": "fixed-window",
        # Requests per API token (all API routes together), in Flask-Limiter's notation.
        "API_RATE_LIMIT": env.get("API_RATE_LIMIT", "300 per minute"),
        # Check each API answer against the model its document promises (undersign.api.openapi); a break is
        # a 500. On in development and tests, off in production, where it would cost a validation per answer.
        "API_VALIDATE_RESPONSES": _bool(env.get("API_VALIDATE_RESPONSES"), not production),
        # Sign POSTs per client address beyond which the answer is 429 (plain denial of service) ...
        "SIGN_RATE_LIMIT": env.get("SIGN_RATE_LIMIT", "60 per minute;1000 per hour"),
        # ... and, far below it, signatures per address and campaign in an hour beyond which each new one is
        # accepted as usual but held as suspicious, never counted until released (signatures/screening.py; 0: off).
        "SIGN_HOLD_PER_HOUR": _int(env, "SIGN_HOLD_PER_HOUR", 10),
        "PROXY_COUNT": _int(env, "PROXY_COUNT", 0),
        "PASSWORD_HASH_TIME_COST": _int(env, "PASSWORD_HASH_TIME_COST", 3),
        "PASSWORD_HASH_MEMORY_COST": _int(env, "PASSWORD_HASH_MEMORY_COST", 65536),
        "MAX_CONTENT_LENGTH": 8 * 1024 * 1024,
        "IMAGE_MAX_BYTES": 5 * 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "PUBLIC_CACHE_MAX_AGE": _int(env, "PUBLIC_CACHE_MAX_AGE", 10),
        # Seconds each web process keeps the rendered anonymous petition page and .json (0: off; web/cache.py).
        "PUBLIC_PAGE_CACHE_SECONDS": _float(env, "PUBLIC_PAGE_CACHE_SECONDS", 2.0),
        # Each web process keeps the petition page's text until the petition is edited, and fills in the count
        # on every view (public/shell.py); false renders the whole page every time (to measure it).
        "PUBLIC_PAGE_SHELLS": _bool(env.get("PUBLIC_PAGE_SHELLS"), True),
        # E-mail canonicalization rules for de-duplicating signatures (signatures/canonical.py); None: the packaged ones.
        "EMAIL_RULES_FILE": env.get("EMAIL_RULES_FILE") or None,
        # Days after a petition closes until its signers' personal data is anonymized (signatures/retention.py),
        # and days an unconfirmed signature is kept before it is deleted. Both are on the privacy page.
        "SIGNER_DATA_RETENTION_DAYS": _int(env, "SIGNER_DATA_RETENTION_DAYS", 183),
        "UNCONFIRMED_SIGNATURE_DAYS": _int(env, "UNCONFIRMED_SIGNATURE_DAYS", 30),
        # Days a copy of mail that was sent (or given up on) stays in the outbox.
        "MAIL_LOG_DAYS": _int(env, "MAIL_LOG_DAYS", 30),
        # The delivery packet lists at most this many public signers by name, and counts the rest
        # (delivery/packet.py); days a decision maker's response link works (delivery/service.py).
        "DELIVERY_PACKET_NAME_LIMIT": _int(env, "DELIVERY_PACKET_NAME_LIMIT", 5000),
        "DELIVERY_LINK_DAYS": _int(env, "DELIVERY_LINK_DAYS", 30),
    }
    if production:
        # __Host-: the browser only accepts it Secure, with Path=/ and without Domain,
        # so a sibling subdomain cannot plant or overwrite it.
        config.update(
            SESSION_COOKIE_NAME="__Host-session",
            SESSION_COOKIE_SECURE=True,
            SESSION_COOKIE_PATH="/",
            SESSION_COOKIE_DOMAIN=None,
            REMEMBER_COOKIE_NAME="__Host-remember",
            REMEMBER_COOKIE_SECURE=True,
            REMEMBER_COOKIE_PATH="/",
            REMEMBER_COOKIE_DOMAIN=None,
        )
    config.update(overrides)
    config["SQLALCHEMY_DATABASE_URI"] = database_uri(config["SQLALCHEMY_DATABASE_URI"])
    _check(config)
    return config


def _check(config: dict[str, Any]) -> None:
    for name in ("SIGNER_DATA_RETENTION_DAYS", "UNCONFIRMED_SIGNATURE_DAYS", "MAIL_LOG_DAYS"):
        if not isinstance(config[name], int) or config[name] < 1:
            raise ConfigError(f"{name} must be a whole number of days, at least 1, got {config[name]!r}")
    log_key = config.get("LOG_SIGNING_KEY")
    if log_key:
        try:
            raw = base64.b64decode(log_key, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 32:
            raise ConfigError("LOG_SIGNING_KEY must be the base64 of 32 random bytes (an Ed25519 private key)")
    if config["UNDERSIGN_ENV"] != "production":
        return
    key = config.get("SECRET_KEY") or ""
    if key == DEV_SECRET_KEY or len(key) < MIN_SECRET_KEY_LENGTH:
        raise ConfigError(
            f"SECRET_KEY must be set to a random value of at least {MIN_SECRET_KEY_LENGTH} "
            "characters in production (try: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
    if not log_key:
        # Generated on first run only on the embedded default: in production every web process and machine must
        # sign with the one published key, and a lost instance folder must not silently change it.
        raise ConfigError(
            "LOG_SIGNING_KEY must be set in production: the base64 of 32 random bytes (try: python -c "
            "'import base64, secrets; print(base64.b64encode(secrets.token_bytes(32)).decode())')"
        )
