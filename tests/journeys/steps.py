"""Steps and checks shared by the journeys: pages with axe-core, the count on every page that shows it.

- ``new_page(browser, viewport)``: a page in a context of its own (its own cookies), with axe-core
  injected into every document it opens (an init script goes in through the DevTools protocol, so our
  Content-Security-Policy, which refuses inline scripts, stays on and still catches our own mistakes),
  the HTTP cache off (a page opened again shows what the server says now, not a copy up to
  ``max-age`` old), and its console and script errors in ``page.problems``.
- ``visit(page, url)``: open a page, expect 200 and no serious or critical accessibility violation.
- ``check_accessibility(page)``: axe-core's WCAG 2.0–2.2 A/AA rules on the page as it is now.
- ``expect_counts(...)``: the shared count as the hosted pages, the ``.json`` and the embed show it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
AXE_SOURCE = (Path(__file__).resolve().parents[1] / "vendor" / "axe-core" / "axe.min.js").read_text("utf-8")
# WCAG 2.0, 2.1 and 2.2, levels A and AA (colour contrast is wcag2aa).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
BLOCKING = ("serious", "critical")
DESKTOP = {"width": 1280, "height": 900}
PHONE_390 = {"width": 390, "height": 844}

_RUN_AXE = """(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})
  .then(result => result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(' '), impact: n.impact, summary: n.failureSummary})),
  })))"""


def new_page(browser: Any, viewport: dict[str, int] = DESKTOP) -> Any:
    """A fresh page with axe-core available in every frame; close it with ``page.context.close()``."""
    context = browser.new_context(viewport=viewport, device_scale_factor=1)
    context.add_init_script(script=AXE_SOURCE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    # Which resource failed (the console only says "Failed to load resource").
    page.on("response", lambda response: problems.append(f"{response.status} {response.url}")
            if response.status >= 400 and response.request.resource_type != "document" else None)
    page.problems = problems
    return page


def accessibility_problems(page: Any) -> list[str]:
    """The serious and critical violations axe-core finds on the page, one readable line per element."""
    violations = page.evaluate(_RUN_AXE, AXE_TAGS)
    lines = []
    for violation in violations:
        for node in violation["nodes"]:
            if (node["impact"] or violation["impact"]) in BLOCKING:
                summary = " ".join((node["summary"] or "").split())
                lines.append(f"{violation['id']} ({node['impact'] or violation['impact']}) at {node['target']}: "
                             f"{violation['help']} — {summary}")
    return lines


def check_accessibility(page: Any) -> None:
    """Fail with the list of serious or critical WCAG 2.x A/AA violations on the page, if any."""
    problems = accessibility_problems(page)
    assert not problems, f"axe-core on {page.url}:\n  " + "\n  ".join(problems)


def _open(page: Any, url: str, status: int = 200) -> Any:
    response = page.goto(url)
    assert response is not None and response.status == status, (url, response and response.status)
    return response


def visit(page: Any, url: str, status: int = 200) -> Any:
    """Open ``url``, expect ``status``, and check the page with axe-core."""
    response = _open(page, url, status)
    check_accessibility(page)
    return response


def press(page: Any, control: Any, status: int = 200) -> Any:
    """Click ``control`` (a button or link that leads to another page), expect ``status`` from the page
    it leads to (after redirects), and check that page with axe-core."""
    with page.expect_navigation() as navigation:
        control.click()
    response = navigation.value
    assert response is not None and response.status == status, (page.url, response and response.status)
    check_accessibility(page)
    return response


def screenshot(page: Any, name: str, *, full_page: bool = True) -> Path:
    """Saved under ``tests/artifacts/`` (ignored by git), for people to look at after a run."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def shown_count(page: Any) -> int:
    """The supporter count of the petition or embed page open in ``page``."""
    text = page.locator(".petition-count .count-number, .embed-count strong").first.inner_text()
    return int(re.sub(r"[^\d]", "", text))


def expect_counts(page: Any, base: str, slug: str, hosts: tuple[str, ...], expected: int, *,
                  accessibility: bool = True) -> None:
    """The count is ``expected`` on each sponsor's hosted page, in ``/p/<slug>.json`` and in the embed
    (pages checked with axe-core too, unless ``accessibility`` is false: the same pages again).

    Raises AssertionError naming every place that shows something else.
    """
    opened = visit if accessibility else _open
    wrong = []
    for org in hosts:
        opened(page, f"{base}/o/{org}/p/{slug}")
        if (seen := shown_count(page)) != expected:
            wrong.append(f"/o/{org}/p/{slug} shows {seen}")
    response = page.request.get(f"{base}/p/{slug}.json")
    assert response.status == 200
    if (seen := response.json()["signature_count"]) != expected:
        wrong.append(f"/p/{slug}.json says {seen}")
    opened(page, f"{base}/p/{slug}/embed")
    if (seen := shown_count(page)) != expected:
        wrong.append(f"/p/{slug}/embed shows {seen}")
    assert not wrong, f"expected {expected:,} supporters: " + "; ".join(wrong)


def mail_link(mailbox: Any, address: str, contains: str, base: str) -> str:
    """The link containing ``contains`` in the last mail to ``address``, on the live server."""
    return base + mailbox.last_to(address).link(contains)
