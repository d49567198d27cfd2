"""Operator commands: ``flask create-admin``, ``flask seed-demo``, and friends."""

from __future__ import annotations

import os

import click
from flask import Flask

from undersign.errors import DomainError
from undersign.extensions import db


def register(app: Flask) -> None:
    app.cli.add_command(create_admin_command)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(deliver_mail_command)


@click.command("create-admin")
@click.argument("email")
@click.option("--name", default="", help="Display name (defaults to the part before @).")
def create_admin_command(email: str, name: str) -> None:
    """Create a platform administrator (or promote an existing account).

    The password comes from UNDERSIGN_ADMIN_PASSWORD or is asked for; there is
    no default administrator account.
    """
    from undersign.accounts.service import create_admin, user_by_email

    password = os.environ.get("UNDERSIGN_ADMIN_PASSWORD") or ""
    if not password and user_by_email(email) is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_admin(email, name, password)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from exc
    db.session.commit()
    click.echo(f"{user.email} is a platform administrator.")


@click.command("seed-demo")
def seed_demo_command() -> None:
    """Load the demo organizations, people and petitions. Safe to run twice."""
    from undersign import demo

    logins = demo.load()
    db.session.commit()
    click.echo("Demo data is loaded. Sign in at /login with:")
    for email, password, what in logins:
        click.echo(f"  {email:<32} {password:<24} {what}")


@click.command("deliver-mail")
def deliver_mail_command() -> None:
    """Send whatever is due in the mail outbox, once."""
    from undersign.mail import deliver_pending

    click.echo(f"{deliver_pending()} message(s) sent.")
