"""Campaign rules: drafting, the lifecycle, co-sponsorship, revisions and updates.

Functions take the acting user and the acting organization explicitly, flush
but never commit, and raise `undersign.errors`. The organization is the one
whose console the request came through; a campaign is always reached through
that organization's sponsorship (`sponsorship_of`), so an action checked
against one organization cannot touch another's petition (STYLE 9).

Who may act is decided in two layers: the member's role in the organization
(the ``@member(Permission.X)`` guard on each view) and the organization's part
in the campaign, checked here: only the lead changes the petition's content,
status and sponsors; any accepted sponsor posts updates and reads figures and
history; an invited organization sees only the invitation.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable
from typing import IO, Any, TypeVar

from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from undersign.accounts.models import User
from undersign.campaigns.models import (
    Campaign,
    CampaignRevision,
    CampaignStatus,
    SponsorRole,
    Sponsorship,
    SponsorshipStatus,
    Update,
)
from undersign.db import is_row_id, utcnow
from undersign.errors import Conflict, DomainError, InvalidFields, InvalidInput, NotFound, PermissionDenied
from undersign.extensions import db
from undersign.moderation.service import record
from undersign.organizations.models import Image, Membership, Organization, OrgStatus, Role
from undersign.text import LINE_BREAKS_AND_TABS, has_control_characters, is_slug_shaped, slugify

TITLE_MAX = 200
SLUG_MAX = 80
SLUG_BASE_MAX = 60  # a slug made from the title; room for a "-2", "-3", ... suffix inside SLUG_MAX
SUMMARY_MAX = 280
BODY_MAX = 20_000
DEMANDS_MAX = 20
DEMAND_TITLE_MAX = 200
DEMAND_TEXT_MAX = 2_000
CTA_MAX = 10
CTA_LABEL_MAX = 100
CTA_URL_MAX = 500
GOAL_MAX = 100_000_000
CLOSING_HORIZON_YEARS = 10

# A new slug: lower-case words joined by single hyphens (an existing one may be looser, see `is_slug_shaped`).
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Words that name pages rather than petitions, now or later (/p/new, /p/<slug>/embed, ...).
RESERVED_SLUGS = frozenset({
    "about", "account", "admin", "api", "campaign", "campaigns", "confirm", "console", "delete", "edit", "embed",
    "help", "images", "json", "login", "logout", "new", "o", "org", "orgs", "p", "petition", "petitions",
    "preview", "reset", "search", "settings", "sign", "signup", "static", "undersign", "withdraw",
})
HANDLE_RE = re.compile(r"^[A-Za-z0-9_]{1,50}$")
HASHTAG_RE = re.compile(r"^\w{1,99}$")

T = TypeVar("T")

_EDITABLE = {CampaignStatus.DRAFT.value, CampaignStatus.PUBLISHED.value, CampaignStatus.CLOSED.value,
             CampaignStatus.VICTORY.value}
_INVITABLE = {CampaignStatus.DRAFT.value, CampaignStatus.PUBLISHED.value}


@dataclasses.dataclass(frozen=True)
class Demand:
    title: str
    text: str = ""


@dataclasses.dataclass(frozen=True)
class CallToAction:
    label: str
    url: str


@dataclasses.dataclass(frozen=True)
class CampaignDraft:
    """What the drafting form says about a petition (shape already checked)."""

    title: str
    slug: str = ""
    summary: str = ""
    body: str = ""
    decision_maker: str = ""
    decision_maker_handle: str = ""
    demands: tuple[Demand, ...] = ()
    hashtag: str = ""
    social_handle: str = ""
    calls_to_action: tuple[CallToAction, ...] = ()
    goal: int | None = None
    closes_on: dt.date | None = None


# --- Reaching a campaign through an organization -------------------------------------------------


def sponsorship_of(org: Organization, slug: str) -> Sponsorship | None:
    """``org``'s sponsorship of the campaign ``slug`` (any status), or None.

    The only way the console reaches a campaign: a campaign with no sponsorship
    row for ``org`` does not exist as far as ``org`` is concerned.
    """
    if not is_slug_shaped(slug):
        return None  # cannot name a row; odd bytes (NUL) never reach the database
    return db.session.scalar(
        select(Sponsorship)
        .join(Campaign, Sponsorship.campaign_id == Campaign.id)
        .where(Sponsorship.organization_id == org.id, Campaign.slug == slug)
    )


def _own_sponsorship(org: Organization, campaign: Campaign) -> Sponsorship:
    for sponsorship in campaign.sponsorships:
        if sponsorship.organization_id == org.id:
            return sponsorship
    raise NotFound("There is no such petition.")


def is_lead(org: Organization, campaign: Campaign) -> bool:
    return campaign.lead_organization_id == org.id


def require_lead(org: Organization, campaign: Campaign) -> None:
    """:raise PermissionDenied: ``org`` co-sponsors the campaign but does not lead it."""
    if not is_lead(org, campaign):
        raise PermissionDenied(
            f"Only {campaign.lead_organization.name}, the organization that leads this petition, can change it."
        )


def _require_accepted(org: Organization, campaign: Campaign) -> Sponsorship:
    sponsorship = _own_sponsorship(org, campaign)
    if sponsorship.status != SponsorshipStatus.ACCEPTED.value:
        raise NotFound("There is no such petition.")
    return sponsorship


def campaigns_of(org: Organization) -> list[Sponsorship]:
    """``org``'s accepted sponsorships (as lead and as co-sponsor), newest campaign first."""
    return list(db.session.scalars(
        select(Sponsorship)
        .join(Campaign, Sponsorship.campaign_id == Campaign.id)
        .where(Sponsorship.organization_id == org.id, Sponsorship.status == SponsorshipStatus.ACCEPTED.value)
        .order_by(Campaign.created_at.desc(), Campaign.id.desc())
    ))


