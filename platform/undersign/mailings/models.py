from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from undersign.campaigns.models import Update
from undersign.db import Model, one_of, utcnow


class MailingStatus(str, enum.Enum):
    WRITING = "writing"  # asked for; the job has not yet written every supporter's message to the outbox
    WRITTEN = "written"  # every message is in the outbox; delivering them is the outbox's business


class Mailing(Model):
    """One update e-mailed to the supporters of the organization that posted it: at most once per update.

    The title and text are taken when sending is asked for, so an edit made
    while the job runs cannot give two supporters two different messages.
    """

    __tablename__ = "update_mailings"
    __table_args__ = (
        CheckConstraint(one_of("status", MailingStatus), name="status_known"),
        CheckConstraint("planned >= 0", name="planned_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique: the database itself refuses a second mailing of the same update.
    update_id: Mapped[int] = mapped_column(ForeignKey("updates.id", ondelete="CASCADE"), unique=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=MailingStatus.WRITING.value)
    # How many supporters it was going to reach when sending was asked for.
    planned: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]

    update: Mapped[Update] = relationship()


class MailingRecipient(Model):
    """A signature a mailing's message was written to the outbox for, in the same transaction as that message.

    The unique pair is what makes the job resumable: a run after a crash skips
    every signature that already has a row, and two runs at once cannot both
    write one.
    """

    __tablename__ = "update_mailing_recipients"
    __table_args__ = (UniqueConstraint("mailing_id", "signature_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mailing_id: Mapped[int] = mapped_column(ForeignKey("update_mailings.id", ondelete="CASCADE"))
    signature_id: Mapped[int] = mapped_column(ForeignKey("signatures.id", ondelete="CASCADE"), index=True)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("mail_outbox.id", ondelete="SET NULL"), index=True)
