"""Each link-preview fetcher in contracts.user_agents, by a real User-Agent string it sends."""

from __future__ import annotations

import pytest

from contracts.user_agents import PREVIEW_FETCHERS, is_prefetch, is_preview_fetcher

REAL = {
    "slackbot": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "twitterbot": "Twitterbot/1.0",
    "facebookexternalhit": "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "facebookcatalog": "facebookcatalog/1.0",
    "whatsapp": "WhatsApp/2.23.20.0 A",
    "discordbot": "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "telegrambot": "TelegramBot (like TwitterBot)",
    "linkedinbot": "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "skypeuripreview": "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5",
    "applebot": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
    "redditbot": "Mozilla/5.0 (compatible; redditbot/1.0; +http://www.reddit.com/feedback)",
    "embedly": "Mozilla/5.0 (compatible; Embedly/0.2; +http://support.embed.ly/)",
    "pinterestbot": "Mozilla/5.0 (compatible; Pinterestbot/1.0; +http://www.pinterest.com/bot.html)",
    "mastodon": "http.rb/5.1.1 (Mastodon/4.2.0; +https://mastodon.social/) Bot",
    "googlebot": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "bingbot": "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "bingpreview": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/112.0.0.0 Safari/537.36 BingPreview/1.0b",
    "microsoft office": "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17029; Pro)",
    "ms-office": "Mozilla/4.0 (compatible; ms-office; MSOffice 16)",
}
BROWSERS = [
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
]


def test_every_entry_has_a_real_user_agent() -> None:
    assert set(REAL) == set(PREVIEW_FETCHERS)


@pytest.mark.parametrize("marker", PREVIEW_FETCHERS)
def test_fetcher_is_recognised(marker: str) -> None:
    assert is_preview_fetcher(REAL[marker])


@pytest.mark.parametrize("agent", BROWSERS)
def test_browsers_are_people(agent: str) -> None:
    assert not is_preview_fetcher(agent)
    assert not is_preview_fetcher(None)


def test_prefetch_headers() -> None:
    assert is_prefetch({"sec-purpose": "prefetch;prerender"})
    assert is_prefetch({"purpose": "prefetch"})
    assert not is_prefetch({"accept": "text/html"})