def invitations_for(org: Organization) -> list[Sponsorship]:
    """Invitations to co-sponsor that ``org`` has not answered yet, oldest first."""
    return list(db.session.scalars(
        select(Sponsorship)
        .where(Sponsorship.organization_id == org.id, Sponsorship.status == SponsorshipStatus.INVITED.value)
        .order_by(Sponsorship.invited_at, Sponsorship.id)
    ))


# --- Drafting -------------------------------------------------------------------------------------


def _slug_taken(slug: str, except_id: int | None = None) -> bool:
    query = select(Campaign.id).where(Campaign.slug == slug)
    if except_id is not None:
        query = query.where(Campaign.id != except_id)
    return db.session.scalar(select(exists(query))) or False


def _check_slug(slug: str) -> None:
    """:raise InvalidInput: malformed or reserved slug."""
    if len(slug) > SLUG_MAX:
        raise InvalidInput(f"Use at most {SLUG_MAX} characters.", field="slug")
    if not SLUG_RE.match(slug):
        raise InvalidInput("Use lower-case letters a–z, digits and single hyphens between them.", field="slug")
    if slug in RESERVED_SLUGS:
        raise InvalidInput(f"“{slug}” is reserved for the site's own pages. Choose another address.", field="slug")


def _free_slug_from(title: str) -> str:
    """A free slug derived from the title, numbered if the plain one is taken."""
    base = slugify(title, SLUG_BASE_MAX)
    if not base or base in RESERVED_SLUGS:
        base = f"petition-{base}".strip("-") if base else "petition"
    candidate, n = base, 1
    while _slug_taken(candidate):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _refuse_control_characters(value: str, field: str) -> None:
    """The forms refuse control characters (NUL among them: PostgreSQL cannot store it in text) and
    bidi overrides; this guards the other callers (API, CLI). Line breaks and tabs are fine here."""
    if has_control_characters(value, allow=LINE_BREAKS_AND_TABS):
        raise InvalidInput("Remove the invisible control characters from this text.", field=field)


def _handle(raw: str, field: str) -> str | None:
    value = raw.strip().lstrip("@").strip()
    if not value:
        return None
    if not HANDLE_RE.match(value):
        raise InvalidInput("A handle has letters, digits and underscores only, like @Refugees.", field=field)
    return value


def _hashtag(raw: str) -> str | None:
    value = raw.strip().lstrip("#").strip()
    if not value:
        return None
    if not HASHTAG_RE.match(value) or value.isdigit():
        raise InvalidInput("A hashtag is one word of letters, digits and underscores, like #EscapeNorthKorea.",
                           field="hashtag")
    return value


def _closing_time(day: dt.date) -> dt.datetime:
    """A closing date means the end of that day, UTC."""
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=dt.timezone.utc)


def _check_closing(day: dt.date, now: dt.datetime) -> dt.datetime:
    if day.year > now.year + CLOSING_HORIZON_YEARS:
        raise InvalidInput(f"Choose a closing date within the next {CLOSING_HORIZON_YEARS} years.", field="closes_on")
    closes_at = _closing_time(day)
    if closes_at <= now:
        raise InvalidInput("Choose a closing date in the future, or leave it empty.", field="closes_on")
    return closes_at


class _Problems(list[DomainError]):
    """The broken rules of one draft, collected so that the form can show them all at once."""

    def add(self, problem: DomainError) -> None:
        """Note ``problem``; a field keeps its first problem only (one message a field is enough)."""
        if problem.field is None or problem.field not in {p.field for p in self}:
            self.append(problem)

    def check(self, rule: Callable[[], T], fallback: T) -> T:
        """``rule()``, or ``fallback`` after noting the `InvalidInput` it raised."""
        try:
            return rule()
        except InvalidInput as exc:
            self.add(exc)
            return fallback

    def refuse(self, message: str, field: str) -> None:
        self.add(InvalidInput(message, field=field))

    def raise_all(self) -> None:
        """:raise DomainError: the only problem as it is (a taken slug stays a `Conflict`).
        :raise InvalidFields: several problems."""
        if len(self) == 1:
            raise self[0]
        if self:
            raise InvalidFields(list(self))


