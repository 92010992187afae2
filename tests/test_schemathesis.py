"""schemathesis against the OpenAPI schema the app serves: no 5xx and no response that
breaks the schema (status, content type, body, headers), on every operation of the
enterprise API and the core's visitor and operations endpoints.

A bounded run (25 examples per operation, no coverage phase, deterministic), with a
valid admin token and the path's enterprise and tour fixed to real ones, so that the
handlers (not only the guard) see the generated bodies.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from promtour._auth import create_token
from promtour._manager import PluginManager
from promtour._platform import Platform
from promtour.testing import LiveServer, save_new_tour, test_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
]
#: The enterprise API, the visitor API and /healthz, /readyz. Plugins' own routes are
#: their authors' to fuzz.
OPERATIONS = r"^/(api/v1/|healthz|readyz)"


class ApiWorld:
    def __init__(self, server: LiveServer, enterprise: str, tour: str, secret: str) -> None:
        self.server = server
        self.enterprise = enterprise
        self.tour = tour
        self.secret = secret

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}

    def ensure_tour(self) -> None:
        """Generated DELETEs and PUTs may remove or empty the tour: put it back."""
        base = f"{self.server.url}/api/v1/enterprises/{self.enterprise}/tours"
        if httpx.get(f"{base}/{self.tour}", headers=self.headers).status_code == 404:
            httpx.post(base, headers=self.headers, json=TOUR | {"id": self.tour})


TOUR: dict[str, Any] = {
    "name": {"ru": "Тур", "en": "Tour"},
    "stations": [
        {"id": "s1", "number": 1, "name": {"ru": "Один", "en": "One"}},
        {"id": "s2", "number": 2, "name": {"ru": "Два", "en": "Two"}},
    ],
    "plugins": {"quests": {}},
}


@pytest.fixture(scope="module")
def api_world(nats_url: str) -> Iterator[ApiWorld]:
    platform = Platform(test_settings(nats_url), plugins=PluginManager())
    server = LiveServer(platform).start()

    async def prepare() -> tuple[str, str, str]:
        setup = Platform(test_settings(nats_url), plugins=PluginManager())
        await setup.start(consumers=False)
        try:
            tour = await save_new_tour(setup, stations=2, plugins={"quests": {}})
            _, secret = await create_token(setup.bus, tour.enterprise, "admin", "schemathesis")
            return tour.enterprise, tour.id, secret
        finally:
            await setup.stop()

    enterprise, tour, secret = asyncio.run(prepare())
    try:
        yield ApiWorld(server, enterprise, tour, secret)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def api_schema(api_world: ApiWorld) -> Any:
    config = schemathesis.Config.from_dict(
        {
            "headers": {"Authorization": f"Bearer {api_world.secret}"},
            "parameters": {
                "path.enterprise": api_world.enterprise,
                "path.tour_id": api_world.tour,
                "path.plugin": "quests",
            },
            "generation": {"max-examples": 25, "deterministic": True, "database": "none"},
            "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
            # A body over the size limit is refused with 413: that is a rejection too.
            "checks": {
                "negative_data_rejection": {
                    "expected-statuses": ["400", "401", "403", "404", "409", "413", "422"]
                }
            },
        }
    )
    return schemathesis.openapi.from_url(
        f"{api_world.server.url}/schema/openapi.json", config=config
    )


schema = schemathesis.pytest.from_fixture("api_schema").include(path_regex=OPERATIONS)


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


@schema.parametrize()
def test_api_conforms_to_its_schema(
    case: Any, api_world: ApiWorld, session: requests.Session
) -> None:
    case.call_and_validate(headers=api_world.headers, checks=CHECKS, session=session)
    if case.method == "DELETE" and case.operation.path.endswith("/tours/{tour_id}"):
        api_world.ensure_tour()
