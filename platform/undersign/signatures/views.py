"""Signing: the sign POST, confirmation, withdrawal, public figures (.json) and the embeddable form."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("signing", __name__)
