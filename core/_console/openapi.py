"""How the enterprise API describes itself in the served OpenAPI schema."""

from __future__ import annotations

import msgspec
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Components, SecurityScheme

__all__ = ["API_RESPONSES", "COMPONENTS", "SECURITY", "ErrorBody"]


class ErrorBody(msgspec.Struct):
    """Every API error: the status and a message for a person."""

    status_code: int
    detail: str


def _error(description: str) -> ResponseSpec:
    return ResponseSpec(data_container=ErrorBody, description=description)


API_RESPONSES: dict[int, ResponseSpec] = {
    400: _error("The request is not valid; the detail names the field or the rule."),
    401: _error("No API token, or a token that is not valid or was revoked."),
    403: _error("The token's role may not do this."),
    404: _error("No such object (or it belongs to another enterprise)."),
    409: _error("The object already exists."),
    413: _error("The request body is too large."),
    503: _error("NATS is briefly unavailable; nothing was written. Retry."),
}

SECURITY: list[dict[str, list[str]]] = [{"BearerToken": []}]

COMPONENTS = Components(
    security_schemes={
        "BearerToken": SecurityScheme(
            type="http",
            scheme="bearer",
            description="An enterprise API token (`pt_<id>_<secret>`); "
            "create one with `promtour enterprise tokens create`.",
        )
    }
)
