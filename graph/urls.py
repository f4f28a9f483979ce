"""URL normalisation: the one definition of "the same source" used for ids, de-duplication and the bibliography."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_TRACKING_PREFIXES = ("utm_", "fbclid", "gclid", "mc_", "ref_src")


def normalize_url(url: str) -> str:
    """Lower-case scheme and host, drop `www.`, default ports, fragments, tracking parameters and a trailing slash.

    Two URLs that normalise equal are cited as one bibliography entry. A local file's fragment stays: the ingest
    gives each section of a user's document its anchor (`routine-vacuuming.html#VACUUM-FOR-SPACE-RECOVERY`), and
    two sections of one page are two sources.
    """
    raw = url.strip()
    parts = urlsplit(raw if "://" in raw else f"https://{raw}")
    scheme = (parts.scheme or "https").lower()
    if scheme == "http":
        scheme = "https"
    host = (parts.hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    port = parts.port
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    query = urlencode(
        sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not k.lower().startswith(_TRACKING_PREFIXES))
    )
    path = parts.path.rstrip("/") or ""
    return urlunsplit((scheme, netloc, path, query, parts.fragment if scheme == "file" else ""))