def _clean(draft: CampaignDraft, problems: _Problems) -> dict[str, Any]:
    """The columns a draft sets, normalized; the rules that are not about shape, each broken one
    noted in ``problems`` (naming its field) rather than stopping at the first."""
    title = draft.title.strip()
    if not title:
        problems.refuse("Give the petition a title.", "title")
    texts = {
        "title": title, "slug": draft.slug, "summary": draft.summary, "body": draft.body,
        "decision_maker": draft.decision_maker, "decision_maker_handle": draft.decision_maker_handle,
        "hashtag": draft.hashtag, "social_handle": draft.social_handle,
        "demands": " ".join(d.title + d.text for d in draft.demands),
        "calls_to_action": " ".join(a.label + a.url for a in draft.calls_to_action),
    }
    for field, value in texts.items():
        problems.check(lambda value=value, field=field: _refuse_control_characters(value, field), None)
    for value, limit, field in (
        (title, TITLE_MAX, "title"), (draft.summary, SUMMARY_MAX, "summary"), (draft.body, BODY_MAX, "body"),
        (draft.decision_maker, 200, "decision_maker"),
    ):
        if len(value) > limit:
            problems.refuse(f"Use at most {limit:,} characters.", field)
    if len(draft.demands) > DEMANDS_MAX:
        problems.refuse(f"Keep it to at most {DEMANDS_MAX} demands.", "demands")
    if any(not d.title.strip() or len(d.title) > DEMAND_TITLE_MAX or len(d.text) > DEMAND_TEXT_MAX
           for d in draft.demands):
        problems.refuse("Every demand needs a heading of at most 200 characters.", "demands")
    if len(draft.calls_to_action) > CTA_MAX:
        problems.refuse(f"Keep it to at most {CTA_MAX} calls to action.", "calls_to_action")
    if any(not a.url.lower().startswith(("http://", "https://")) for a in draft.calls_to_action):
        problems.refuse("Calls to action link to http:// or https:// addresses only.", "calls_to_action")
    if draft.goal is not None and not 1 <= draft.goal <= GOAL_MAX:
        problems.refuse(f"Choose a goal between 1 and {GOAL_MAX:,}.", "goal")
    decision_maker = draft.decision_maker.strip()
    return {
        "title": title,
        "summary": draft.summary.strip(),
        "body": draft.body.strip(),
        "decision_maker": decision_maker,
        "decision_maker_handle": problems.check(
            lambda: _handle(draft.decision_maker_handle, "decision_maker_handle"), None),
        "demands": [{"title": d.title.strip(), "text": d.text.strip()} for d in draft.demands],
        "hashtag": problems.check(lambda: _hashtag(draft.hashtag), None),
        "social_handle": problems.check(lambda: _handle(draft.social_handle, "social_handle"), None),
        "calls_to_action": [{"label": a.label.strip(), "url": a.url.strip()} for a in draft.calls_to_action],
        "goal": draft.goal,
    }


@dataclasses.dataclass(frozen=True)
class _Checked:
    values: dict[str, Any]
    slug: str
    closes_at: dt.datetime | None
    problems: _Problems


def _well_formed_slug(slug: str, problems: _Problems) -> bool:
    """Whether ``slug`` may name a petition; if not, the reason is noted. Only such a slug is looked
    up in the database (NUL, for one, cannot even be sent to PostgreSQL)."""
    try:
        _check_slug(slug)
    except InvalidInput as exc:
        problems.add(exc)
        return False
    return True


def _check_draft(draft: CampaignDraft, campaign: Campaign | None, now: dt.datetime) -> _Checked:
    """Every rule a draft must meet to create (``campaign`` None) or to change ``campaign``, all at once."""
    problems = _Problems()
    values = _clean(draft, problems)
    typed = draft.slug.strip().lower()
    if campaign is None:
        slug = typed
        if typed:
            if _well_formed_slug(typed, problems) and _slug_taken(typed):
                problems.add(Conflict(f"The address “{typed}” is already used by another petition.", field="slug"))
        else:
            slug = _free_slug_from(values["title"])
        closes_at = problems.check(lambda: _check_closing(draft.closes_on, now), None) if draft.closes_on else None
        return _Checked(values, slug, closes_at, problems)
    slug = typed or campaign.slug
    if slug != campaign.slug:
        if campaign.status != CampaignStatus.DRAFT.value:
            problems.refuse("The address cannot change once the petition is published: links to it are out there.",
                            "slug")
        elif _well_formed_slug(slug, problems) and _slug_taken(slug, except_id=campaign.id):
            problems.add(Conflict(f"The address “{slug}” is already used by another petition.", field="slug"))
    closes_at = campaign.closes_at
    if draft.closes_on is None:
        closes_at = None
    elif campaign.closes_at is None or draft.closes_on != campaign.closes_at.date():
        closes_at = problems.check(lambda: _check_closing(draft.closes_on, now), campaign.closes_at)
    return _Checked(values, slug, closes_at, problems)


