"""The body of ``POST /api/v1/campaigns/<slug>/signatures`` and its answer: OSDI-shaped signatures in,
one result per item out.

The body is ``{"signatures": [item, ...]}`` (1 to 500 items, with optional
request-wide ``source`` and ``consent`` that an item may override) or a single
item on its own::

    {"person": {"given_name": "Ann", "family_name": "Kim",      # or "name": "Ann Kim"
                "email_addresses": [{"address": "ann@example.org"}],
                "postal_addresses": [{"country": "KR", "postal_code": "04524"}]},
     "comments": "Signed at the Busan screening.",
     "email_verified": false,                                   # true: we confirmed the address ourselves
     "source": "offline",                                       # or "api"
     "consent": {"wording": "Keep me updated by Hanvoice", "given": true}}

What is wrong with the request as a whole (not JSON, not an object, no items,
too many) is a problem document (400, 413, 415, 422). What is wrong with one
item, whether its shape (a number where a name goes) or a rule of the sign
form, is that item's ``invalid`` result naming the field as a path into the
item (``person.email_addresses[0].address``); the other items are recorded.

The pydantic models describe the body (`BatchIn`, `SignatureIn`) and the
answer (`BatchResultOut`) for the OpenAPI document. They are lenient (every
field optional, unknown fields ignored), and `parse` applies `SignatureIn` to
each item on its own, so a bad item stays that item's result: validating the
whole body with `BatchIn` before the view would turn it into a 422 for all.
The sign form's rules then decide, item by item, in `undersign.signatures.collected`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, StrictBool, ValidationError

from undersign.errors import DomainError, InvalidInput, Unprocessable
from undersign.signatures.collected import MAX_BATCH, CollectedSignature, ItemResult
from undersign.signatures.rules import SignatureInput


class BodyRefused(DomainError):
    """A request body the API does not take at all: wrong media type (415) or too many items (413)."""

    def __init__(self, status_code: int, message: str, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.status_code = status_code


# -- the body ----------------------------------------------------------------------------------------------------

class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class EmailAddressIn(_Lenient):
    address: str | None = None
    primary: StrictBool | None = None


class PostalAddressIn(_Lenient):
    country: str | None = Field(default=None, description="ISO 3166-1 alpha-2, e.g. KR")
    postal_code: str | None = None


class PersonIn(_Lenient):
    given_name: str | None = None
    family_name: str | None = None
    name: str | None = Field(default=None, description="The whole name, instead of given_name and family_name")
    email_addresses: list[EmailAddressIn] = Field(default_factory=list, description="The primary one, else the first")
    postal_addresses: list[PostalAddressIn] = Field(default_factory=list, description="The first is used")


class ConsentIn(_Lenient):
    wording: str | None = Field(default=None, description="The words next to your consent box that the signer agreed to")
    given: StrictBool = Field(default=True, description="false: the signer did not tick the box")


class SignatureIn(_Lenient):
    person: PersonIn | None = None
    comments: str | None = None
    email_verified: StrictBool = Field(default=False, description=(
        "true only if your organization confirmed that the address belongs to the signer: the signature "
        "counts at once. Otherwise the signer is sent a confirmation e-mail and counts once they confirm."))
    source: Literal["offline", "api"] | None = Field(default=None, description="offline (the default) or api")
    consent: ConsentIn | None = Field(default=None, description="Consent to hear from your organization")


class BatchIn(_Lenient):
    signatures: list[SignatureIn] = Field(min_length=1, max_length=MAX_BATCH)
    source: Literal["offline", "api"] | None = Field(default=None, description="For every item without its own")
    consent: ConsentIn | None = Field(default=None, description="For every item without its own")


class SignaturesBody(RootModel[BatchIn | SignatureIn]):
    """The body as documented: a batch, or one signature on its own (`parse` reads it item by item)."""


class _Defaults(_Lenient):
    source: Literal["offline", "api"] | None = None
    consent: ConsentIn | None = None


# -- the answer --------------------------------------------------------------------------------------------------

class ItemResultOut(BaseModel):
    index: int
    status: Literal["created", "duplicate", "invalid"]
    identifiers: list[str] | None = None
    confirmed: bool | None = None
    field: str | None = None
    message: str | None = None


class BatchResultOut(BaseModel):
    results: list[ItemResultOut]
    created: int
    duplicates: int
    invalid: int


# -- parsing -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ItemProblem:
    field: str
    message: str


@dataclass(frozen=True)
class ParsedItem:
    """An item ready for the service, and where in the item each rule's field came from."""

    signature: CollectedSignature
    paths: dict[str, str]


@dataclass
class Batch:
    """The parsed body: the JSON as sent (for the idempotency hash) and each item, parsed or refused."""

    body: Any
    items: list[ParsedItem | ItemProblem] = field(default_factory=list)

    @property
    def parsed(self) -> list[ParsedItem]:
        return [item for item in self.items if isinstance(item, ParsedItem)]


