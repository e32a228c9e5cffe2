"""The dashboard's pages (`/app/…`): sign-in, my links, one link's (pack's, track's)
analytics, new links, revoking, and the live stream of a link page.

Every number comes from the service functions the JSON API uses
(gateway/service/share_links.py, gateway/service/reports.py; gateway/service/dashboard.py
for the titles and the filtered list), acting for the signed-in artist in their own organization.
Pages render with the share pages' templates, assets and headers (gateway/web)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, ServerSentEvent, Template
from litestar.response.sse import ServerSentEventMessage
from pydantic import ValidationError

from contracts.api.analytics import LinkReport, Report
from contracts.dto import MAX_FILTER_ID, ShareLinkFilter, ShareLinkSummary
from contracts.errors import ErrorCode, default_status
from gateway.auth import Membership
from gateway.context import GatewayContext
from gateway.dashboard import forms, sessions
from gateway.dashboard.live import LiveReports
from gateway.dashboard.reports import render_report
from gateway.dashboard.sessions import SignedIn
from gateway.service import reports
from gateway.service.dashboard import PAGE_SIZE, links_with_stats, titles, unavailable
from gateway.service.share_links import create_pack_link, create_track_link, get_link, revoke_link
from gateway.web.pages import origin, page_headers, render
from gateway.web.templating import ENVIRONMENT
from gateway.web.views import Page
from servicekit.errors import ApiError

log = logging.getLogger(__name__)
Req = Request[Any, Any, Any]
KINDS = {"track": "Track", "pack": "Pack", "ref": "Ref code", "split_sheet": "Split sheet"}
Form = Body(media_type=RequestEncodingType.URL_ENCODED)


class SignInRequired(Exception):
    pass


class CsrfRefused(Exception):
    pass


def membership_of(signed_in: SignedIn) -> Membership:
    """The artist acts in their personal organization, which they own."""
    return Membership(signed_in.organization_id, "owner", signed_in.caller)


async def require_session(request: Req, ctx: GatewayContext) -> SignedIn:
    signed_in = await sessions.current(request, ctx)
    if signed_in is None:
        raise SignInRequired
    return signed_in


def check_csrf(signed_in: SignedIn, token: str) -> None:
    if not sessions.same(token, signed_in.csrf):
        raise CsrfRefused


def page(title: str) -> Page:
    return Page(title=f"{title} · Encore", canonical="", noindex=True)


def app_page(
    template: str,
    title: str,
    signed_in: SignedIn | None,
    status: int = 200,
    cookies: list[Cookie] | None = None,
    **context: Any,
) -> Template:
    return render(
        template,
        page(title),
        status,
        cookies=cookies,
        signed_in=signed_in,
        heading=title,
        kinds=KINDS,
        **context,
    )


def on_sign_in_required(request: Req, _: Exception) -> Response[Any]:
    if request.scope["path"].endswith("/events"):
        return Response(b"", status_code=204)  # EventSource stops on 204
    return Redirect("/app/login", status_code=303, headers=page_headers())


def problem_response(status: int, heading: str, text: str) -> Response[bytes]:
    """A problem page from an exception handler (rendered here: no template engine there)."""
    html = ENVIRONMENT.get_template("app/problem.html").render(
        page=page(heading), heading=heading, text=text, signed_in=None, kinds=KINDS
    )
    return Response(
        html.encode(), status_code=status, media_type="text/html", headers=page_headers()
    )


def on_csrf_refused(request: Req, _: Exception) -> Response[bytes]:
    return problem_response(
        403,
        "That form has expired",
        "Go back, reload the page and send it again. (Forms only work from this site.)",
    )


def on_api_error(request: Req, exc: Exception) -> Response[bytes]:
    code = exc.code if isinstance(exc, ApiError) else ErrorCode.INTERNAL_ERROR
    status = default_status(code)
    if status == 404 or code is ErrorCode.VALIDATION_ERROR:
        return problem_response(
            404,
            "Not found",
            "There is nothing of yours here: it may have been deleted. Go back to your links.",
        )
    if status >= 500:
        return problem_response(
            503,
            "Part of the service is down",
            "We couldn't load this right now. Try again in a moment.",
        )
    message = exc.system_message if isinstance(exc, ApiError) else ""
    return problem_response(status, "That didn't work", str(message))


def link_url(base: str, link: ShareLinkSummary) -> str | None:
    """Only a pack link's address can be shown again: a track link's token is stored as a
    hash, its address was shown once, when it was made."""
    if link.kind == "pack" and link.slug:
        return f"{base}/p/{link.slug}"
    return None


def _int(raw: str | None, default: int) -> int:
    try:
        return max(1, int(raw or default))
    except ValueError:
        return default


class DashboardController(Controller):
    path = "/app"
    include_in_schema = False
    exception_handlers = {
        SignInRequired: on_sign_in_required,
        CsrfRefused: on_csrf_refused,
        ApiError: on_api_error,
    }

    @get("/")
    async def home(self) -> Redirect:
        return Redirect("/app/links", status_code=303, headers=page_headers())

    @get("/login")
    async def login_form(self, request: Req, ctx: GatewayContext) -> Template | Redirect:
        if await sessions.current(request, ctx) is not None:
            return Redirect("/app/links", status_code=303, headers=page_headers())
        token = sessions.new_login_token()
        return app_page(
            "app/login.html",
            "Sign in",
            None,
            cookies=[sessions.login_cookie(ctx, token)],
            csrf=token,
            wrong=False,
        )

    @post("/login", status_code=303, request_max_body_size=4096)
    async def login(
        self,
        request: Req,
        ctx: GatewayContext,
        data: Annotated[forms.LoginForm, Form],
    ) -> Template | Redirect:
        if not sessions.same(data.csrf, request.cookies.get(sessions.LOGIN_COOKIE)):
            raise CsrfRefused
        made = await sessions.sign_in(ctx, data.key) if data.key.strip() else None
        if made is None:
            token = sessions.new_login_token()
            return app_page(
                "app/login.html",
                "Sign in",
                None,
                401,
                cookies=[sessions.login_cookie(ctx, token)],
                csrf=token,
                wrong=True,
            )
        raw_id, _ = made
        return Redirect(
            "/app/links",
            status_code=303,
            headers=page_headers(),
            cookies=[
                sessions.session_cookie(ctx, raw_id),
                Cookie(key=sessions.LOGIN_COOKIE, value="", path="/app/login", max_age=0),
            ],
        )

    @post("/logout", status_code=303, request_max_body_size=4096)
    async def logout(
        self, request: Req, ctx: GatewayContext, data: Annotated[forms.CsrfForm, Form]
    ) -> Redirect:
        signed_in = await require_session(request, ctx)
        check_csrf(signed_in, data.csrf)
        await sessions.sign_out(ctx, request)
        return Redirect(
            "/app/login",
            status_code=303,
            headers=page_headers(),
            cookies=[sessions.cleared_session_cookie(ctx)],
        )

    @get("/links")
    async def links(self, request: Req, ctx: GatewayContext) -> Template:
        signed_in = await require_session(request, ctx)
        m = membership_of(signed_in)
        q = request.query_params
        kind = q.get("kind", "") if q.get("kind", "") in KINDS else ""
        track = (q.get("track", "") or "")[:MAX_FILTER_ID]
        pack = (q.get("pack", "") or "")[:MAX_FILTER_ID]
        chosen = ShareLinkFilter.model_validate(
            {"kind": kind or None, "track_id": track or None, "pack_id": pack or None}
        )
        number = _int(q.get("page"), 1)
        (items, total, stats_down), (tracks, packs) = await asyncio.gather(
            links_with_stats(ctx, m, chosen, (number - 1) * PAGE_SIZE), titles(ctx, m)
        )
        filters = {k: v for k, v in (("kind", kind), ("track", track), ("pack", pack)) if v}
        return app_page(
            "app/links.html",
            "Your links",
            signed_in,
            links=items,
            total=total,
            number=number,
            pages=max(1, -(-total // PAGE_SIZE)),
            filters=filters,
            tracks=tracks,
            packs=packs,
            stats_down=stats_down,
            revoked=q.get("revoked") == "1",
        )

    @get("/links/{link_id:str}")
    async def link(self, request: Req, link_id: str, ctx: GatewayContext) -> Template:
        signed_in = await require_session(request, ctx)
        m = membership_of(signed_in)
        found = await get_link(ctx, m, link_id)
        report, fragment = await self._report(ctx, m, "links", link_id)
        tracks, packs = await titles(ctx, m)
        return app_page(
            "app/link.html",
            found.name or KINDS.get(found.kind, "Link"),
            signed_in,
            link=found,
            url=link_url(origin(request, ctx), found),
            report=report,
            fragment=fragment,
            tracks=tracks,
            packs=packs,
        )

    @get("/packs/{pack_id:str}")
    async def pack(self, request: Req, pack_id: str, ctx: GatewayContext) -> Template:
        signed_in = await require_session(request, ctx)
        m = membership_of(signed_in)
        report, fragment = await self._report(ctx, m, "packs", pack_id)
        _, packs = await titles(ctx, m)
        return app_page(
            "app/target.html",
            packs.get(pack_id, "Pack"),
            signed_in,
            kind="pack",
            target_id=pack_id,
            report=report,
            fragment=fragment,
        )

    @get("/tracks/{track_id:str}")
    async def track(self, request: Req, track_id: str, ctx: GatewayContext) -> Template:
        signed_in = await require_session(request, ctx)
        m = membership_of(signed_in)
        report, fragment = await self._report(ctx, m, "tracks", track_id)
        tracks, _ = await titles(ctx, m)
        return app_page(
            "app/target.html",
            tracks.get(track_id, "Track"),
            signed_in,
            kind="track",
            target_id=track_id,
            report=report,
            fragment=fragment,
        )

    async def _report(
        self, ctx: GatewayContext, m: Membership, kind: reports.Kind, target: str
    ) -> tuple[Report | None, str | None]:
        """The report and its fragment, or (None, None) while analytics is down; 404 when
        the owner does not know the target in this organization."""
        try:
            report = await reports.report(ctx, m, kind, target)
        except ApiError as exc:
            if not unavailable(exc):
                raise
            return None, None
        return report, render_report(report)

    @get("/links/{link_id:str}/events")
    async def events(
        self, request: Req, link_id: str, ctx: GatewayContext, live: LiveReports
    ) -> ServerSentEvent:
        """The link's analytics fragment each time it changes (and a comment now and then)."""
        signed_in = await require_session(request, ctx)
        await get_link(ctx, membership_of(signed_in), link_id)  # 404 unless it is theirs

        async def stream() -> AsyncIterator[ServerSentEventMessage]:
            async for fragment in live.subscribe(link_id):
                if fragment is None:
                    yield ServerSentEventMessage(comment="keep-alive")
                else:
                    yield ServerSentEventMessage(data=fragment, event="report")

        headers = page_headers()
        headers["cache-control"] = "no-store"
        headers["x-accel-buffering"] = "no"
        return ServerSentEvent(stream(), headers=headers)

    @post("/links/{link_id:str}/revoke", status_code=303, request_max_body_size=4096)
    async def revoke(
        self,
        request: Req,
        link_id: str,
        ctx: GatewayContext,
        data: Annotated[forms.CsrfForm, Form],
    ) -> Redirect:
        signed_in = await require_session(request, ctx)
        check_csrf(signed_in, data.csrf)
        await revoke_link(ctx, membership_of(signed_in), link_id)
        return Redirect("/app/links?revoked=1", status_code=303, headers=page_headers())

    @get("/new")
    async def new(self, request: Req, ctx: GatewayContext) -> Template:
        signed_in = await require_session(request, ctx)
        tracks, packs = await titles(ctx, membership_of(signed_in))
        q = request.query_params
        return self._new_form(signed_in, tracks, packs, q.get("track", ""), q.get("pack", ""))

    def _new_form(
        self,
        signed_in: SignedIn,
        tracks: dict[str, str],
        packs: dict[str, str],
        track: str = "",
        pack: str = "",
        errors: dict[str, str] | None = None,
        posted: Any = None,
        status: int = 200,
    ) -> Template:
        return app_page(
            "app/new.html",
            "New link",
            signed_in,
            status,
            tracks=tracks,
            packs=packs,
            chosen_track=track,
            chosen_pack=pack,
            errors=errors or {},
            posted=posted,
        )

    @post("/new/track", status_code=200, request_max_body_size=8192)
    async def new_track_link(
        self, request: Req, ctx: GatewayContext, data: Annotated[forms.TrackLinkForm, Form]
    ) -> Template:
        signed_in = await require_session(request, ctx)
        check_csrf(signed_in, data.csrf)
        m = membership_of(signed_in)
        try:
            options = forms.track_link_options(data)
            created = await create_track_link(ctx, m, data.track_id, options)
        except (ValidationError, ValueError) as exc:
            tracks, packs = await titles(ctx, m)
            return self._new_form(
                signed_in, tracks, packs, data.track_id, "", forms.problems(exc), data, 422
            )
        except ApiError as exc:
            if unavailable(exc):
                raise
            tracks, packs = await titles(ctx, m)
            errors = {"track_id": str(exc.system_message)}
            return self._new_form(signed_in, tracks, packs, data.track_id, "", errors, data, 422)
        url = created.url
        return app_page(
            "app/created.html", "Link created", signed_in, 201, link_id=created.id, url=url
        )

    @post("/new/pack", status_code=200, request_max_body_size=8192)
    async def new_pack_link(
        self, request: Req, ctx: GatewayContext, data: Annotated[forms.PackLinkForm, Form]
    ) -> Template:
        signed_in = await require_session(request, ctx)
        check_csrf(signed_in, data.csrf)
        m = membership_of(signed_in)
        try:
            options = forms.pack_link_options(data)
            created = await create_pack_link(ctx, m, data.pack_id, options)
        except (ValidationError, ValueError) as exc:
            tracks, packs = await titles(ctx, m)
            return self._new_form(
                signed_in, tracks, packs, "", data.pack_id, forms.problems(exc), data, 422
            )
        except ApiError as exc:
            if unavailable(exc):
                raise
            tracks, packs = await titles(ctx, m)
            errors = {"pack_id": str(exc.system_message)}
            return self._new_form(signed_in, tracks, packs, "", data.pack_id, errors, data, 422)
        return app_page(
            "app/created.html", "Link created", signed_in, 201, link_id=created.id, url=created.url
        )


def live_reports(ctx: GatewayContext) -> LiveReports:
    """The one poller per watched link, reading what the link page's report reads."""

    async def fetch(link_id: str) -> bytes:
        return await reports.link_report_body(ctx, link_id)

    def rendered(body: bytes) -> str:
        return render_report(LinkReport.model_validate_json(body))

    return LiveReports(fetch, rendered, ctx.settings.dashboard_live_poll_seconds)