def draft_problems(org: Organization, draft: CampaignDraft, campaign: Campaign | None = None,
                   now: dt.datetime | None = None) -> list[DomainError]:
    """Every rule ``draft`` breaks, each naming its field, without writing anything.

    The console shows these next to the form's own shape errors, so an invalid
    save lists all its problems at once instead of one per attempt.
    """
    return list(_check_draft(draft, campaign, now or utcnow()).problems)


def _store_image(stream: IO[bytes]) -> Any:
    from flask import current_app

    from undersign.organizations.images import store_image

    return store_image(stream, max_bytes=current_app.config["IMAGE_MAX_BYTES"], field="image")


def store_campaign_image(stream: IO[bytes]) -> Image:
    """Store a chosen picture before the rest of the form is accepted, so that an invalid save does not
    make the person choose the file again (`image_ref` carries it to the next try).

    :raise InvalidInput: ``field="image"``: not a JPEG, PNG or WebP we can read, or too large.
    """
    return _store_image(stream)


# A stored picture waiting for its petition is carried by the form for a day at most.
IMAGE_REF_MAX_AGE = 24 * 3600


def _image_refs() -> URLSafeTimedSerializer:
    from flask import current_app

    return URLSafeTimedSerializer(current_app.secret_key or "", salt="undersign.campaigns.image-ref")


def image_ref(org: Organization, picture: Image) -> str:
    """A signed reference to ``picture`` that only ``org``'s console accepts back (`image_from_ref`)."""
    return _image_refs().dumps({"image": picture.id, "org": org.id})


def image_from_ref(org: Organization, ref: str | None) -> Image | None:
    """The picture ``ref`` names, if it was made by `image_ref` for ``org`` within a day; else None
    (a forged, expired or foreign reference is ignored: the form then simply has no image)."""
    try:
        data = _image_refs().loads(ref or "", max_age=IMAGE_REF_MAX_AGE)
    except BadData:
        return None
    if not isinstance(data, dict) or data.get("org") != org.id:
        return None
    image_id = data.get("image")
    if not isinstance(image_id, int) or not is_row_id(image_id):
        return None
    return db.session.get(Image, image_id)


def _image_used_elsewhere(image_id: int, campaign_id: int) -> bool:
    """Whether a replaced picture is still someone's logo or another petition's image (then it stays)."""
    other_campaign = select(Campaign.id).where(Campaign.image_id == image_id, Campaign.id != campaign_id)
    logo = select(Organization.id).where(Organization.logo_id == image_id)
    return bool(db.session.scalar(select(exists(other_campaign))) or db.session.scalar(select(exists(logo))))


