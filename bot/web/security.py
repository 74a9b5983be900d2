"""Security helpers for every page: response headers, cookies, tokens and CSRF checks.

Nothing here keeps state in memory: tokens are random, stored hashed in the
database or derived from a cookie, so any worker can check any request.
"""

from __future__ import annotations

import hmac
import re
import secrets

from aiohttp import web

from bot.web.keys import CONFIG_KEY

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # One-time sign-in links are in URLs: never send a URL to another site.
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: the same headers on every response, errors and files included."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    # aiohttp would name itself and its version: no help to anyone but an attacker.
    response.headers["Server"] = "Needs First"
    if is_https(request):
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if not request.path.startswith("/static/"):
        # Pages show a resident's answers or staff data: never keep them in a cache.
        response.headers.setdefault("Cache-Control", "no-store")


def is_https(request: web.Request) -> bool:
    """Served over https: directly, or behind a proxy at an https public URL."""
    return request.secure or request.app[CONFIG_KEY].web.public_url.startswith("https://")


def new_form_key() -> str:
    """An idempotency key for one rendered form: a double submit repeats it."""
    return secrets.token_urlsafe(18)


def valid_form_key(key: object) -> bool:
    return isinstance(key, str) and bool(_KEY.match(key))


def same_token(given: object, expected: str) -> bool:
    """Constant-time comparison of a submitted token with the expected one."""
    if not isinstance(given, str) or not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def set_cookie(response: web.StreamResponse, request: web.Request, name: str, value: str,
               *, max_age: int | None, same_site: str) -> None:  # fmt: skip
    """An HttpOnly cookie for the whole site, Secure whenever the page came over https."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        secure=is_https(request),
        samesite=same_site,
    )
