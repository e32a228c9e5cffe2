"""Gateway configuration, from `ENCORE_*` environment variables."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import Field, IPvAnyNetwork, SecretStr, field_validator
from pydantic_settings import NoDecode

from servicekit.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    optional_secrets: ClassVar[tuple[str, ...]] = ("admin_api_key",)  # unset: no admin API

    catalog_url: str = Field(default="http://127.0.0.1:8101", description="Catalog internal API.")
    public_base_url: str | None = Field(
        default=None,
        description="The public URL people open (https behind the ingress): canonical, "
        "Open Graph and oEmbed URLs of the pages, and whether the access-code cookie is "
        "Secure. Unset (dev): the request's own base URL.",
    )
    sharing_url: str = Field(default="http://127.0.0.1:8102", description="Sharing internal API.")
    analytics_url: str = Field(
        default="http://127.0.0.1:8103", description="Analytics internal API."
    )
    admin_api_key: SecretStr | None = Field(
        default=None, description="Operator key allowed to create users over the API."
    )
    max_upload_bytes: int = Field(default=50 * 1024 * 1024, ge=1, description="Largest upload.")
    max_json_body_bytes: int = Field(
        default=64 * 1024,
        ge=1024,
        description="Largest body of every route that is not an upload (413 above).",
    )
    upstream_timeout_seconds: float = Field(default=10.0, gt=0)
    public_cache_ttl_seconds: float = Field(
        default=30.0, ge=0, description="Upper bound on staleness of cached public catalog reads."
    )
    public_cache_max_entries: int = Field(
        default=10_000, ge=1, description="Most public reads with content kept in the cache."
    )
    public_cache_miss_ttl_seconds: float = Field(
        default=5.0,
        ge=0,
        description="How long a public read that found nothing (a 404, an empty page) is cached.",
    )
    public_cache_max_misses: int = Field(
        default=1_000,
        ge=1,
        description="Most public reads that found nothing kept in the cache, apart from the "
        "others so that misses never push a hit out.",
    )
    track_link_cache_ttl_seconds: float = Field(
        default=10.0,
        ge=0,
        description="Upper bound on how long a revoked track link can still open when "
        "invalidation events stop arriving (0 turns the resolved-link cache off).",
    )
    track_link_stale_seconds: float = Field(
        default=300.0,
        ge=0,
        description="How long past its TTL a cached track link is still served while "
        "sharing cannot be reached at all.",
    )
    visit_drain_seconds: float = Field(
        default=3.0,
        ge=0,
        description="How long a stopping gateway keeps trying to hand its queued track-link "
        "views and listening beacons to sharing.",
    )
    invitation_ttl_days: float = Field(
        default=14.0,
        gt=0,
        description="How long an invitation to join an organization can be accepted.",
    )
    media_max_streams: int = Field(
        default=200,
        ge=1,
        description="Connections to catalog the media proxy may hold at once (its own pool, "
        "apart from the other internal calls); a stream waits up to the upstream timeout "
        "for one, then answers 503.",
    )
    media_streams_per_client: int = Field(
        default=8, ge=1, description="Media streams one client address may have open at once."
    )
    media_stream_max_seconds: float = Field(
        default=900.0,
        gt=0,
        description="Longest a media stream may last; players resume with a Range request.",
    )
    media_stream_min_bytes_per_second: float = Field(
        default=8192.0,
        gt=0,
        description="Slowest average rate a media stream may fall to once its grace period "
        "is over; a slower (or stalled) reader is disconnected.",
    )
    media_stream_grace_seconds: float = Field(
        default=15.0,
        ge=0,
        description="How long a media stream may go before the minimum rate applies.",
    )
    media_access_ttl_seconds: float = Field(
        default=10.0,
        ge=0,
        description="How long the gateway keeps sharing's answer that a link-bound media URL "
        "may be served (revocations seen as events apply at once; 0 asks every time).",
    )
    trusted_proxies: Annotated[tuple[IPvAnyNetwork, ...], NoDecode] = Field(
        default=(),
        description="CIDRs of the proxies in front of the gateway (comma-separated): only "
        "their X-Forwarded-For and X-Request-ID are believed (gateway/clients.py).",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis (or Valkey) holding the guessing limits every replica shares, "
        "e.g. redis://redis:6379/0. Unset: each process keeps its own (one replica only).",
    )
    redis_timeout_seconds: float = Field(
        default=1.0,
        gt=0,
        description="How long a limit check waits for Redis before this replica answers it "
        "from its own memory (see the Security section).",
    )
    failed_lookup_limit: int = Field(
        default=30,
        ge=1,
        description="Link lookups per client per window, counting only links this replica "
        "has not seen found within the window.",
    )
    access_code_attempt_limit: int = Field(
        default=10,
        ge=1,
        description="Access-code attempts per client per window, counting only codes this "
        "replica has not seen accepted for that link within the window.",
    )
    rate_limit_window_seconds: float = Field(default=60.0, gt=0)
    access_code_link_attempt_limit: int = Field(
        default=100,
        ge=1,
        description="Access-code attempts on one pack link, from all clients together, per "
        "access_code_link_window_seconds (counted like access_code_attempt_limit).",
    )
    access_code_link_window_seconds: float = Field(default=3600.0, gt=0)
    anonymous_engagement_limit: int = Field(
        default=300,
        ge=1,
        description="Anonymous engagements (views, previews, plays, downloads, re-shares, "
        "listen beacons) recorded per client address per anonymous_engagement_window_seconds; "
        "beyond it requests are answered as usual and not recorded (docs/web.md, Humans only).",
    )
    anonymous_engagement_window_seconds: float = Field(default=600.0, gt=0)
    dashboard_session_idle_minutes: float = Field(
        default=60.0,
        gt=0,
        description="A dashboard session unused this long is over (sign in again).",
    )
    dashboard_session_max_hours: float = Field(
        default=12.0,
        gt=0,
        description="A dashboard session ends this long after sign-in, however busy.",
    )
    dashboard_live_poll_seconds: float = Field(
        default=1.0,
        gt=0,
        description="How often the one poller per watched link reads its stats for the "
        "live link pages (one poller per link, however many pages are open on it).",
    )

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_cidrs(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value
