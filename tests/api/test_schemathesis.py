"""Schemathesis against the API, in process: whatever it sends, no answer is a 5xx and none breaks the
document (status and content type declared, body matching its schema), with a token and without one.

Each route gets valid and invalid requests (schemathesis's positive and negative generation), with a
generated slug and with the slug of a seeded campaign that has signers, a tombstone and more than one
page, so answers with data are checked too. Bounded: a few examples per route and mode, no deadline per
example (the machine is shared); the file runs in seconds. (schemathesis's own pytest plugin, the lazy
``from_fixture`` loader, does not run on pytest 9 yet, so the strategies are driven by hand.)
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.test_resources import token_for
from tests.mailings.supporters import three_sponsors

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 8  # per route, mode and slug: 14 strategies, at most 112 requests a run (the token's limit is 300/min)


@pytest.mark.parametrize("with_token", [True, False], ids=["with a token", "without a token"])
def test_the_api_keeps_its_document_whatever_it_is_sent(app, client, with_token):
    found = three_sponsors()
    headers = token_for(found.lead, write=True) if with_token else {}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 4
    seen: set[int] = set()

    for operation in operations:
        aimed: list[dict[str, str] | None] = [None]
        if "{slug}" in operation.path:
            aimed.append({"slug": found.campaign.slug})
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for path_parameters in aimed:
                strategy = operation.as_strategy(mode, path_parameters=path_parameters)

                @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                          suppress_health_check=list(HealthCheck))
                @given(case=strategy)
                def run(case: Any) -> None:
                    response = case.call(headers=headers)
                    case.validate_response(response, checks=CHECKS, headers=headers)
                    seen.add(response.status_code)
                    if not with_token:
                        assert response.status_code == 401

                run()

    # With a token the run got past authentication: answers with data (signatures recorded too), and
    # refusals of what it sent (a 401 too, when the negative cases spoil the Authorization header).
    if with_token:
        assert {200, 400, 404} <= seen <= {200, 201, 400, 401, 404, 409, 413, 415, 422}, seen
    else:
        assert seen == {401}
