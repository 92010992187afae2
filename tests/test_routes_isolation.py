"""Route operators and enterprises are isolated in both directions, over the routes
plugin's whole route table: every route naming an operator or an enterprise is asked,
with the credentials of operator A / enterprise A, for the objects of B; and operator
credentials are refused on enterprise routes and enterprise credentials on operator
routes. Routes open to anyone are listed with the reason."""

from __future__ import annotations

import re
from typing import Any

import httpx
from promtour._auth import create_token

from tests.test_routes import PLUGINS, build_world

PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")
REFUSED = {401, 403, 404}

#: Plugin routes open to anyone, and why.
PUBLIC = {
    "/p/routes/r/{route_id}": "visitor: the route page and their own passport",
    "/p/routes/r/{route_id}/code": "visitor: a code for their own passport",
    "/p/routes/restore": "visitor: restoring a passport by its code",
    "/p/routes/operator/login": "the operator sign-in form",
}


def plugin_routes(app: Any) -> list[tuple[str, str]]:
    out = []
    for route in app.routes:
        if not route.path.startswith("/p/routes/"):
            continue
        for method in sorted(getattr(route, "methods", set()) - {"OPTIONS", "HEAD"}):
            out.append((method, PARAM.sub(r"{\1}", route.path)))
    return out


def fill(path: str, values: dict[str, str]) -> str:
    return PARAM.sub(lambda m: values.get(m.group(1), "x1"), path)


async def refusals(
    server: Any, headers: dict[str, str], values: dict[str, str], only: str
) -> list[str]:
    problems = []
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=5) as client:
        for method, template in plugin_routes(server.app):
            if template in PUBLIC or only not in template:
                continue
            body = (
                {
                    "json": {
                        "code": values["code"],
                        "enterprise": values["enterprise"],
                        "tour": values["tour_id"],
                    }
                }
                if method == "POST"
                else {}
            )
            answer = await client.request(method, fill(template, values), **body)
            if answer.status_code not in REFUSED:
                problems.append(f"{method} {template}: {answer.status_code}")
    return problems


async def test_operators_and_enterprises_see_only_their_own(make_platform, serve_app, new_tour):
    setup = await make_platform(consumers=False, entrypoints=False, plugins=PLUGINS)
    server = serve_app(entrypoints=False, plugins=PLUGINS)
    a = await build_world(setup, server, new_tour)
    b = await build_world(setup, server, new_tour)
    templates = plugin_routes(server.app)
    assert sum("{operator}" in t for _, t in templates) >= 5
    assert sum("{enterprise}" in t for _, t in templates) >= 2

    def values(w: Any) -> dict[str, str]:
        return {
            "operator": w.operator,
            "route_id": w.route,
            "enterprise": w.tours[0].enterprise,
            "tour_id": w.tours[0].id,
            "action": "leave",
            "code": "ABCDEFGH",
        }

    json = {"Accept": "application/json"}
    op_a = {"Authorization": f"Bearer {a.op_secret}", **json}
    admin_a = {"Authorization": f"Bearer {a.admins[0]}", **json}
    problems = []
    # Operator A on operator B's objects, enterprise A's admin on enterprise B's.
    problems += await refusals(server, op_a, values(b), "{operator}")
    problems += await refusals(server, admin_a, values(b), "{enterprise}")
    # Across kinds: an operator token on enterprise routes and the other way round,
    # even for the operator's own route's enterprise and the enterprise's own route.
    problems += await refusals(server, op_a, values(a), "{enterprise}")
    problems += await refusals(server, admin_a, values(a), "{operator}")
    # Redemption: staff of B (not on route A) and operator B refused at route A.
    problems += await refusals(
        server, {"Authorization": f"Bearer {b.admins[0]}", **json}, values(a), "/redeem"
    )
    problems += await refusals(
        server, {"Authorization": f"Bearer {b.op_secret}", **json}, values(a), "/redeem"
    )
    assert not problems, "\n".join(problems)

    # Control: A's own credentials reach A's objects.
    async with httpx.AsyncClient(base_url=server.url, timeout=5) as client:
        own = await client.get(f"/p/routes/o/{a.operator}/dashboard", headers=op_a)
        assert own.status_code == 200
        mine = await client.get(f"/p/routes/e/{a.tours[0].enterprise}", headers=admin_a)
        assert mine.status_code == 200
        # The enterprise sees only its own tour's part of the route.
        listed = mine.json()
        assert [r["tour"] for r in listed] == [a.tours[0].id]
        assert a.tours[1].enterprise not in mine.text
        # An editor may not decide for the enterprise.
        _, editor = await create_token(setup.bus, a.tours[0].enterprise, "editor", "e")
        refused = await client.post(
            f"/p/routes/e/{a.tours[0].enterprise}/{a.route}/{a.tours[0].id}/leave",
            headers={"Authorization": f"Bearer {editor}", **json},
        )
        assert refused.status_code == 403
