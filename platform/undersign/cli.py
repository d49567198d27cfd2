"""Operator commands: ``flask create-admin``, ``flask seed-demo``, and friends."""

from __future__ import annotations

import os

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from undersign.transaction import unit_of_work
from undersign.errors import DomainError
from undersign.extensions import db


def register(app: Flask) -> None:
    app.cli.add_command(create_admin_command)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(deliver_mail_command)
    app.cli.add_command(worker_command)
    app.cli.add_command(close_expired_command)
    app.cli.add_command(recount_command)
    app.cli.add_command(retention_command)
    app.cli.add_command(api_token_group)
    from undersign.delivery.commands import delivery_packet_command

    app.cli.add_command(delivery_packet_command)
    app.cli.add_command(log_group)


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
    from undersign.audit import record

    # End the look-up's read transaction: the write below must begin its own, holding the write lock
    # (and no lock may be held while the prompt waits for a person).
    db.session.rollback()
    try:
        with unit_of_work():
            user = create_admin(email, name, password)
            record(None, "user.made_admin", user, details={"email": user.email, "by": "flask create-admin"})
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"{user.email} is a platform administrator.")


@click.command("seed-demo")
def seed_demo_command() -> None:
    """Load the demo organizations, people and petitions. Safe to run twice."""
    from undersign import demo

    with unit_of_work():
        logins = demo.load()
    click.echo("Demo data is loaded. Sign in at /login with:")
    for email, password, what in logins:
        click.echo(f"  {email:<32} {password:<24} {what}")


@click.command("deliver-mail")
def deliver_mail_command() -> None:
    """Send whatever is due in the mail outbox, once."""
    from undersign.mail import deliver_pending

    click.echo(f"{deliver_pending()} message(s) sent.")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Sweep the outbox once, run the waiting jobs, then exit.")
@with_appcontext
def worker_command(burst: bool) -> None:
    """Run the background worker: RQ jobs from JOB_QUEUE and a periodic outbox sweep.

    Needs REDIS_URL. Run one or more per deployment (several are safe: outbox rows
    are claimed with SKIP LOCKED on PostgreSQL).
    """
    from undersign.jobs import run_worker

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not app.config["REDIS_URL"]:
        raise click.ClickException("REDIS_URL is not set: without Redis, mail is delivered by the web processes.")
    run_worker(app, burst=burst)


@click.command("close-expired")
def close_expired_command() -> None:
    """Mark published petitions whose closing date has passed as closed (run it every few minutes).

    Readers already see such a petition as closed; this writes the status down.
    """
    from undersign.campaigns.service import close_expired_campaigns
    from undersign.db import utcnow

    with unit_of_work():
        closed = close_expired_campaigns(utcnow())
    click.echo(f"{closed} petition(s) closed.")


@click.command("retention")
@click.option("--dry-run", is_flag=True, help="Say what would be done, and keep nothing (no mail goes out).")
def retention_command(dry_run: bool) -> None:
    """Warn sponsors' owners, anonymize the signers of petitions closed longer than SIGNER_DATA_RETENTION_DAYS,
    and delete signatures unconfirmed for UNCONFIRMED_SIGNATURE_DAYS. `flask worker` does the same every hour."""
    from undersign.db import utcnow
    from undersign.signatures import retention

    config = current_app.config
    with unit_of_work(keep=not dry_run):
        report = retention.run(utcnow(), retention_days=config["SIGNER_DATA_RETENTION_DAYS"],
                               unconfirmed_days=config["UNCONFIRMED_SIGNATURE_DAYS"],
                               mail_days=config["MAIL_LOG_DAYS"])
    for line in report.lines():
        click.echo(("would have " if dry_run else "") + line)


