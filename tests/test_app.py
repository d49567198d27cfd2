"""The application factory and its configuration, the source layout, and /healthz."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.conftest import TEST_DB, free_port
from tests.helpers import text_of
from undersign import config as config_module
from undersign import create_app
from undersign.config import ConfigError
from undersign.extensions import db

ROOT = Path(__file__).resolve().parents[1]
STRONG_KEY = "k" * 20 + "9f3Qx-Lm2Zp0Rt7Vw4Ys8Ub1Nc6Ha5Je"


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """An environment with none of our settings, and a working directory without a .env."""
    for name in ("UNDERSIGN_ENV", "SECRET_KEY", "DATABASE_URL", "BASE_URL", "MAIL_SERVER", "MAIL_PORT", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_create_app_takes_its_config_as_an_argument(app, tmp_path):
    built = create_app({"INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(tmp_path / "x.db"),
                        "BASE_URL": "https://petitions.example.org", "RATELIMIT_STORAGE_URI": "memory://"})
    assert built.config["BASE_URL"] == "https://petitions.example.org"
    assert built.instance_path == str(tmp_path)
    assert built.template_folder == str(ROOT / "templates")
    assert built.static_folder == str(ROOT / "static")
    assert "accounts.login" in {rule.endpoint for rule in built.url_map.iter_rules()}


def test_settings_come_from_the_environment(clean_env, monkeypatch):
    monkeypatch.setenv("BASE_URL", "https://sign.example.org/")
    monkeypatch.setenv("MAIL_SERVER", "smtp.example.org")
    monkeypatch.setenv("MAIL_PORT", "2525")
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.example.org/undersign")
    settings = config_module.load(clean_env)
    assert settings["BASE_URL"] == "https://sign.example.org"
    assert settings["MAIL_SERVER"] == "smtp.example.org" and settings["MAIL_PORT"] == 2525
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db.example.org/undersign"

    monkeypatch.setenv("MAIL_PORT", "twenty-five")
    with pytest.raises(ConfigError, match="MAIL_PORT must be a whole number"):
        config_module.load(clean_env)


def test_defaults_need_no_configuration(clean_env):
    settings = config_module.load(clean_env)
    assert settings["UNDERSIGN_ENV"] == "development"
    assert settings["SQLALCHEMY_DATABASE_URI"] == "sqlite:///" + str(clean_env / "undersign.sqlite3")
    assert settings["MAIL_SERVER"] is None  # mail goes to the log and the outbox


def test_dotenv_is_read_in_development(clean_env, monkeypatch):
    import os

    (clean_env / ".env").write_text("MAIL_SERVER=smtp.from-dotenv.example\nBASE_URL=https://dotenv.example\n")
    monkeypatch.setenv("BASE_URL", "https://real-environment.example")
    settings = config_module.load(clean_env)
    assert settings["MAIL_SERVER"] == "smtp.from-dotenv.example"
    # The real environment wins over the file, and the file does not leak into the process environment.
    assert settings["BASE_URL"] == "https://real-environment.example"
    assert "MAIL_SERVER" not in os.environ


@pytest.mark.parametrize("key", [None, config_module.DEV_SECRET_KEY, "too-short-secret", "x" * 31])
def test_production_refuses_a_default_or_short_secret_key(clean_env, monkeypatch, key):
    monkeypatch.setenv("UNDERSIGN_ENV", "production")
    if key is not None:
        monkeypatch.setenv("SECRET_KEY", key)
    with pytest.raises(ConfigError) as refused:
        create_app({"INSTANCE_PATH": str(clean_env)})
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith("SECRET_KEY must be set to a random value of at least 32 characters in production")


def test_production_accepts_a_long_random_secret_key(clean_env, monkeypatch):
    monkeypatch.setenv("UNDERSIGN_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", STRONG_KEY)
    try:
        config_module.load(clean_env)
    except ConfigError as exc:  # production may require other settings; never the key again
        assert "SECRET_KEY" not in str(exc)


def test_a_development_app_starts_with_the_default_secret_key(clean_env):
    assert config_module.load(clean_env)["SECRET_KEY"] == config_module.DEV_SECRET_KEY


@pytest.mark.skipif(TEST_DB != "sqlite", reason="SQLite pragmas")
def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(app):
    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 1000
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_platform_is_a_source_root_not_a_package():
    assert not (ROOT / "platform" / "__init__.py").exists()
    result = subprocess.run(
        [sys.executable, "-c", "import platform; print(platform.system())"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=True,
    )
    import platform

    assert result.stdout.strip() == platform.system() != ""


def test_healthz_with_the_database_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["database"] == "ok"
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("where", ["postgresql", "sqlite"])
def test_healthz_with_the_database_down(make_app, committed_db, tmp_path, where):
    if where == "postgresql":
        url = f"postgresql://postgres@127.0.0.1:{free_port()}/undersign"
    else:
        url = "sqlite:///" + str(tmp_path / "no-such-directory" / "undersign.sqlite3")
    broken = make_app(SQLALCHEMY_DATABASE_URI=url, TESTING=False)
    client = broken.test_client()

    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.json["database"] == "unreachable"
    assert health.json["status"] != "ok"
    assert "OperationalError" not in health.get_data(as_text=True)

    # Pages that need the database say so readably, with the menu of a signed-in user left out.
    page = client.get("/")
    assert page.status_code == 503
    assert "Temporarily unavailable" in text_of(page)
    for leak in ("Traceback", "OperationalError", "psycopg", "sqlite3", "127.0.0.1"):
        assert leak not in page.get_data(as_text=True)
    with client.session_transaction() as session:
        session["_user_id"] = "1:1:a-key-of-a-session-that-cannot-be-looked-up"
    signed_in = client.get("/account")
    assert signed_in.status_code == 503 and "Temporarily unavailable" in text_of(signed_in)
    assert broken.test_client().get("/login").status_code == 200  # a page without the database still works
