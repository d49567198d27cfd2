"""Petition bodies and updates are Markdown, rendered and sanitized: nothing in them can run."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.campaigns.campaign_factories import console, make_campaign, staff
from tests.factories import login_as, make_org, make_user
from tests.helpers import submit
from undersign.campaigns.content import ALLOWED_TAGS, render_markdown
from undersign.campaigns.models import CampaignRevision
from undersign.extensions import db
from undersign.organizations.models import Role

DANGEROUS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<iframe src=\"https://evil.example\"></iframe>",
    "<svg onload=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<div onclick=\"alert(1)\">click</div>",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<a href=\"&#x6A;avascript:alert(1)\">x</a>",
    "<object data=\"x.swf\"></object>",
    "<embed src=\"x\">",
    "<style>body{display:none}</style>",
    "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
    "<<script>script>alert(1)<</script>/script>",
    "<!-- <script>alert(1)</script> -->",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](java\tscript:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](javascript&#58;alert(1))",
    "[x](<javascript:alert(1)>)",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](data:image/png;base64,iVBORw0KGgo=)",
    "![x](javascript:alert(1))",
    "[ref]\n\n[ref]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "<https://ok.example/path>",
    "[fine](https://example.org \"title\" )",
    "`<script>`",
    "\" onmouseover=\"alert(1)",
    "' onfocus='alert(1)",
    "<a href=x onmouseover=alert(1)>",
    "<p style=\"background:url(javascript:alert(1))\">",
    "<base href=\"https://evil.example/\">",
    "<form action=\"https://evil.example\"><input name=x></form>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<link rel=stylesheet href=//evil.example>",
    "\x00<script>",
    "| a | b |\n|---|---|\n| <img src=x onerror=alert(1)> | [x](javascript:1) |",
    "> <script>alert(1)</script>",
    "1. <iframe>\n2. two",
    "***",
    "&lt;script&gt;",
]

URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background", "srcset"}
_IGNORED_IN_SCHEME = re.compile(r"[\x00-\x20\x7f]")


class _Collector(HTMLParser):
    """Every tag and attribute of a fragment, with attribute values unescaped as a browser would."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend((tag, name, value or "") for name, value in attrs)

    handle_startendtag = handle_starttag


def _scheme(url: str) -> str:
    """The scheme a browser would see: control characters and spaces do not stop ``java\\tscript:``."""
    compact = _IGNORED_IN_SCHEME.sub("", url).lower()
    match = re.match(r"^([a-z][a-z0-9+.-]*):", compact)
    return match.group(1) if match else ""


def assert_inert(html: str) -> None:
    collector = _Collector()
    collector.feed(html)
    collector.close()
    for tag in collector.tags:
        assert tag in ALLOWED_TAGS, f"tag <{tag}> got through: {html!r}"
    for tag, name, value in collector.attributes:
        assert not name.startswith("on"), f"event handler {name} got through: {html!r}"
        assert name in {"href", "title", "start", "align", "rel"}, f"attribute {name} on <{tag}>: {html!r}"
        if name in URL_ATTRIBUTES:
            assert _scheme(value) in {"", "http", "https", "mailto"}, f"URL {value!r} got through: {html!r}"


def test_each_dangerous_fragment_renders_inert():
    for fragment in DANGEROUS:
        assert_inert(str(render_markdown(fragment)))
    everything = "\n\n".join(DANGEROUS)
    html = str(render_markdown(everything))
    assert_inert(html)
    assert "<script" not in html.lower()


def test_ordinary_markdown_still_works():
    html = str(render_markdown("## Why\n\nThe **UN** can help: [read more](https://example.org/a?b=1&c=2).\n\n"
                               "1. first\n2. second\n\n> quoted\n\n| a | b |\n|---|---|\n| 1 | 2 |"))
    assert "<h2>Why</h2>" in html
    assert "<strong>UN</strong>" in html
    assert 'href="https://example.org/a?b=1&amp;c=2"' in html and 'rel="nofollow noopener noreferrer ugc"' in html
    assert "<ol>" in html and "<blockquote>" in html and "<table>" in html


markdown_text = st.lists(
    st.one_of(
        st.text(max_size=40),
        st.text(alphabet="<>\"'=:/&#;()[]!*`\\ \n\tjavascriptdoneroclick", max_size=40),
        st.sampled_from(DANGEROUS),
        st.sampled_from(["<", ">", "[", "](", ")", "\n\n", "javascript:", "data:", "on", "=", "\"", "&#", "!["]),
    ),
    max_size=10,
).map("".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(markdown_text)
def test_no_markdown_lets_a_script_a_handler_or_a_dangerous_url_through(text):
    assert_inert(str(render_markdown(text)))


def test_console_pages_render_dangerous_bodies_inert(client):
    lead = make_org(owner=make_user())
    editor = staff(lead, Role.EDITOR)
    body = "\n\n".join(DANGEROUS[:20])
    campaign = make_campaign(lead, status="published", body=body,
                             demands=[{"title": "<img src=x onerror=alert(1)>", "text": "[x](javascript:alert(1))"}])
    revision = CampaignRevision(campaign_id=campaign.id, title="<script>alert(1)</script>", body=body,
                                demands=campaign.demands, signature_count_at_edit=1)
    db.session.add(revision)
    db.session.commit()
    login_as(client, editor)
    assert submit(client, console(lead, campaign, "updates/new"),
                  {"title": "<b onmouseover=alert(1)>hi</b>", "body": body}).status_code == 302

    for path in (console(lead, campaign, f"revisions/{revision.id}"), console(lead, campaign, "updates"),
                 console(lead, campaign, "preview")):
        page = client.get(path)
        assert page.status_code == 200, path
        html = page.get_data(as_text=True)
        main = html[html.index('<main'):html.index('</main>')]
        collector = _Collector()
        collector.feed(main)
        assert "script" not in collector.tags and "iframe" not in collector.tags and "img" not in collector.tags, path
        for _tag, name, value in collector.attributes:
            assert not name.startswith("on"), (path, name)
            if name in URL_ATTRIBUTES:
                assert _scheme(value) not in {"javascript", "data", "vbscript"}, (path, value)