def _flush_unique_slug(slug: str) -> None:
    """Flush, turning a slug taken by a concurrent request into a form error."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:
        raise Conflict(f"The address “{slug}” is already used by another petition.", field="slug") from exc


def create_campaign(actor: User, org: Organization, draft: CampaignDraft, *, image: IO[bytes] | None = None,
                    picture: Image | None = None, now: dt.datetime | None = None) -> Campaign:
    """A new draft led by ``org``, with its lead sponsorship (accepted).

    Any organization may draft, approved or not; publishing needs approval.
    ``image`` is an upload to store; ``picture`` one stored already (`store_campaign_image`).

    :raise InvalidFields: the rules of `_clean`, a bad or taken slug, a past closing date, all at once.
    :raise InvalidInput: an unreadable image.
    :raise Conflict: the chosen slug was taken meanwhile.
    """
    now = now or utcnow()
    checked = _check_draft(draft, None, now)
    checked.problems.raise_all()
    values, slug, closes_at = checked.values, checked.slug, checked.closes_at
    if image is not None:
        picture = _store_image(image)

    campaign = Campaign(
        slug=slug, lead_organization=org, status=CampaignStatus.DRAFT.value, closes_at=closes_at,
        image=picture, created_by_id=actor.id, changed_at=now, created_at=now, signature_count=0, **values,
    )
    lead = Sponsorship(
        campaign=campaign, organization=org, role=SponsorRole.LEAD.value, status=SponsorshipStatus.ACCEPTED.value,
        invited_by_id=actor.id, invited_at=now, accepted_at=now, signature_count=0,
    )
    db.session.add(campaign)
    _flush_unique_slug(slug)
    record(actor, "campaign.created", campaign, organization_id=org.id, details={"slug": slug, "title": campaign.title})
    record(actor, "sponsorship.created", lead, organization_id=org.id,
           details={"campaign": slug, "role": SponsorRole.LEAD.value})
    return campaign


def edit_campaign(actor: User, org: Organization, campaign: Campaign, draft: CampaignDraft, *,
                  image: IO[bytes] | None = None, picture: Image | None = None, remove_image: bool = False,
                  now: dt.datetime | None = None) -> CampaignRevision | None:
    """Change a petition's content; returns the revision kept, if any.

    Once anyone has signed, the title, text and demands as they stood before the
    edit are kept as a `CampaignRevision`: supporters signed that text, and every
    sponsor can read how it changed. The slug is fixed once published, since
    links and QR codes already point at it. A blank slug keeps the current one.
    ``image`` is an upload to store; ``picture`` one stored already (`store_campaign_image`).

    :raise PermissionDenied: ``org`` does not lead the campaign.
    :raise InvalidFields: as `create_campaign`, or a slug change after publication, all at once.
    :raise InvalidInput: an unreadable image.
    :raise Conflict: the chosen slug was taken meanwhile.
    """
    require_lead(org, campaign)
    now = now or utcnow()
    checked = _check_draft(draft, campaign, now)
    checked.problems.raise_all()
    values, slug, closes_at = checked.values, checked.slug, checked.closes_at
    if image is not None:
        picture = _store_image(image)

    revision = None
    text_changed = (values["title"], values["body"], values["demands"]) != (campaign.title, campaign.body,
                                                                            list(campaign.demands or []))
    if campaign.signature_count > 0 and text_changed:
        revision = CampaignRevision(
            campaign_id=campaign.id, title=campaign.title, body=campaign.body, demands=list(campaign.demands or []),
            edited_by_id=actor.id, signature_count_at_edit=campaign.signature_count, created_at=now,
        )
        db.session.add(revision)

    old_image = campaign.image
    if picture is not None:
        campaign.image = picture
    elif remove_image:
        campaign.image = None
    if old_image is not None and campaign.image is not old_image and not _image_used_elsewhere(old_image.id, campaign.id):
        db.session.delete(old_image)
    for name, value in values.items():
        setattr(campaign, name, value)
    campaign.slug = slug
    campaign.closes_at = closes_at
    campaign.changed_at = now
    _flush_unique_slug(slug)
    record(actor, "campaign.edited", campaign, organization_id=org.id,
           details={"revision": revision.id if revision is not None else None, "text_changed": text_changed})
    return revision


def revisions_of(campaign: Campaign) -> list[CampaignRevision]:
    """The kept versions of the text, newest first."""
    return list(db.session.scalars(
        select(CampaignRevision).where(CampaignRevision.campaign_id == campaign.id)
        .order_by(CampaignRevision.created_at.desc(), CampaignRevision.id.desc())
    ))


def revision_of(campaign: Campaign, revision_id: int) -> CampaignRevision:
    """:raise NotFound: no such revision of this campaign."""
    revision = db.session.get(CampaignRevision, revision_id) if is_row_id(revision_id) else None
    if revision is None or revision.campaign_id != campaign.id:
        raise NotFound("There is no such version of this petition.")
    return revision


# --- Lifecycle ------------------------------------------------------------------------------------


def _publishing_refusal(org: Organization) -> str | None:
    """Why ``org`` may not publish or invite, in words for its staff; None if it may."""
    if org.status == OrgStatus.APPROVED.value:
        return None
    if org.status == OrgStatus.PENDING.value:
        return (f"{org.name} is waiting for approval by the platform's administrators. You can prepare drafts "
                "meanwhile; publishing and co-sponsoring open once the organization is approved.")
    reason = f" Reason given: {org.status_reason}" if org.status_reason else ""
    if org.status == OrgStatus.SUSPENDED.value:
        return f"{org.name} is suspended, so it cannot publish or co-sponsor petitions.{reason}"
    return f"{org.name}'s registration was not approved, so it cannot publish or co-sponsor petitions.{reason}"


def publishing_refusal(org: Organization) -> str | None:
    """For templates: the message shown instead of the publish button, if any."""
    return _publishing_refusal(org)


def _set_status(actor: User | None, campaign: Campaign, status: CampaignStatus, now: dt.datetime,
                **details: Any) -> None:
    previous = campaign.status
    campaign.status = status.value
    campaign.changed_at = now
    db.session.flush()
    record(actor, f"campaign.{status.value}", campaign, organization_id=campaign.lead_organization_id,
           details={"from": previous, **details})


def publish_campaign(actor: User, org: Organization, campaign: Campaign, now: dt.datetime | None = None) -> None:
    """draft → published.

    :raise PermissionDenied: ``org`` does not lead the campaign.
    :raise InvalidInput: ``org`` is not approved, the campaign is not a draft, was taken down,
        has no text, or its closing date has passed.
    """
    require_lead(org, campaign)
    now = now or utcnow()
    refusal = _publishing_refusal(org)
    if refusal:
        raise InvalidInput(refusal)
    if campaign.status != CampaignStatus.DRAFT.value:
        raise InvalidInput("Only a draft can be published; this petition already was.")
    if campaign.taken_down_at is not None:
        raise InvalidInput("This petition was taken down by the platform's moderators and cannot be published.")
    if not campaign.body.strip():
        raise InvalidInput("Write the petition's text before publishing it.")
    if campaign.closes_at is not None and campaign.closes_at <= now:
        raise InvalidInput("The closing date has passed. Choose a later one or remove it, then publish.")
    campaign.published_at = now
    _set_status(actor, campaign, CampaignStatus.PUBLISHED, now)


def close_campaign(actor: User, org: Organization, campaign: Campaign, now: dt.datetime | None = None) -> None:
    """published → closed: no more signatures; the page says how many signed.

    :raise PermissionDenied: ``org`` does not lead the campaign.
    :raise InvalidInput: the campaign is not published.
    """
    require_lead(org, campaign)
    if campaign.status != CampaignStatus.PUBLISHED.value:
        raise InvalidInput("Only a published petition can be closed.")
    _set_status(actor, campaign, CampaignStatus.CLOSED, now or utcnow())


def declare_victory(actor: User, org: Organization, campaign: Campaign, now: dt.datetime | None = None) -> None:
    """published or closed → victory: the demands were met.

    :raise PermissionDenied: ``org`` does not lead the campaign.
    :raise InvalidInput: the campaign is a draft or already a victory.
    """
    require_lead(org, campaign)
    if campaign.status not in {CampaignStatus.PUBLISHED.value, CampaignStatus.CLOSED.value}:
        raise InvalidInput("Only a published or closed petition can be declared a victory.")
    _set_status(actor, campaign, CampaignStatus.VICTORY, now or utcnow())


def close_expired_campaigns(now: dt.datetime) -> int:
    """Write ``closed`` on every published campaign whose closing date has passed; returns how many.

    Readers already see such a petition as closed (`Campaign.public_status`);
    this makes the stored status agree, for listings and reports. Safe to run
    from several machines: on PostgreSQL rows are claimed with SKIP LOCKED.
    """
    query = select(Campaign).where(
        Campaign.status == CampaignStatus.PUBLISHED.value,
        Campaign.closes_at.is_not(None),
        Campaign.closes_at <= now,
    ).order_by(Campaign.id)
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    campaigns = list(db.session.scalars(query))
    for campaign in campaigns:
        _set_status(None, campaign, CampaignStatus.CLOSED, now, reason="closing date reached")
    return len(campaigns)


# --- Co-sponsorship -------------------------------------------------------------------------------


def approved_organizations(excluding: Campaign) -> list[Organization]:
    """Organizations that could be invited to co-sponsor ``excluding`` (for the form's suggestions)."""
    current = select(Sponsorship.organization_id).where(
        Sponsorship.campaign_id == excluding.id,
        Sponsorship.status.in_([SponsorshipStatus.INVITED.value, SponsorshipStatus.ACCEPTED.value]),
    )
    return list(db.session.scalars(
        select(Organization)
        .where(Organization.status == OrgStatus.APPROVED.value, Organization.id.not_in(current))
        .order_by(Organization.name).limit(500)
    ))


def _admins_of(org: Organization) -> list[User]:
    return list(db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.organization_id == org.id, Membership.role.in_([Role.OWNER.value, Role.ADMIN.value]))
        .order_by(User.id)
    ))