def is_json(mimetype: str) -> bool:
    return mimetype == "application/json" or (mimetype.startswith("application/") and mimetype.endswith("+json"))


def parse(raw: bytes, mimetype: str) -> Batch:
    """The request body as items.

    :raise BodyRefused: 415 not JSON by its ``Content-Type``; 413 more than `MAX_BATCH` items.
    :raise InvalidInput: 400 the body is not valid JSON (UTF-8).
    :raise Unprocessable: 422 not an object, no items, an item that is not an object, bad request-wide fields.
    """
    if not is_json(mimetype):
        raise BodyRefused(415, "Send the signatures as JSON, with Content-Type: application/json.")
    try:
        body = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise _invalid_json("the body is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise _invalid_json(f"{exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    if not isinstance(body, dict):
        raise Unprocessable("The body must be a JSON object: one signature, or {\"signatures\": [...]}.")
    if "signatures" not in body:
        return Batch(body, [_item(body, _Defaults())])
    raw_items = body["signatures"]
    if not isinstance(raw_items, list) or not raw_items:
        raise Unprocessable("signatures must be a list of 1 to 500 signatures.", field="signatures")
    if len(raw_items) > MAX_BATCH:
        raise BodyRefused(413, f"Send at most {MAX_BATCH} signatures in one request ({len(raw_items)} were sent).",
                          field="signatures")
    for index, item in enumerate(raw_items):
        if not isinstance(item, dict):
            raise Unprocessable(f"Each signature must be a JSON object; item {index} is not.",
                                field=f"signatures[{index}]")
    try:
        defaults = _Defaults.model_validate({k: body[k] for k in ("source", "consent") if k in body})
    except ValidationError as exc:
        first = exc.errors()[0]
        raise Unprocessable(f"{_path(first['loc'])}: {first['msg']}", field=_path(first["loc"])) from None
    return Batch(body, [_item(item, defaults) for item in raw_items])


def _invalid_json(why: str) -> InvalidInput:
    return InvalidInput(f"The body is not valid JSON: {why}.", field="body")


def _path(loc: Sequence[int | str]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _item(raw: dict[str, Any], defaults: _Defaults) -> ParsedItem | ItemProblem:
    try:
        item = SignatureIn.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        return ItemProblem(_path(first["loc"]), first["msg"])
    person = item.person or PersonIn()
    paths = {"comment": "comments", "source": "source", "consent_wording": "consent.wording"}
    if person.name is not None or (person.given_name is None and person.family_name is None):
        name, paths["name"] = person.name, "person.name"
    else:
        name = " ".join(p for p in (person.given_name, person.family_name) if p)
        paths["name"] = "person.given_name" if person.given_name is not None else "person.family_name"
    emails = person.email_addresses
    e = next((i for i, a in enumerate(emails) if a.primary), 0)
    paths["email"] = f"person.email_addresses[{e}].address"
    paths["country"], paths["postcode"] = "person.postal_addresses[0].country", "person.postal_addresses[0].postal_code"
    place = person.postal_addresses[0] if person.postal_addresses else PostalAddressIn()
    consent = item.consent or defaults.consent
    wording = (consent.wording or "") if consent is not None and consent.given else None
    data = SignatureInput(name=name, email=emails[e].address if emails else None, country=place.country,
                          postcode=place.postal_code, comment=item.comments, source=item.source or defaults.source)
    return ParsedItem(CollectedSignature(data, email_verified=item.email_verified, consent_wording=wording), paths)


def answer(batch: Batch, recorded: Sequence[ItemResult]) -> dict[str, Any]:
    """The response body: ``results`` (one per item sent, in order) and the totals.

    ``recorded`` holds the service's results for `Batch.parsed`, in order.
    """
    outcomes = iter(recorded)
    results: list[ItemResultOut] = []
    for index, item in enumerate(batch.items):
        if isinstance(item, ItemProblem):
            results.append(ItemResultOut(index=index, status="invalid", field=item.field, message=item.message))
            continue
        outcome = next(outcomes)
        if outcome.status == "created":
            results.append(ItemResultOut(index=index, status="created", identifiers=[f"undersign:{outcome.signature_id}"],
                                         confirmed=outcome.confirmed))
        else:
            where = item.paths.get(outcome.field or "", outcome.field) if outcome.status == "invalid" else None
            results.append(ItemResultOut(index=index, status=outcome.status, field=where, message=outcome.message))
    totals = {status: sum(1 for r in results if r.status == status) for status in ("created", "duplicate", "invalid")}
    return BatchResultOut(results=results, created=totals["created"], duplicates=totals["duplicate"],
                          invalid=totals["invalid"]).model_dump(exclude_none=True)
