"""The Web API client: Slack's own retry handlers, pointed at SLACK_API_URL when set."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.config import Settings

DEFAULT_API_URL = WebClient.BASE_URL


def retry_handlers(max_retries: int = 3) -> list:
    # Honour Retry-After on 429, back off on 5xx and dropped connections; slack_sdk's own code.
    return [
        RateLimitErrorRetryHandler(max_retry_count=max_retries),
        ServerErrorRetryHandler(max_retry_count=max_retries),
        ConnectionErrorRetryHandler(max_retry_count=max_retries),
    ]


def build_web_client(settings: Settings, *, token: str | None = None, timeout: int = 15) -> WebClient:
    return WebClient(
        # With OAuth each workspace has its own token, passed per call; no default token then.
        token=token or (None if settings.oauth_enabled else settings.slack_bot_token),
        base_url=settings.slack_api_url or DEFAULT_API_URL,
        timeout=timeout,
        retry_handlers=retry_handlers(),
    )
