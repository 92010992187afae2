"""Access tokens: the console page (list, create, revoke after a confirmation) and the
API routes (admin only). A token's secret is shown once, when it is created."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED
from promtour._auth import ApiToken, create_token, list_tokens, revoke_token
from promtour._console import service
from promtour._console.access import A, current_principal
from promtour._console.apibase import api_delete, api_get, api_post, platform_of
from promtour._console.deps import ConsoleDep, PlatformDep
from promtour._console.schemas import TokenCreate, TokenCreated, TokenOut
from promtour._console.ui import Console
from promtour._errors import TourError

__all__ = ["TokenPages", "TokensApi", "token_of"]


async def token_of(c: Console, enterprise: str, token_id: str) -> ApiToken:
    found = next(
        (t for t in await list_tokens(c.platform.bus, enterprise) if t.id == token_id), None
    )
    if found is None:
        raise NotFoundException("There is no such token.")
    return found


class TokenPages(Controller):
    path = "/tokens"
    include_in_schema = False

    async def _page(self, c: Console, enterprise: str, **values: Any) -> Response[str]:
        tokens = await list_tokens(c.platform.bus, enterprise)
        return await c.page(
            "console/tokens.html",
            title=c._("Access tokens"),
            tokens=tokens,
            roles=c.platform.roles.names,
            **values,
        )

    @get("/", opt=A)
    async def tokens(self, c: ConsoleDep, enterprise: FromPath[str]) -> Response[str]:
        return await self._page(c, enterprise)

    @post("/", opt=A)
    async def create_token(self, c: ConsoleDep, enterprise: FromPath[str]) -> Response[str]:
        form = await c.form()
        role, label = form.get("role"), form.get("label").strip()
        if role not in c.platform.roles.names or not label or len(label) > 100:
            return await self._page(
                c, enterprise, status=400, error=c._("Choose a role and give the token a label.")
            )
        token, secret = await create_token(c.platform.bus, enterprise, role, label)
        return await self._page(c, enterprise, created=token, secret=secret)

    @get("/{token_id:str}/revoke", opt=A)
    async def revoke_form(
        self, c: ConsoleDep, enterprise: FromPath[str], token_id: FromPath[str]
    ) -> Response[str]:
        """The question before revoking: a revoked token cannot be brought back."""
        token = await token_of(c, enterprise, token_id)
        return await c.page("console/token_revoke.html", title=c._("Revoke the token"), token=token)

    @post("/{token_id:str}/revoke", opt=A)
    async def revoke(
        self, c: ConsoleDep, enterprise: FromPath[str], token_id: FromPath[str]
    ) -> Response[Any]:
        if c.principal is not None and c.principal.token_id == token_id:
            return await self._page(
                c,
                enterprise,
                status=400,
                error=c._(
                    "You are signed in with this token: "
                    "sign in with another admin token to revoke it."
                ),
            )
        await revoke_token(c.platform.bus, enterprise, token_id)
        return c.redirect(f"{c.base()}/tokens", "revoked")


class TokensApi(Controller):
    path = "/tokens"
    tags = ["enterprise"]

    @api_get("/", opt=A, summary="API tokens (admin); the secrets are never shown again")
    async def tokens(self, platform: PlatformDep, enterprise: FromPath[str]) -> list[TokenOut]:
        tokens = await list_tokens(platform.bus, enterprise)
        return [
            TokenOut(id=t.id, role=t.role, label=t.label, created=t.created.isoformat())
            for t in tokens
        ]

    @api_post("/", opt=A, summary="Create a token (admin); the secret is in this answer only")
    async def create_token(
        self, platform: PlatformDep, enterprise: FromPath[str], data: JSONBody[TokenCreate]
    ) -> Response[TokenCreated]:
        try:
            token, secret = await create_token(
                platform.bus, enterprise, data.role, data.label, roles=platform.roles
            )
        except ValueError as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from None
        body = TokenCreated(id=token.id, role=token.role, label=token.label, token=secret)
        return Response(body, status_code=HTTP_201_CREATED)

    @api_post(
        "/{token_id:str}/rotate",
        opt=A,
        summary="Rotate a token (admin): a new secret, same role and label; the old one is revoked",
    )
    async def rotate_token(
        self, request: Request[Any, Any, Any], enterprise: FromPath[str], token_id: FromPath[str]
    ) -> Response[TokenCreated]:
        if current_principal(request).token_id == token_id:
            raise TourError("you cannot rotate the token you are using; use another admin token")
        token, secret = await service.rotate_token(platform_of(request), enterprise, token_id)
        body = TokenCreated(id=token.id, role=token.role, label=token.label, token=secret)
        return Response(body, status_code=HTTP_201_CREATED)

    @api_delete("/{token_id:str}", opt=A, summary="Revoke a token (admin): 401 for it at once")
    async def revoke_token(
        self, request: Request[Any, Any, Any], enterprise: FromPath[str], token_id: FromPath[str]
    ) -> None:
        if current_principal(request).token_id == token_id:
            raise TourError("you cannot revoke the token you are using; use another admin token")
        if not await revoke_token(platform_of(request).bus, enterprise, token_id):
            raise NotFoundException("There is no such token.")
