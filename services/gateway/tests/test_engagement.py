"""The one definition of a person's view (gateway/domain/engagement.py), by real User-Agent strings:
every named preview fetcher and crawler is a preview, current browsers are people, and the
device is parsed into families only."""

from __future__ import annotations

import pytest

from contracts.events import Device
from gateway.domain.engagement import agent, agent_of, preview_reason, raw_agent_and_preview
from servicekit.internal import encode_device

# one real User-Agent per service the SPEC's "humans only" names (issue 17)
PREVIEWERS = {
    "Slack": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "WhatsApp": "WhatsApp/2.23.20.0 A",
    # iMessage builds its card on the sender's device with this composite agent
    "iMessage": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 "
    "(KHTML, like Gecko) Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot "
    "Twitterbot/1.0",
    "Twitter/X": "Twitterbot/1.0",
    "Facebook": "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Discord": "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "Telegram": "TelegramBot (like TwitterBot)",
    "LinkedIn": "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient "
    "+http://www.linkedin.com)",
    "Googlebot": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Microsoft Safe Links (BingPreview)": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) "
    "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/112.0.0.0 Safari/537.36 BingPreview/1.0b",
    "Microsoft Outlook": "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook "
    "16.0.17029; Pro)",
}
# crawlers our list does not name: the maintained library knows them
CRAWLERS = {
    "Ahrefs": "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "curl": "curl/8.5.0",
    "python-httpx": "python-httpx/0.28.1",
}
BROWSERS = {
    "Chrome": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36",
        Device(browser="Chrome", os="Windows", device_class="desktop"),
    ),
    "Safari": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
        Device(browser="Mobile Safari", os="iOS", device_class="mobile"),
    ),
    "Safari on iPad": (
        "Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
        "Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
        Device(browser="Mobile Safari", os="iOS", device_class="tablet"),
    ),
    "Firefox": (
        "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        Device(browser="Firefox", os="Linux", device_class="desktop"),
    ),
    "Chrome on Android": (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Mobile Safari/537.36",
        Device(browser="Chrome Mobile", os="Android", device_class="mobile"),
    ),
}


@pytest.mark.parametrize("name", PREVIEWERS)
def test_each_named_preview_fetcher_is_a_preview(name: str) -> None:
    headers = {"user-agent": PREVIEWERS[name]}
    assert preview_reason("GET", headers) == "preview_fetcher"
    assert agent_of(PREVIEWERS[name]).device.device_class == "bot"


@pytest.mark.parametrize("name", CRAWLERS)
def test_crawlers_the_library_knows_are_bots(name: str) -> None:
    assert preview_reason("GET", {"user-agent": CRAWLERS[name]}) == "bot"


@pytest.mark.parametrize("name", BROWSERS)
def test_current_browsers_are_people_with_their_device(name: str) -> None:
    user_agent, device = BROWSERS[name]
    assert preview_reason("GET", {"user-agent": user_agent}) is None
    assert agent_of(user_agent).device == device


def test_head_and_prefetch_are_previews_whoever_sends_them() -> None:
    chrome = BROWSERS["Chrome"][0]
    assert preview_reason("HEAD", {"user-agent": chrome}) == "head"
    assert preview_reason("GET", {"user-agent": chrome, "sec-purpose": "prefetch"}) == "prefetch"
    assert preview_reason("GET", {"user-agent": chrome, "purpose": "prefetch"}) == "prefetch"
    raw = [(b"user-agent", chrome.encode()), (b"sec-purpose", b"prefetch;prerender")]
    assert raw_agent_and_preview("GET", raw)[1] == "prefetch"
    assert raw_agent_and_preview("GET", raw[:1]) == (agent_of(chrome), None)


def test_no_user_agent_cannot_be_told_and_counts() -> None:
    assert preview_reason("GET", {}) is None
    assert agent_of(None).device == Device(device_class="other")


def test_only_families_leave_the_gateway_and_parses_are_cached() -> None:
    user_agent = BROWSERS["Safari"][0]
    header = agent_of(user_agent).header
    assert header == encode_device(BROWSERS["Safari"][1])
    assert "iPhone OS 18_1" not in header and "AppleWebKit" not in header
    before = agent.cache_info().hits
    agent_of(user_agent)
    assert agent.cache_info().hits == before + 1
    assert agent_of("x" * 10_000) is agent_of("x" * 600)  # cut before parsing and caching
