"""Check a petition's signature log from outside: ``python -m undersign.verify URL [--receipt FILE --email ADDRESS]``.

Standard library and ``cryptography`` only (no Flask, no undersign imports), so anyone can read and run it.
It downloads the log, recomputes the RFC 6962 root and the net count, checks the head's Ed25519 signature and each co-sponsor's cosignature,
and with a receipt checks that the signer's commitment is in the log. Exit status 0 when everything holds.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

Fetch = Callable[[str], Any]


def canonical(value: Any) -> bytes:
    """RFC 8785 for ints, strings and objects: sorted keys (UTF-16 order), no spaces, ECMAScript escapes."""
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: kv[0].encode("utf-16-be"))
        return b"{" + b",".join(canonical(k) + b":" + canonical(v) for k, v in items) + b"}"
    if isinstance(value, list):
        return b"[" + b",".join(canonical(v) for v in value) + b"]"
    if isinstance(value, bool) or value is None:
        return json.dumps(value).encode()
    if isinstance(value, int):
        return str(value).encode()
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).encode("utf-8")
    raise TypeError(type(value).__name__)


def root(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    level = leaves
    while len(level) > 1:
        nxt = [hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def check(fetch: Fetch, slug: str, *, receipt: dict[str, Any] | None = None, email: str | None = None) -> list[str]:
    """The problems found (an empty list: the log, its head and the receipt hold)."""
    problems: list[str] = []
    key = fetch("/.well-known/undersign-log-key")
    head = fetch(f"/p/{slug}/log/head")
    entries: list[dict[str, Any]] = []
    while len(entries) < head["tree_size"]:
        page = fetch(f"/p/{slug}/log/entries?start={len(entries)}&end={head['tree_size']}")["entries"]
        if not page:
            break
        entries.extend(page)
    for position, entry in enumerate(entries):
        if entry.get("index") != position:
            problems.append(f"entry {position} carries index {entry.get('index')}")
            break
    leaves = [hashlib.sha256(b"\x00" + canonical(e)).digest() for e in entries]
    if len(leaves) != head["tree_size"]:
        problems.append(f"the head covers {head['tree_size']} entries, the log served {len(leaves)}")
    elif root(leaves).hex() != head["root_hash"]:
        problems.append("the entries do not hash to the head's root: the log was changed")
    signed = {k: head[k] for k in ("campaign", "tree_size", "root_hash", "timestamp")}
    try:
        Ed25519PublicKey.from_public_bytes(base64.b64decode(key["public_key"])).verify(
            base64.b64decode(head["signature"]), canonical(signed))
    except (InvalidSignature, ValueError):
        problems.append("the head's signature does not verify with the published key")
    problems.extend(check_witnesses(key, head, canonical(signed)))
    net = sum(e["event"]["delta"] for e in entries)
    if receipt is not None:
        problems.extend(check_receipt(receipt, email or "", entries))
    if not problems:
        witnessed = ", ".join(w["sponsor"] for w in head.get("witnesses", []))
        print(f"{slug}: {len(entries)} entries, net count {net}, head signed, root matches"
              + (f", witnessed by {witnessed}" if witnessed else ""))
    return problems


def check_witnesses(key: dict[str, Any], head: dict[str, Any], signed: bytes) -> list[str]:
    """Each cosignature in the head must verify, over the bytes the platform signed, with the key that sponsor
    published in the key document."""
    published = {w.get("sponsor"): w.get("public_key") for w in key.get("witnesses", [])}
    problems: list[str] = []
    for witness in head.get("witnesses", []):
        sponsor = witness.get("sponsor")
        if sponsor not in published:
            problems.append(f"the head claims a cosignature by {sponsor}, which published no witness key")
            continue
        try:
            Ed25519PublicKey.from_public_bytes(base64.b64decode(published[sponsor])).verify(
                base64.b64decode(witness.get("signature", "")), signed)
        except (InvalidSignature, ValueError):
            problems.append(f"the cosignature by {sponsor} does not verify with its published key")
    return problems


def check_receipt(receipt: dict[str, Any], email: str, entries: list[dict[str, Any]]) -> list[str]:
    commitment = hashlib.sha256(bytes.fromhex(receipt["salt"]) + email.strip().lower().encode()).hexdigest()
    index = receipt["index"]
    if index >= len(entries):
        return [f"entry {index} is not in a signed head yet (it covers {len(entries)}): try again in a minute"]
    if not 0 <= index < len(entries) or entries[index]["commitment"] != commitment:
        return [f"the receipt's entry {index} is not this address's signature"]
    if entries[index]["event"]["delta"] != 1:
        return [f"entry {index} is not a +1"]
    return []


def http_fetch(base: str) -> Fetch:
    def fetch(path: str) -> Any:
        with urllib.request.urlopen(base + path, timeout=30) as response:  # noqa: S310 - a URL the user gave
            return json.load(response)
    return fetch


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("url", help="the petition's page, e.g. https://undersign.example/p/let-them-go")
    parser.add_argument("--receipt", help="a receipt file (JSON) from the confirmation e-mail")
    parser.add_argument("--email", help="the address you signed with (with --receipt)")
    args = parser.parse_args(argv)
    parts = urlsplit(args.url)
    slug = parts.path.rstrip("/").split("/p/")[-1].split("/")[0]
    receipt = json.load(open(args.receipt, encoding="utf-8")) if args.receipt else None
    problems = check(http_fetch(f"{parts.scheme}://{parts.netloc}"), slug, receipt=receipt, email=args.email)
    for problem in problems:
        print("FAIL:", problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
