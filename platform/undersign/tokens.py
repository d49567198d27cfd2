"""Random tokens and keyed hashes, shared by every domain.

Tokens are stored only as their SHA-256; keyed hashes use keys derived from
``SECRET_KEY`` per purpose, so one leaked derived key opens nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from flask import current_app


def hash_token(raw: str) -> str:
    """The stored form of a random token."""
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def new_token(prefix: str = "") -> tuple[str, str]:
    """A random URL-safe token (256 bits, after ``prefix``) and its hash for storage."""
    raw = prefix + secrets.token_urlsafe(32)
    return raw, hash_token(raw)


def derived_key(purpose: str) -> bytes:
    """A key for one purpose (``"signatures.ip-hash"``), derived from ``SECRET_KEY``."""
    secret = current_app.config["SECRET_KEY"]
    secret = secret if isinstance(secret, bytes) else str(secret).encode("utf-8")
    return hmac.new(secret, f"undersign.{purpose}".encode(), hashlib.sha256).digest()


def keyed_hash(purpose: str, message: bytes) -> bytes:
    return hmac.new(derived_key(purpose), message, hashlib.sha256).digest()


def urlsafe(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def same(a: str, b: str) -> bool:
    """Constant-time comparison of two tokens or hashes."""
    return hmac.compare_digest(a.encode(), b.encode())