@click.command("recount")
@click.argument("slug", required=False)
def recount_command(slug: str | None) -> None:
    """Recompute the signature counters from the rows and report any drift (all campaigns, or SLUG).

    Prints each campaign's (and sponsor's) stored and actual counts, stores the
    actual ones, and commits campaign by campaign (each holds its row lock only
    briefly). Exit status 0 either way; the last line says whether anything drifted.
    """
    from sqlalchemy import select

    from undersign.campaigns.models import Campaign
    from undersign.signatures.counting import recount

    query = select(Campaign.id).order_by(Campaign.id)
    if slug:
        query = query.where(Campaign.slug == slug)
    ids = list(db.session.scalars(query))
    db.session.rollback()  # each campaign below is its own unit of work, taking the write lock as it begins
    if slug and not ids:
        raise click.ClickException(f"No campaign with the slug {slug!r}.")
    drifted = 0
    for campaign_id in ids:
        with unit_of_work():
            campaign = db.session.get(Campaign, campaign_id)
            assert campaign is not None
            result = recount(campaign)
        drifted += result.drifted
        mark = "  DRIFT (fixed)" if result.campaign.drift else ""
        click.echo(f"{result.campaign.label}: stored {result.campaign.stored}, actual {result.campaign.actual}{mark}")
        for tally in result.sponsors:
            mark = "  DRIFT (fixed)" if tally.drift else ""
            click.echo(f"  {tally.label}: stored {tally.stored}, actual {tally.actual}{mark}")
    click.echo(f"{len(ids)} campaign(s) recounted; "
               + (f"{drifted} had drifted and are fixed." if drifted else "no drift."))


@click.group("log")
def log_group() -> None:
    """The public signature log."""


@log_group.command("check")
@click.option("--slug", default=None, help="Only this campaign.")
def log_check_command(slug: str | None) -> None:
    """Check every campaign's log against its signed heads and its counter; exit status 1 if anything is wrong."""
    from sqlalchemy import select

    from undersign.campaigns.models import Campaign
    from undersign.transparency.heads import check_log

    query = select(Campaign).order_by(Campaign.id)
    if slug:
        query = query.where(Campaign.slug == slug)
    campaigns = list(db.session.scalars(query))
    if slug and not campaigns:
        raise click.ClickException(f"No campaign with the slug {slug!r}.")
    failed = 0
    for campaign in campaigns:
        problems = check_log(campaign)
        failed += bool(problems)
        click.echo(f"{campaign.slug}: " + ("ok" if not problems else "FAILED"))
        for problem in problems:
            click.echo(f"  {problem}")
    db.session.rollback()
    click.echo(f"{len(campaigns)} log(s) checked; " + (f"{failed} failed." if failed else "all hold."))
    if failed:
        raise SystemExit(1)


@log_group.command("backfill")
def log_backfill_command() -> None:
    """Log the counted signatures a log does not hold yet (a database from before the log), then sign heads."""
    from sqlalchemy import select

    from undersign.campaigns.models import Campaign
    from undersign.transparency import heads, service as signature_log

    with unit_of_work():
        for campaign in db.session.scalars(select(Campaign).order_by(Campaign.id)):
            added = signature_log.backfill(campaign.id)
            heads.issue(campaign)
            click.echo(f"{campaign.slug}: {added} entr{'y' if added == 1 else 'ies'} added")


@click.group("api-token")
def api_token_group() -> None:
    """API tokens of organizations."""


@api_token_group.command("create")
@click.argument("org_slug")
@click.argument("name")
@click.option("--write", is_flag=True, help="Scope read+write (default: read).")
def api_token_create_command(org_slug: str, name: str, write: bool) -> None:
    """Create an API token for ORG_SLUG named NAME; the token is printed alone on the last line, once."""
    from undersign.api import service

    try:
        with unit_of_work():
            org = service.organization_by_slug(org_slug)
            token, secret = service.create_token(None, org, name, write=write, via="flask api-token create")
            about = f"Token {token.prefix}… ({token.scope_label}) for {org.name}."
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"{about} It is shown only now; store it safely:")
    click.echo(secret)
