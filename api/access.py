"""Who may call what: API keys, their roles, and which paths need which role.

Three kinds of key come from the settings: ``reader`` (QA_API_KEYS) may ask
and read documents, ``admin`` (QA_ADMIN_KEYS) may also ingest, remove and
reload, and ``widget`` (QA_WIDGET_KEYS) may ask, but only from the pages
(``Origin``) it is bound to — widget keys sit in page source, so the origin is
what makes them worth anything.  Keys are kept only as SHA-256 digests, in the
settings (``name:sha256:<hex>``) or from the moment they are read, and are
compared in constant time.

Paths fall in three classes: public (health, the widget's and the admin page's
files, the API docs), admin (``/v1/admin/…``) and everything else, which needs a reader,
admin or (from an allowed page) widget key unless the ask endpoints are open.

Leaves out: enforcing the decision and rate limits (``api.guard``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from qa.settings import Settings, _origin

Role = Literal["reader", "admin", "widget"]
Need = Literal["public", "reader", "admin"]

PUBLIC_PATHS = frozenset(
    {"/", "/healthz", "/readyz", "/widget.js", "/demo", "/docs", "/redoc", "/openapi.json"}
    | {"/admin", "/admin.js"}  # the admin page's files: no data; its calls need the key
)
PUBLIC_PREFIXES = ("/static/", "/docs/")
ADMIN_PREFIX = "/v1/admin/"
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_HEX = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Key:
    name: str
    role: Role
    digest: bytes
    origins: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Identity:
    """Who made a request: a key's name and role, or an anonymous caller."""

    name: str | None
    role: Role | None


ANONYMOUS = Identity(None, None)


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8")).digest()


def new_key(name: str) -> tuple[str, str]:
    """A fresh secret and its settings entry ``name:sha256:<hex>``."""
    if not _NAME.match(name):
        raise ValueError("a key name is 1-64 letters, digits, '.', '_' or '-'")
    secret = "qa_" + secrets.token_urlsafe(32)
    return secret, f"{name}:sha256:{digest(secret).hex()}"


def parse_key(entry: str, role: Role) -> Key:
    """``name:secret``, ``name:sha256:<hex>``; widget keys add ``@origin|origin``."""
    origins: frozenset[str] = frozenset()
    if role == "widget":
        entry, sep, allowed = entry.partition("@")
        if not sep or not allowed.strip():
            raise ValueError(f"widget key {entry.split(':')[0]!r} names no origins (`@https://…`)")
        origins = frozenset(_origin(o) for o in allowed.split("|") if o.strip())
    name, sep, secret = entry.partition(":")
    if not sep or not _NAME.match(name) or not secret:
        raise ValueError(f"a key must look like `name:secret` (got one named {name[:64]!r})")
    if secret.startswith("sha256:"):
        hexdigest = secret.removeprefix("sha256:").lower()
        if not _HEX.match(hexdigest):
            raise ValueError(f"key {name!r}: sha256: must be followed by 64 hex digits")
        return Key(name, role, bytes.fromhex(hexdigest), origins)
    if len(secret) < 16:
        raise ValueError(f"key {name!r}: secrets must be at least 16 characters long")
    return Key(name, role, digest(secret), origins)


class KeyRing:
    """The configured keys, and whether the ask endpoints are open without one."""

    def __init__(self, keys: list[Key], *, open_ask: bool) -> None:
        self.keys = keys
        self.open_ask = open_ask
        self.admin_enabled = any(k.role == "admin" for k in keys)

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyRing:
        keys = [parse_key(e, "reader") for e in settings.api_keys]
        keys += [parse_key(e, "admin") for e in settings.admin_keys]
        keys += [parse_key(e, "widget") for e in settings.widget_keys]
        names = [k.name for k in keys]
        if len(names) != len(set(names)):
            raise ValueError("two API keys have the same name")
        open_ask = settings.open_ask
        if open_ask is None:
            open_ask = not (settings.api_keys or settings.widget_keys)
        return cls(keys, open_ask=open_ask)

    def identify(self, secret: str | None) -> Key | None:
        if not secret:
            return None
        presented = digest(secret)
        found = None
        for key in self.keys:  # no early exit: the time taken does not depend on the match
            if hmac.compare_digest(key.digest, presented):
                found = key
        return found


def need(path: str) -> Need:
    if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
        return "public"
    if path.startswith(ADMIN_PREFIX) or path == ADMIN_PREFIX.rstrip("/"):
        return "admin"
    return "reader"


def presented_secret(headers: Mapping[str, str]) -> str | None:
    """The key from ``Authorization: Bearer …`` or ``X-API-Key``."""
    auth = headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return headers.get("x-api-key", "").strip() or None
