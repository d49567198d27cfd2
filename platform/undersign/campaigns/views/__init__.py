"""The console side of campaigns: drafting, publishing, co-sponsorship, updates.

Every route under ``/orgs/<org>/campaigns/<slug>`` reaches the campaign through
``g.org``'s sponsorship (STYLE 9), once, in `console._pull_campaign`: a
campaign the organization neither leads nor co-sponsors is a 404, whatever the
caller's role, and an organization that is only invited sees the invitation
and nothing else. What a sponsor may then do is decided by the services (only
the lead changes content, status and sponsors: 403 for a co-sponsor, who can
see the petition anyway) and by the member's role (the ``@member`` guard: 403).

One blueprint, ``campaigns``, defined in `console` with what every page shares;
the routes are in `petitions` (lists, drafting, preview, lifecycle, history),
`sponsors` (co-sponsorship), `updates` and `languages` (the text in other languages). Importing this package registers them all.
"""

from __future__ import annotations

from undersign.campaigns.views import languages, petitions, sponsors, updates
from undersign.campaigns.views.console import bp

__all__ = ["bp", "languages", "petitions", "sponsors", "updates"]
