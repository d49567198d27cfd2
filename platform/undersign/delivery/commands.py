"""``flask delivery-packet SLUG OUT.pdf``: the same packet the lead downloads in the console."""

from __future__ import annotations

import click
from sqlalchemy import select

from undersign.campaigns.models import Campaign
from undersign.db import db
from undersign.delivery.packet import render_packet


@click.command("delivery-packet")
@click.argument("slug")
@click.argument("out", type=click.Path(dir_okay=False, writable=True))
def delivery_packet_command(slug: str, out: str) -> None:
    """Write the delivery packet (PDF) of the petition SLUG to OUT."""
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == slug))
    if campaign is None:
        raise click.ClickException(f"No campaign with the slug {slug!r}.")
    data = render_packet(campaign)
    db.session.rollback()
    with open(out, "wb") as file:
        file.write(data)
    click.echo(f"{out}: {len(data):,} bytes, {campaign.signature_count:,} supporters.")