def invite_sponsor(actor: User, org: Organization, campaign: Campaign, invitee_slug: str,
                   now: dt.datetime | None = None) -> Sponsorship:
    """Invite the approved organization ``invitee_slug`` to co-sponsor, and e-mail its admins and owners.

    An organization that declined, withdrew or was removed may be invited again.

    :raise PermissionDenied: ``org`` does not lead the campaign.
    :raise InvalidInput: ``org`` is not approved; the campaign is closed; no approved organization
        has that address (unapproved ones are not told apart, so the form reveals nothing about them);
        the invitee is the lead.
    :raise Conflict: already invited or co-sponsoring.
    """
    from undersign.accounts.service import absolute_url
    from undersign.mail import queue_mail

    require_lead(org, campaign)
    now = now or utcnow()
    refusal = _publishing_refusal(org)
    if refusal:
        raise InvalidInput(refusal, field="organization")
    if campaign.status not in _INVITABLE:
        raise InvalidInput("A closed petition takes no new co-sponsors.", field="organization")
    slug = invitee_slug.strip().lower()
    invitee = (db.session.scalar(select(Organization).where(Organization.slug == slug))
               if is_slug_shaped(slug) else None)
    if invitee is None or invitee.status != OrgStatus.APPROVED.value:
        raise InvalidInput(f"No approved organization has the address “{slug}”. Only approved organizations "
                           "can co-sponsor; check the spelling.", field="organization")
    if invitee.id == org.id:
        raise InvalidInput("Your organization already leads this petition.", field="organization")
    sponsorship = db.session.scalar(
        select(Sponsorship).where(Sponsorship.campaign_id == campaign.id, Sponsorship.organization_id == invitee.id)
    )
    if sponsorship is not None and sponsorship.status == SponsorshipStatus.ACCEPTED.value:
        raise Conflict(f"{invitee.name} already co-sponsors this petition.", field="organization")
    if sponsorship is not None and sponsorship.status == SponsorshipStatus.INVITED.value:
        raise Conflict(f"{invitee.name} is already invited and has not answered yet.", field="organization")
    if sponsorship is None:
        sponsorship = Sponsorship(campaign=campaign, organization=invitee, role=SponsorRole.CO_SPONSOR.value,
                                  signature_count=0)
        db.session.add(sponsorship)
    previous = sponsorship.status
    sponsorship.status = SponsorshipStatus.INVITED.value
    sponsorship.invited_by_id = actor.id
    sponsorship.invited_at = now
    sponsorship.accepted_at = None
    sponsorship.ended_at = None
    db.session.flush()
    record(actor, "sponsorship.invited", sponsorship, organization_id=org.id,
           details={"campaign": campaign.slug, "invitee": invitee.slug, "previous": previous})
    link = absolute_url("campaigns.detail", org=invitee.slug, slug=campaign.slug)
    for admin in _admins_of(invitee):
        queue_mail(admin.email, f"{org.name} invites {invitee.name} to co-sponsor a petition", "campaigns/invitation",
                   person=admin, lead=org, invitee=invitee, campaign=campaign, inviter=actor, link=link)
    return sponsorship


