"""The shapes of API v1's requests and answers, as pydantic models: they validate, and they are the document.

`undersign.api.openapi` turns them into the OpenAPI 3.1 document (pydantic v2
writes JSON Schema 2020-12, OpenAPI 3.1's own dialect), so the document
cannot drift from what the code accepts and returns. Answers forbid fields
they do not declare (``additionalProperties: false``): a key added to a
resource without its model fails response validation, in tests.

The query models say their errors in our words (``PydanticCustomError``), which
the problem document shows with the field named.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

DEFAULT_PER_PAGE = 100
MAX_PER_PAGE = 500


def iso(moment: dt.datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``."""
    if moment is None:
        return None
    return moment.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")


def aware(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.timezone.utc) if moment.tzinfo is None else moment.astimezone(dt.timezone.utc)


@dataclass(frozen=True)
class Position:
    """Where a page of the signature stream starts: after (modified, signature id)."""

    modified: dt.datetime
    signature_id: int

    def encode(self) -> str:
        raw = json.dumps([iso(self.modified), self.signature_id], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor(value: Any) -> Position:
    """:raise PydanticCustomError: not a cursor this API handed out."""
    try:
        raw = base64.urlsafe_b64decode(str(value) + "=" * (-len(str(value)) % 4))
        moment, signature_id = json.loads(raw)
        return Position(aware(dt.datetime.fromisoformat(moment)), int(signature_id))
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise PydanticCustomError("cursor", "This cursor is not one the API handed out; start again without it.")


def _moment(value: Any) -> dt.datetime:
    """:raise PydanticCustomError: not an ISO 8601 date and time."""
    try:
        return aware(dt.datetime.fromisoformat(str(value).strip()))
    except ValueError:
        raise PydanticCustomError(
            "modified_since", "modified_since must be an ISO 8601 date and time, e.g. 2026-12-03T17:00:00Z.")


def _per_page(value: Any) -> int:
    """:raise PydanticCustomError: not a whole number from 1 to 500."""
    try:
        number = int(str(value))
    except ValueError:
        number = 0
    if not 1 <= number <= MAX_PER_PAGE:
        raise PydanticCustomError("per_page", f"per_page must be a whole number from 1 to {MAX_PER_PAGE}.")
    return number


Cursor = Annotated[Position | None, PlainValidator(_cursor), WithJsonSchema({
    "type": "string", "description": "Opaque: the `cursor` of a `_links.next` this API handed out."})]
Moment = Annotated[dt.datetime | None, PlainValidator(_moment), WithJsonSchema({
    "type": "string", "format": "date-time",
    "description": "Only changes after this time (ISO 8601), e.g. the latest `modified_date` you stored."})]
PerPage = Annotated[int, PlainValidator(_per_page), WithJsonSchema({
    "type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": DEFAULT_PER_PAGE,
    "description": f"How many signatures a page holds, 1 to {MAX_PER_PAGE}."})]


def _without_null_defaults(schema: dict[str, Any]) -> None:
    """A query string cannot say null: an absent parameter is simply absent."""
    for prop in schema.get("properties", {}).values():
        if prop.get("default", 0) is None:
            del prop["default"]


class SignatureQuery(BaseModel):
    """The query of a page of signatures."""

    model_config = ConfigDict(extra="ignore", json_schema_extra=_without_null_defaults)

    cursor: Cursor = None
    modified_since: Moment = None
    per_page: PerPage = DEFAULT_PER_PAGE


# -- answers -----------------------------------------------------------------------------------------------------

class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class FieldError(Answer):
    field: str = Field(description="The query parameter or body field at fault.")
    message: str


class Problem(Answer):
    """An RFC 9457 problem document (``application/problem+json``)."""

    type: str = Field(description="Always `about:blank`: `title` is the HTTP status's phrase.")
    title: str
    status: int
    detail: str = Field(description="What went wrong, in words that can be shown to a person.")
    errors: list[FieldError] = Field(default_factory=list, description="The fields at fault, when fields are.")


class Link(Answer):
    href: str


class OrganizationRef(Answer):
    slug: str
    name: str


class TokenRef(Answer):
    name: str
    prefix: str = Field(description="The token's first 8 characters, as the console lists it.")
    scope: Literal["read", "read+write"]


class Me(Answer):
    organization: OrganizationRef
    token: TokenRef
    scope: Literal["read", "read+write"]


class Target(Answer):
    name: str


class CampaignLinks(Answer):
    self: Link
    signatures: Link = Field(alias="osdi:signatures")


class Campaign(Answer):
    """A campaign the organization sponsors (an OSDI petition)."""

    identifiers: list[str]
    title: str
    summary: str
    target: list[Target] = Field(description="The decision maker the petition addresses.")
    total_signatures: int = Field(description="The shared count: confirmed signatures through every sponsor.")
    signatures_credited: int = Field(alias="undersign:signatures_credited",
                                     description="The part of the count credited to your organization.")
    role: Literal["lead", "co-sponsor"] = Field(alias="undersign:role")
    status: Literal["draft", "published", "closed", "victory"]
    browser_url: str = Field(description="Your organization's hosted page of the petition.")
    created_date: str | None
    modified_date: str | None
    links: CampaignLinks = Field(alias="_links")


class SelfLinks(Answer):
    self: Link


class CampaignsEmbedded(Answer):
    petitions: list[Campaign] = Field(alias="osdi:petitions")


class CampaignList(Answer):
    total_records: int
    links: SelfLinks = Field(alias="_links")
    embedded: CampaignsEmbedded = Field(alias="_embedded")


class EmailAddress(Answer):
    address: str
    primary: bool


class PostalAddress(Answer):
    country: str = Field(description="ISO 3166-1 alpha-2.")
    postal_code: str = Field(default="", description="Absent when the signer gave none.")


class Person(Answer):
    name: str
    email_addresses: list[EmailAddress]
    postal_addresses: list[PostalAddress]


class ReferrerData(Answer):
    source: str = Field(description="The channel the signature came through.")
    referrer: str = Field(description="The slug of the sponsor the signature is credited to.")


class Signature(Answer):
    """A confirmed signer who consented to your organization."""

    identifiers: list[str]
    action_date: str | None
    created_date: str | None
    modified_date: str | None
    comments: str
    referrer_data: ReferrerData
    person: Person


class Tombstone(Answer):
    """A signer your organization may no longer hold (withdrawn, unsubscribed, invalidated): delete your copy."""

    identifiers: list[str]
    deleted: Literal[True]
    deleted_date: str | None
    modified_date: str | None


class PageLinks(Answer):
    self: Link
    next: Link | None = Field(default=None, description="Absent on the last page.")


class SignaturesEmbedded(Answer):
    signatures: list[Signature | Tombstone] = Field(alias="osdi:signatures")


class SignaturePage(Answer):
    per_page: int
    links: PageLinks = Field(alias="_links")
    embedded: SignaturesEmbedded = Field(alias="_embedded")


class CosignatureIn(BaseModel):
    """A sponsor's Ed25519 signature (base64) over the RFC 8785 bytes of ``{campaign, tree_size, root_hash,
    timestamp}`` of a head the platform signed: the same bytes as the platform's signature."""

    model_config = ConfigDict(extra="forbid")

    tree_size: int = Field(ge=1)
    root_hash: str = Field(pattern="^[0-9a-fA-F]{64}$")
    signature: str = Field(min_length=1, max_length=200)


class WitnessKeyIn(BaseModel):
    """The sponsor's own Ed25519 public key (base64 of the 32 raw bytes): it then cosigns heads itself."""

    model_config = ConfigDict(extra="forbid")

    public_key: str = Field(min_length=1, max_length=100)


class WitnessKey(Answer):
    sponsor: str
    public_key: str


class CosignatureOut(Answer):
    campaign: str
    sponsor: str
    tree_size: int
    root_hash: str
    signature: str
