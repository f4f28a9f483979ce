"""Web search through Exa (exa-py's async client), mapped onto the library's `Source` shape.

Exa answers one POST /search with ranked pages and their text, so one call gives the research loop
citable passages. Every failure of the service (bad key, rate limit, server error, timeout, no
connection, an answer that is not Exa's JSON) becomes an `ExaRequestError` (a `SearchBackendError`,
so a `ProviderError`) naming the endpoint, the HTTP status and whether trying again may help: the
retry policy (providers/retry_policy.py) retries the transient ones, then the section is reported
as missing. exa-py does not retry and nothing here does, so timeouts are kept short: a slow Exa must
cost a section seconds, not minutes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import re
import weakref
from collections.abc import Sequence
from typing import Any

import httpx
from exa_py import AsyncExa, ExaTimeoutError

from nexa_research.config import ResearchConfig
from nexa_research.errors import ResearchInputError, SearchBackendError
from nexa_research.providers.search.protocol import make_source
from nexa_research.providers.settings import ProviderSettings
from nexa_research.state import Source

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.exa.ai"
DEFAULT_EXCLUDED_DOMAINS: tuple[str, ...] = ("reddit.com", "twitter.com")
DEFAULT_TIMEOUT_SECONDS = 15.0
MAX_TEXT_CHARACTERS = 2000
SEARCH_TYPE = "neural"

# exa-py reports an HTTP error status only inside a ValueError message.
_STATUS_IN_MESSAGE = re.compile(r"status code (\d{3})")
_FILTER_KEYS = {"published_after", "published_before", "source"}


class ExaRequestError(SearchBackendError):
    """Exa could not answer. `status` is the HTTP status when there was one (None for a timeout or no
    connection), so a caller can tell a bad key (401) from an outage (5xx); `transient` follows from it
    unless given (an answer that is not Exa's JSON is not worth repeating)."""

    def __init__(self, message: str, *, status: int | None, endpoint: str, transient: bool | None = None) -> None:
        super().__init__(message, role="search", endpoint=endpoint, status=status, transient=transient)


class ExaSearch:
    """`SearchBackend` over Exa neural search with page text (at most 2,000 characters per result).

    One `AsyncExa` client is kept per event loop: its HTTPX connection pool belongs to the loop that
    opened it, and a backend is reused across runs that may each bring their own loop.
    """

    name = "exa"

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        exclude_domains: Sequence[str] = DEFAULT_EXCLUDED_DOMAINS,
        max_characters: int = MAX_TEXT_CHARACTERS,
    ) -> None:
        if not api_key or not api_key.strip():
            raise ResearchInputError("Exa search: EXA_API_KEY is not set (or empty)")
        if timeout_seconds <= 0:
            raise ResearchInputError(f"Exa search: timeout_seconds must be positive, got {timeout_seconds}")
        if not 1 <= max_characters <= MAX_TEXT_CHARACTERS:
            raise ResearchInputError(
                f"Exa search: max_characters must be 1..{MAX_TEXT_CHARACTERS}, got {max_characters}"
            )
        self._api_key = api_key.strip()
        self.base_url = base_url.rstrip("/")
        self.endpoint = f"{self.base_url}/search"
        self.timeout_seconds = float(timeout_seconds)
        self.exclude_domains = [d.strip() for d in exclude_domains if d and d.strip()]
        self.max_characters = max_characters
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncExa] = weakref.WeakKeyDictionary()

    def __repr__(self) -> str:  # never show the key
        return f"ExaSearch(endpoint={self.endpoint!r}, timeout_seconds={self.timeout_seconds})"

    def _client(self) -> AsyncExa:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = AsyncExa(api_key=self._api_key, api_base=self.base_url, timeout=self.timeout_seconds)
            self._clients[loop] = client
        return client

    async def aclose(self) -> None:
        """Close the connections this backend opened on the running loop."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()

    def request_options(self, k: int, filters: dict[str, Any] | None) -> dict[str, Any]:
        """The keyword arguments passed to `AsyncExa.search`: neural search, page text, domain and date limits."""
        if k < 1:
            raise ResearchInputError(f"Exa search: k must be at least 1, got {k}")
        filters = {key: value for key, value in (filters or {}).items() if value is not None}
        unknown = sorted(set(filters) - _FILTER_KEYS)
        if unknown:
            raise ResearchInputError(
                f"Exa search: unknown filter(s) {', '.join(unknown)}; known: {', '.join(sorted(_FILTER_KEYS))}"
            )
        options: dict[str, Any] = {
            "type": SEARCH_TYPE,
            "num_results": k,
            "contents": {"text": {"max_characters": self.max_characters}},
        }
        if self.exclude_domains:
            options["exclude_domains"] = list(self.exclude_domains)
        if "published_after" in filters:
            options["start_published_date"] = _iso_date(filters["published_after"], "published_after")
        if "published_before" in filters:
            options["end_published_date"] = _iso_date(filters["published_before"], "published_before")
        # `source` picks among the local knowledge base's corpora; the web has no such origin to filter on.
        return options

    async def search(self, query: str, k: int, filters: dict[str, Any] | None = None) -> list[Source]:
        query = " ".join((query or "").split())
        if not query:
            raise ResearchInputError("Exa search: query must not be empty")
        options = self.request_options(k, filters)
        try:
            async with asyncio.timeout(self.timeout_seconds):
                response = await self._client().search(query, timeout=self.timeout_seconds, **options)
        except (ExaTimeoutError, httpx.TimeoutException, TimeoutError) as exc:
            message = f"Exa search at {self.endpoint}: no answer within {self.timeout_seconds:g}s (timed out)"
            raise ExaRequestError(message, status=None, endpoint=self.endpoint) from exc
        except httpx.TransportError as exc:
            raise ExaRequestError(
                f"Exa search at {self.endpoint}: could not reach the service ({type(exc).__name__}: {exc})",
                status=None,
                endpoint=self.endpoint,
            ) from exc
        except ValueError as exc:
            failure = self._describe_failure(exc)
            if failure is None:
                raise
            raise failure from exc
        except KeyError as exc:
            raise ExaRequestError(
                f"Exa search at {self.endpoint}: response lacks the field {exc}",
                status=None, endpoint=self.endpoint, transient=False,
            ) from exc
        return self._to_sources(response.results, k)

    def _describe_failure(self, exc: ValueError) -> ExaRequestError | None:
        """Turn exa-py's ValueError for an error status or a non-JSON body into an `ExaRequestError`.

        Any other ValueError (an option the client rejected before sending) is a bug here: None, so the
        caller re-raises it rather than passing it off as an outage.
        """
        text = str(exc)
        match = _STATUS_IN_MESSAGE.search(text)
        if match is None:
            if text.startswith("Expected a JSON response"):
                return ExaRequestError(
                    f"Exa search at {self.endpoint}: {text}", status=None, endpoint=self.endpoint, transient=False
                )
            return None
        status = int(match.group(1))
        detail = _error_detail(text[match.end() :].lstrip(": "))
        if status in (401, 403):
            what = f"the API key was rejected (HTTP {status}): check EXA_API_KEY"
        elif status == 402:
            what = f"the account has no credits left (HTTP {status})"
        elif status == 429:
            what = f"rate limited (HTTP {status}): too many requests for this key"
        elif status >= 500:
            what = f"Exa server error (HTTP {status})"
        else:
            what = f"request refused (HTTP {status})"
        message = f"Exa search at {self.endpoint}: {what}" + (f": {detail}" if detail else "")
        return ExaRequestError(message, status=status, endpoint=self.endpoint)

    def _to_sources(self, results: Sequence[Any], k: int) -> list[Source]:
        """Results without a URL or without text cannot back a citation, so they are left out (and logged)."""
        sources: list[Source] = []
        for result in results[:k]:
            url = (getattr(result, "url", None) or "").strip()
            text = (getattr(result, "text", None) or "").strip()[: self.max_characters]
            if not url or not text:
                logger.debug("Exa result skipped (no %s): %r", "url" if not url else "text", url or result)
                continue
            published = (getattr(result, "published_date", None) or "").strip() or None
            sources.append(
                make_source(
                    url=url,
                    title=getattr(result, "title", None) or "",
                    text=text,
                    score=float(getattr(result, "score", None) or 0.0),
                    published=published,
                )
            )
        return sources


def _iso_date(value: Any, field: str) -> str:
    """Exa takes ISO 8601 dates; accept date/datetime objects and ISO strings, refuse anything else."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError as exc:
            raise ResearchInputError(f"Exa search: filter {field}={value!r} is not an ISO 8601 date") from exc
        return value.strip()
    raise ResearchInputError(
        f"Exa search: filter {field} must be a date or ISO 8601 string, got {type(value).__name__}"
    )


def _error_detail(body: str) -> str:
    """The `error` message (and `tag`) of Exa's JSON error body, else the body itself, kept short."""
    try:
        parsed = json.loads(body)
    except json.JSONDecodeError:
        return " ".join(body.split())[:300]
    if isinstance(parsed, dict) and parsed.get("error"):
        tag = f" [{parsed['tag']}]" if parsed.get("tag") else ""
        return f"{str(parsed['error'])[:300]}{tag}"
    return " ".join(body.split())[:300]


def backend_from_settings(cfg: ResearchConfig, settings: ProviderSettings) -> ExaSearch:
    """Registry entry point for `search_backend="exa"`: key from EXA_API_KEY, endpoint from NEXA_EXA_BASE_URL."""
    key = settings.exa_api_key.get_secret_value() if settings.exa_api_key else ""
    if not key.strip():
        raise ResearchInputError("search_backend 'exa' needs an API key: EXA_API_KEY is not set")
    return ExaSearch(key, base_url=settings.exa_base_url or DEFAULT_BASE_URL)