def _invitation(org: Organization, campaign: Campaign) -> Sponsorship:
    sponsorship = _own_sponsorship(org, campaign)
    if sponsorship.status != SponsorshipStatus.INVITED.value:
        raise InvalidInput("This invitation was already answered or withdrawn.")
    return sponsorship


def accept_invitation(actor: User, org: Organization, campaign: Campaign, now: dt.datetime | None = None) -> Sponsorship:
    """``org`` becomes a co-sponsor: listed on the page, with its own hosted page and share of the count.

    :raise NotFound: ``org`` was not invited.
    :raise InvalidInput: ``org`` is not (or no longer) approved; the invitation is no longer open.
    """
    now = now or utcnow()
    sponsorship = _invitation(org, campaign)
    refusal = _publishing_refusal(org)
    if refusal:
        raise InvalidInput(refusal)
    sponsorship.status = SponsorshipStatus.ACCEPTED.value
    sponsorship.accepted_at = now
    campaign.changed_at = now
    db.session.flush()
    record(actor, "sponsorship.accepted", sponsorship, organization_id=org.id, details={"campaign": campaign.slug})
    return sponsorship


def decline_invitation(actor: User, org: Organization, campaign: Campaign, now: dt.datetime | None = None) -> Sponsorship:
    """:raise NotFound: ``org`` was not invited. :raise InvalidInput: the invitation is no longer open."""
    sponsorship = _invitation(org, campaign)
    sponsorship.status = SponsorshipStatus.DECLINED.value
    sponsorship.ended_at = now or utcnow()
    db.session.flush()
    record(actor, "sponsorship.declined", sponsorship, organization_id=org.id, details={"campaign": campaign.slug})
    return sponsorship


def withdraw_sponsorship(actor: User, org: Organization, campaign: Campaign,
                         now: dt.datetime | None = None) -> Sponsorship:
    """A co-sponsor leaves. The signatures it brought stay in the shared count and in its own figure.

    :raise InvalidInput: ``org`` leads the campaign (the lead cannot leave its own petition).
    :raise NotFound: ``org`` is not an accepted sponsor.
    """
    now = now or utcnow()
    sponsorship = _require_accepted(org, campaign)
    if sponsorship.role == SponsorRole.LEAD.value:
        raise InvalidInput("The lead organization cannot withdraw from its own petition; it can close it instead.")
    sponsorship.status = SponsorshipStatus.WITHDRAWN.value
    sponsorship.ended_at = now
    campaign.changed_at = now
    db.session.flush()
    record(actor, "sponsorship.withdrawn", sponsorship, organization_id=org.id,
           details={"campaign": campaign.slug, "signatures_kept": sponsorship.signature_count})
    return sponsorship


