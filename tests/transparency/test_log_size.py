"""A campaign's ``log_size`` (where the next index comes from): set from the entries by its migration and by
``flask log backfill``, checked by ``flask log check``."""

from __future__ import annotations

from alembic import command
from sqlalchemy import select, update

from tests.conftest import app_config, new_database_url
from tests.signatures.petitions import make_petition
from undersign.campaigns.models import Campaign
from undersign.signatures import service
from undersign.signatures.rules import SignatureInput
from undersign.signatures.tokens import issue_confirm_token
from undersign.transaction import unit_of_work


def _confirm_some(n: int) -> int:
    petition = make_petition()
    campaign = petition.campaign
    for i in range(n):
        signature = service.sign(campaign, service.attributed_sponsorship(campaign, None),
                                 SignatureInput(f"Signer {i}", f"signer{i}@example.org", "KR"))
        assert signature is not None
        service.confirm(campaign, issue_confirm_token(signature))
    return campaign.id


def test_the_migration_sets_log_size_from_the_entries_already_logged(tmp_path, smtp_server):  # type: ignore[no-untyped-def]
    from undersign import create_app
    from undersign.extensions import db

    url, cleanup = new_database_url(tmp_path)
    try:
        app = create_app(app_config(url, smtp_server, tmp_path / "instance"))
        with app.app_context():
            config = app.extensions["migrate"].migrate.get_config()
            command.upgrade(config, "head")
            with unit_of_work():
                campaign_id = _confirm_some(3)
            db.session.remove()
            command.downgrade(config, "c5a8e3f2d716")  # the log as it was kept before log_size
            command.upgrade(config, "head")
            assert db.session.scalar(select(Campaign.log_size).where(Campaign.id == campaign_id)) == 3
            db.session.remove()
            db.engine.dispose()
    finally:
        cleanup()


def test_backfill_puts_log_size_right_again(app, committed_db):  # type: ignore[no-untyped-def]
    from undersign.extensions import db

    with unit_of_work():
        campaign_id = _confirm_some(2)
        slug = db.session.get(Campaign, campaign_id).slug
    with unit_of_work():  # as if a web process on the old code had appended without moving it
        db.session.execute(update(Campaign).where(Campaign.id == campaign_id).values(log_size=1))
    runner = app.test_cli_runner()
    checked = runner.invoke(args=["log", "check", "--slug", slug])
    assert checked.exit_code == 1 and "says its log holds 1 entries, it holds 2" in checked.output
    assert runner.invoke(args=["log", "backfill"]).exit_code == 0
    checked = runner.invoke(args=["log", "check", "--slug", slug])
    assert checked.exit_code == 0, checked.output
    db.session.remove()