def sponsorship_in(campaign: Campaign, sponsorship_id: int) -> Sponsorship:
    """:raise NotFound: no sponsorship of that id belongs to this campaign."""
    for sponsorship in campaign.sponsorships:
        if sponsorship.id == sponsorship_id:
            return sponsorship
    raise NotFound("That organization does not sponsor this petition.")


def remove_sponsor(actor: User, org: Organization, campaign: Campaign, sponsorship_id: int,
                   now: dt.datetime | None = None) -> Sponsorship:
    """The lead ends a co-sponsorship, or cancels an unanswered invitation. Signatures stay counted.

    :raise PermissionDenied: ``org`` does not lead the campaign.
    :raise NotFound: no such sponsorship on this campaign.
    :raise InvalidInput: it is the lead's own sponsorship, or already ended.
    """
    require_lead(org, campaign)
    now = now or utcnow()
    sponsorship = sponsorship_in(campaign, sponsorship_id)
    if sponsorship.role == SponsorRole.LEAD.value:
        raise InvalidInput("The lead organization cannot be removed.")
    if sponsorship.status not in {SponsorshipStatus.INVITED.value, SponsorshipStatus.ACCEPTED.value}:
        raise InvalidInput(f"{sponsorship.organization.name} no longer co-sponsors this petition.")
    previous = sponsorship.status
    sponsorship.status = SponsorshipStatus.REMOVED.value
    sponsorship.ended_at = now
    campaign.changed_at = now
    db.session.flush()
    record(actor, "sponsorship.removed", sponsorship, organization_id=org.id,
           details={"campaign": campaign.slug, "organization": sponsorship.organization.slug, "previous": previous})
    return sponsorship


# --- Updates --------------------------------------------------------------------------------------


def _check_update(title: str, body: str) -> tuple[str, str]:
    title, body = title.strip(), body.strip()
    _refuse_control_characters(title, "title")
    _refuse_control_characters(body, "body")
    if not title:
        raise InvalidInput("Give the update a title.", field="title")
    if len(title) > TITLE_MAX:
        raise InvalidInput(f"Use at most {TITLE_MAX} characters.", field="title")
    if not body:
        raise InvalidInput("Write the update.", field="body")
    if len(body) > BODY_MAX:
        raise InvalidInput(f"Use at most {BODY_MAX:,} characters.", field="body")
    return title, body


def updates_of(campaign: Campaign) -> list[Update]:
    """The campaign's updates, newest first."""
    return list(db.session.scalars(
        select(Update).where(Update.campaign_id == campaign.id).order_by(Update.created_at.desc(), Update.id.desc())
    ))


def post_update(actor: User, org: Organization, campaign: Campaign, title: str, body: str,
                now: dt.datetime | None = None) -> Update:
    """News from one of the sponsors, dated now.

    :raise NotFound: ``org`` is not an accepted sponsor.
    :raise InvalidInput: empty or too long.
    """
    _require_accepted(org, campaign)
    now = now or utcnow()
    title, body = _check_update(title, body)
    update = Update(campaign_id=campaign.id, organization_id=org.id, author_id=actor.id, title=title, body=body,
                    created_at=now)
    db.session.add(update)
    campaign.changed_at = now
    db.session.flush()
    record(actor, "update.posted", update, organization_id=org.id, details={"campaign": campaign.slug})
    return update


def update_of(campaign: Campaign, update_id: int) -> Update:
    """:raise NotFound: no such update on this campaign."""
    update = db.session.get(Update, update_id) if is_row_id(update_id) else None
    if update is None or update.campaign_id != campaign.id:
        raise NotFound("There is no such update.")
    return update


def _require_author_org(org: Organization, update: Update) -> None:
    if update.organization_id != org.id:
        raise PermissionDenied(f"This update was posted by {update.organization.name}; only they can change it.")


def edit_update(actor: User, org: Organization, campaign: Campaign, update_id: int, title: str, body: str,
                now: dt.datetime | None = None) -> Update:
    """:raise NotFound: no such update. :raise PermissionDenied: another sponsor posted it."""
    _require_accepted(org, campaign)
    update = update_of(campaign, update_id)
    _require_author_org(org, update)
    now = now or utcnow()
    update.title, update.body = _check_update(title, body)
    update.edited_at = now
    campaign.changed_at = now
    db.session.flush()
    record(actor, "update.edited", update, organization_id=org.id, details={"campaign": campaign.slug})
    return update


def delete_update(actor: User, org: Organization, campaign: Campaign, update_id: int,
                  now: dt.datetime | None = None) -> None:
    """:raise NotFound: no such update. :raise PermissionDenied: another sponsor posted it."""
    _require_accepted(org, campaign)
    update = update_of(campaign, update_id)
    _require_author_org(org, update)
    record(actor, "update.deleted", update, organization_id=org.id,
           details={"campaign": campaign.slug, "title": update.title})
    db.session.delete(update)
    campaign.changed_at = now or utcnow()
    db.session.flush()
