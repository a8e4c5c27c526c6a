"""The course's weather API, as a local sandbox service.

FastAPI + PyJWT. Every /api route demands an Entra-style v2 access token,
validated for real (RS256 only, against the identity provider's JWKS, with
issuer, audience and expiry checks), then authorised the way the course does
it: a delegated token must carry the scope in `scp` (space-delimited), an app
token (no `scp`) must carry it in `roles`.

Weather values come from a deterministic offline source (a hash of city,
state, country and the UTC date), so no network is needed.

Start from the repo root:

    tests/sandbox/.venv/bin/python tests/sandbox/api/server.py

Configuration (environment):
    API_PORT                 port (default 5557), bound on 127.0.0.1 and ::1
    JWKS_URL                 provider's key set (fetched lazily, cached)
    JWKS_CA_FILE             PEM file of the CA(s) to trust for an https JWKS_URL
                             instead of the system's (e.g. the sandbox's own
                             tests/sandbox/.tls/cert.pem); verification stays on
    ISSUER                   expected `iss`
    AUDIENCE                 expected `aud` (comma-separated for several)
    CORS_ORIGINS             allowed browser origins (comma-separated)
    JWKS_REFRESH_COOLDOWN    min seconds between forced JWKS refetches
                             triggered by an unknown `kid` (default 1)

Tokens are never logged: the access log holds method, path and status only.

Test-only admin endpoints live under /__sandbox/ (loopback clients, loopback
Host header, no Origin header): see README.md next to this file.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import collections
import dataclasses
import datetime
import errno
import hashlib
import ipaddress
import json
import os
import re
import signal
import socket
import ssl
import sys
import threading
import uuid
from typing import Any, Callable
from urllib.parse import unquote_to_bytes

import jwt
import uvicorn
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.middleware.cors import CORSMiddleware
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TENANT_ID = "3f8d0c2a-5b1e-4c7d-9a6f-2e4b8c1d7a90"
API_CLIENT_ID = "c2a9e7d1-4b3f-4e8a-b6d5-1f7a3c9e2b80"
DEFAULT_ISSUER = f"http://localhost:5556/{TENANT_ID}/v2.0"
DEFAULT_JWKS_URL = f"http://localhost:5556/{TENANT_ID}/discovery/v2.0/keys"
DEFAULT_PORT = 5557
DEFAULT_CORS_ORIGINS = ("http://localhost:8080",)

READ_SCOPE = "weather.read"
WRITE_SCOPE = "weather.write"
LEEWAY_SECONDS = 60
MAX_REPORTS = 1000

# The course builds the message from a Python set literal; its repr order is
# not stable across runs, so the text is fixed here in declaration order.
VALID_UNITS = ("standard", "metric", "imperial")
VALID_UNITS_TEXT = "{'standard', 'metric', 'imperial'}"

_CLAIMS_VALUE = re.compile(r"^[A-Za-z0-9+/=_-]{1,8192}$")

# One-shot hostile responses (POST /__sandbox/next-failure).
FAILURE_KINDS = ("invalid_token", "insufficient_claims", "redirect", "body", "status", "delay")
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
MAX_DELAY_SECONDS = 120
MAX_RAW_BODY = 5 * 1024 * 1024
MAX_SINK_RECORDS = 1000
SINK_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$")
_FORBIDDEN_HEADERS = {
    "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade",
    "trailer", "te", "content-type",
}


def _split_env(value: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    if value is None:
        return default
    items = tuple(v.strip() for v in value.split(",") if v.strip())
    return items or default


@dataclasses.dataclass(frozen=True)
class Settings:
    jwks_url: str = DEFAULT_JWKS_URL
    issuer: str = DEFAULT_ISSUER
    audiences: tuple[str, ...] = (API_CLIENT_ID,)
    cors_origins: tuple[str, ...] = DEFAULT_CORS_ORIGINS
    jwks_refresh_cooldown: float = 1.0
    jwks_timeout: float = 5.0
    jwks_ca_file: str | None = None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        env = dict(os.environ if env is None else env)
        return cls(
            jwks_url=env.get("JWKS_URL") or DEFAULT_JWKS_URL,
            issuer=env.get("ISSUER") or DEFAULT_ISSUER,
            audiences=_split_env(env.get("AUDIENCE"), (API_CLIENT_ID,)),
            cors_origins=_split_env(env.get("CORS_ORIGINS"), DEFAULT_CORS_ORIGINS),
            jwks_refresh_cooldown=float(env.get("JWKS_REFRESH_COOLDOWN") or 1.0),
            jwks_ca_file=env.get("JWKS_CA_FILE") or None,
        )


# --------------------------------------------------------------------------
# Weather: the course's validation, and a deterministic offline source.
# --------------------------------------------------------------------------


class ValidationError(Exception):
    def __init__(self, error_msg: str, status_code: int = 400) -> None:
        super().__init__(error_msg)
        self.error_msg = error_msg
        self.status_code = status_code


def validate_units(
    city: str, state: str | None, country: str | None, units: str | None
) -> tuple[str, str | None, str, str]:
    """The course's `validate_units`, message for message."""
    city = city.lower().strip()
    if not country:
        country = "us"
    else:
        country = country.lower().strip()

    if len(country) != 2:
        error = f"Invalid country: {country}. It must be a two letter abbreviation such as US or GB."
        raise ValidationError(error)

    if state:
        state = state.strip().lower()

    if state and len(state) != 2:
        error = f"Invalid state: {state}. It must be a two letter abbreviation such as CA or KS (use for US only)."
        raise ValidationError(error)

    if units:
        units = units.strip().lower()

    if units not in VALID_UNITS:
        error = f"Invalid units '{units}', it must be one of {VALID_UNITS_TEXT}."
        raise ValidationError(error)

    return city, state, country, units


def _kelvin_to(units: str, kelvin: float) -> float:
    if units == "standard":
        value = kelvin
    elif units == "metric":
        value = kelvin - 273.15
    else:  # imperial
        value = (kelvin - 273.15) * 9.0 / 5.0 + 32.0
    return round(value, 2)


def weather_report(
    city: str, state: str | None, country: str, units: str, day: datetime.date
) -> dict[str, float | int]:
    """OpenWeather's `main` block for (city, state, country, day), in `units`."""
    key = "\x1f".join((city, state or "", country, day.isoformat())).encode("utf-8")
    digest = hashlib.sha256(key).digest()

    def frac(i: int) -> float:
        return int.from_bytes(digest[4 * i : 4 * i + 4], "big") / 2**32

    temp = 250.0 + 60.0 * frac(0)  # 250..310 K
    feels_like = temp + (6.0 * frac(1) - 3.0)  # within 3 K
    temp_min = temp - 8.0 * frac(2)
    temp_max = temp + 8.0 * frac(3)
    pressure = 980 + int(61 * frac(4))  # 980..1040 hPa
    humidity = 10 + int(91 * frac(5))  # 10..100 %
    return {
        "temp": _kelvin_to(units, temp),
        "feels_like": _kelvin_to(units, feels_like),
        "temp_min": _kelvin_to(units, temp_min),
        "temp_max": _kelvin_to(units, temp_max),
        "pressure": pressure,
        "humidity": humidity,
    }


def _text(body: str, status_code: int) -> PlainTextResponse:
    return PlainTextResponse(body, status_code=status_code)


# --------------------------------------------------------------------------
# Tokens
# --------------------------------------------------------------------------


def _challenge(error: str, **params: str) -> str:
    parts = [f'error="{error}"'] + [f'{k}="{v}"' for k, v in params.items()]
    return "Bearer " + ", ".join(parts)


def _invalid_token(description: str) -> HTTPException:
    # Descriptions are fixed strings: no token content, no quotes.
    return HTTPException(
        status_code=401,
        detail=description,
        headers={"WWW-Authenticate": _challenge("invalid_token", error_description=description)},
    )


class TokenValidator:
    """RS256 access-token validation against a lazily fetched, cached JWKS."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # An https JWKS_URL is verified against the system's CAs, or only against
        # JWKS_CA_FILE when set (the sandbox's self-signed certificate). Never
        # unverified. Loading the file here makes a missing one fail at start-up.
        ssl_context = (
            ssl.create_default_context(cafile=settings.jwks_ca_file)
            if settings.jwks_ca_file
            else None
        )
        # Constructing the client fetches nothing; the first token does.
        self.jwks = jwt.PyJWKClient(
            settings.jwks_url,
            cache_jwk_set=True,
            lifespan=300,
            timeout=settings.jwks_timeout,
            cooldown_duration=settings.jwks_refresh_cooldown,
            ssl_context=ssl_context,
        )

    def validate(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise _invalid_token("The token is malformed") from None
        if header.get("alg") != "RS256":
            raise _invalid_token("The token algorithm is not allowed")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise _invalid_token("The token has no key id")

        try:
            # Upstream problems first (unreachable provider, bad key set) ...
            self.jwks.get_signing_keys()
        except (jwt.PyJWKClientError, jwt.PyJWKSetError):
            raise HTTPException(
                status_code=503, detail="The signing keys are unavailable"
            ) from None
        try:
            # ... then the token's own key id (refetched once if unknown).
            signing_key = self.jwks.get_signing_key(kid)
        except jwt.PyJWKClientConnectionError:
            raise HTTPException(
                status_code=503, detail="The signing keys are unavailable"
            ) from None
        except (jwt.PyJWKClientError, jwt.PyJWKSetError):
            raise _invalid_token("The token signing key is unknown") from None

        try:
            return jwt.decode(
                token,
                key=signing_key.key,
                algorithms=["RS256"],
                audience=list(self.settings.audiences),
                issuer=self.settings.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise _invalid_token("The token has expired") from None
        except jwt.InvalidAudienceError:
            raise _invalid_token("The token audience is invalid") from None
        except jwt.InvalidIssuerError:
            raise _invalid_token("The token issuer is invalid") from None
        except jwt.ImmatureSignatureError:
            raise _invalid_token("The token is not yet valid") from None
        except jwt.MissingRequiredClaimError:
            raise _invalid_token("The token is missing a required claim") from None
        except jwt.InvalidSignatureError:
            raise _invalid_token("The token signature is invalid") from None
        except (jwt.PyJWTError, ValueError, TypeError):
            raise _invalid_token("The token is invalid") from None


def granted_permissions(claims: dict[str, Any]) -> set[str]:
    """Delegated tokens: `scp` (space-delimited). App tokens: `roles`."""
    if "scp" in claims:
        scp = claims["scp"]
        return set(scp.split()) if isinstance(scp, str) else set()
    roles = claims.get("roles")
    if isinstance(roles, list):
        return {r for r in roles if isinstance(r, str)}
    return set()


# --------------------------------------------------------------------------
# Sandbox state (reports, one-shot failures, counters)
# --------------------------------------------------------------------------


class SandboxState:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reports: list[dict[str, Any]] = []
        self.failures: collections.deque[dict[str, Any]] = collections.deque()
        self.requests = 0
        self.by_status: collections.Counter[str] = collections.Counter()
        self.sink: list[dict[str, Any]] = []

    def reset(self) -> None:
        with self.lock:
            self.reports.clear()
            self.failures.clear()
            self.requests = 0
            self.by_status.clear()
            self.sink.clear()

    def take_failure(self) -> dict[str, Any] | None:
        with self.lock:
            return self.failures.popleft() if self.failures else None

    def record_sink(self, record: dict[str, Any]) -> None:
        with self.lock:
            self.sink.append(record)
            del self.sink[: max(0, len(self.sink) - MAX_SINK_RECORDS)]

    def sink_log(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.sink)

    def count(self, status: int) -> None:
        with self.lock:
            self.requests += 1
            self.by_status[str(status)] += 1

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {"requests": self.requests, "by_status": dict(self.by_status)}


class SandboxResponse(Exception):
    """Raised by the auth dependency to answer with a hostile response as is."""

    def __init__(self, response: Response) -> None:
        super().__init__("sandbox hostile response")
        self.response = response


class FailureSpecError(ValueError):
    pass


def _int_field(body: dict[str, Any], name: str, default: int | None = None) -> int:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise FailureSpecError(f"{name} must be an integer")
    return value


def _str_field(body: dict[str, Any], name: str, default: str | None = None, limit: int = 4096) -> str:
    value = body.get(name, default)
    if not isinstance(value, str):
        raise FailureSpecError(f"{name} must be a string")
    if len(value.encode("utf-8")) > limit:
        raise FailureSpecError(f"{name} is too long (max {limit} bytes)")
    return value


def _header_value_ok(value: str) -> bool:
    return not any(c in value for c in "\r\n\x00")


def _extra_headers(body: dict[str, Any]) -> dict[str, str]:
    headers = body.get("headers", {})
    if not isinstance(headers, dict):
        raise FailureSpecError("headers must be an object of name: value strings")
    out: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(value, str) or not _HEADER_NAME.match(name) or not _header_value_ok(value) or len(value) > 8192:
            raise FailureSpecError(f"invalid header {name!r}")
        if name.lower() in _FORBIDDEN_HEADERS:
            raise FailureSpecError(f"header {name!r} cannot be set (use content_type for Content-Type)")
        out[name] = value
    return out


def parse_failure(body: Any) -> dict[str, Any]:
    """Validates a POST /__sandbox/next-failure body; returns the queued failure."""
    if not isinstance(body, dict):
        raise FailureSpecError("The body must be a JSON object")
    kind = body.get("kind")
    if kind == "invalid_token":
        return {"kind": kind}
    if kind == "insufficient_claims":
        claims = body.get("claims")
        if not isinstance(claims, str) or not _CLAIMS_VALUE.match(claims):
            raise FailureSpecError("claims must be a base64 string")
        return {"kind": kind, "claims": claims}
    if kind == "redirect":
        to = _str_field(body, "to")
        if not re.match(r"^https?://[^/\s]", to) or not _header_value_ok(to) or any(c.isspace() for c in to):
            raise FailureSpecError("to must be an absolute http(s) URL")
        status = _int_field(body, "status", 302)
        if status not in REDIRECT_STATUSES:
            raise FailureSpecError(f"status must be one of {list(REDIRECT_STATUSES)}")
        return {"kind": kind, "to": to, "status": status}
    if kind in ("body", "status"):
        status = _int_field(body, "status", 200 if kind == "body" else None)
        if not 200 <= status <= 599:
            raise FailureSpecError("status must be between 200 and 599")
        if kind == "body" and "body" not in body:
            raise FailureSpecError("body (a string) is required")
        raw = _str_field(body, "body", "", limit=MAX_RAW_BODY)
        if status in (204, 205, 304) and raw:
            raise FailureSpecError(f"a {status} response has no body")
        default_type = "application/json" if kind == "body" else "text/plain; charset=utf-8"
        content_type = _str_field(body, "content_type", default_type, limit=256)
        if not _header_value_ok(content_type):
            raise FailureSpecError("invalid content_type")
        return {
            "kind": kind,
            "status": status,
            "content_type": content_type,
            "body": raw,
            "headers": _extra_headers(body),
        }
    if kind == "delay":
        seconds = body.get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 < seconds <= MAX_DELAY_SECONDS:
            raise FailureSpecError(f"seconds must be a number in (0, {MAX_DELAY_SECONDS}]")
        return {"kind": kind, "seconds": float(seconds)}
    raise FailureSpecError("kind must be one of " + ", ".join(FAILURE_KINDS))


def _hostile_response(failure: dict[str, Any]) -> Response:
    if failure["kind"] == "redirect":
        return Response(status_code=failure["status"], headers={"Location": failure["to"]})
    headers = {**failure["headers"], "Content-Type": failure["content_type"]}
    return Response(
        content=failure["body"].encode("utf-8"),
        status_code=failure["status"],
        headers=headers,
    )


def _failure_exception(failure: dict[str, Any]) -> HTTPException:
    if failure["kind"] == "insufficient_claims":
        return HTTPException(
            status_code=401,
            detail="Additional claims are required",
            headers={
                "WWW-Authenticate": _challenge(
                    "insufficient_claims", claims=failure["claims"]
                )
            },
        )
    return _invalid_token("The token was rejected")


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "[::1]"}


def _is_loopback_host_header(host: str | None) -> bool:
    if not host:
        return False
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return name.lower() in _LOOPBACK_HOSTS


# --------------------------------------------------------------------------
# Application
# --------------------------------------------------------------------------


class _ApiOnlyCORS:
    """CORS for /api only, and only for the allowed origins.

    The admin endpoints never answer a browser, and a request from any other
    origin is served with no CORS headers at all (Starlette alone would still
    add Access-Control-Expose-Headers, and answer its preflight with
    Access-Control-Allow-Methods/-Headers).
    """

    def __init__(self, app: ASGIApp, **cors: Any) -> None:
        self.plain = app
        self.origins = set(cors.get("allow_origins", ()))
        self.cors = CORSMiddleware(app, **cors)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not (
            scope["path"] == "/api" or scope["path"].startswith("/api/")
        ):
            await self.plain(scope, receive, send)
            return
        origin = Headers(scope=scope).get("origin")
        if origin is None or origin in self.origins:
            await self.cors(scope, receive, send)
            return

        async def send_with_vary(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).add_vary_header("Origin")
            await send(message)

        await self.plain(scope, receive, send_with_vary)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    validator = TokenValidator(settings)
    sandbox = SandboxState()

    app = FastAPI(
        title="Nimbus sandbox weather API",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings
    app.state.validator = validator
    app.state.sandbox = sandbox

    def require(permission: str) -> Callable[[Request], dict[str, Any]]:
        # A sync dependency: FastAPI runs it in a worker thread, so a JWKS
        # fetch never blocks the event loop.
        def dependency(request: Request) -> dict[str, Any]:
            authorization = request.headers.get("authorization")
            if authorization is None:
                raise HTTPException(
                    status_code=401,
                    detail="Bearer token required",
                    headers={"WWW-Authenticate": "Bearer"},
                )
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer":
                raise HTTPException(
                    status_code=401,
                    detail="Bearer token required",
                    headers={"WWW-Authenticate": "Bearer"},
                )
            token = token.strip()
            if not token or " " in token:
                raise _invalid_token("The token is malformed")

            claims = validator.validate(token)

            failure = sandbox.take_failure()
            if failure is not None:
                if failure["kind"] in ("invalid_token", "insufficient_claims"):
                    raise _failure_exception(failure)
                if failure["kind"] == "delay":
                    # Answered normally; count_api_requests holds the response back.
                    request.scope["nimbus.sandbox_delay"] = failure["seconds"]
                else:
                    raise SandboxResponse(_hostile_response(failure))

            if permission not in granted_permissions(claims):
                raise HTTPException(
                    status_code=403,
                    detail=f"The token lacks the {permission} permission",
                    headers={
                        "WWW-Authenticate": _challenge(
                            "insufficient_scope", scope=permission
                        )
                    },
                )
            return claims

        return dependency

    can_read = Depends(require(READ_SCOPE))
    can_write = Depends(require(WRITE_SCOPE))

    @app.exception_handler(SandboxResponse)
    async def sandbox_response(request: Request, exc: SandboxResponse):
        return exc.response

    @app.middleware("http")
    async def count_api_requests(request: Request, call_next):
        response = await call_next(request)
        delay = request.scope.get("nimbus.sandbox_delay")
        if delay:
            await asyncio.sleep(delay)
        path = request.url.path
        is_preflight = request.method == "OPTIONS" and (
            "access-control-request-method" in request.headers
        )
        if (path == "/api" or path.startswith("/api/")) and not is_preflight:
            sandbox.count(response.status_code)
        return response

    @app.get("/api/weather/{city:path}", dependencies=[can_read])
    async def weather(
        request: Request,
        city: str,
        state: str | None = None,
        country: str | None = "US",
        units: str | None = "metric",
    ):
        # The city is one percent-encoded path segment. Take it from the raw
        # path so an encoded "/" stays part of the name and a literal "/"
        # (two segments) is not a city at all.
        raw_path = request.scope.get("raw_path")
        if raw_path is not None:
            prefix = b"/api/weather/"
            segment = raw_path[len(prefix) :] if raw_path.startswith(prefix) else b""
            if not segment or b"/" in segment:
                return JSONResponse({"detail": "Not Found"}, status_code=404)
            try:
                city = unquote_to_bytes(segment).decode("utf-8")
            except UnicodeDecodeError:
                return _text("Invalid city: it is not valid UTF-8.", 400)
        elif not city or "/" in city:
            return JSONResponse({"detail": "Not Found"}, status_code=404)

        try:
            city, state, country, units = validate_units(city, state, country, units)
        except ValidationError as ve:
            return _text(ve.error_msg, ve.status_code)
        if not city:
            return _text("Invalid city: it must not be empty.", 400)
        if city == "error500":
            return _text("Weather service unavailable.", 500)

        today = datetime.datetime.now(datetime.timezone.utc).date()
        return weather_report(city, state, country, units, today)

    @app.get("/api/reports", dependencies=[can_read])
    async def reports_get():
        with sandbox.lock:
            return list(sandbox.reports)

    @app.post("/api/reports", dependencies=[can_write], status_code=201)
    async def reports_post(request: Request):
        try:
            body = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            return _text("The body must be a JSON object.", 400)
        if not isinstance(body, dict):
            return _text("The body must be a JSON object.", 400)

        description = body.get("description")
        if not isinstance(description, str) or not description.strip():
            return _text("A description is required.", 400)

        location = body.get("location")
        if not isinstance(location, dict):
            return _text("A location with a city is required.", 400)
        city = location.get("city")
        if not isinstance(city, str) or not city.strip():
            return _text("A location with a city is required.", 400)
        loc_state = location.get("state")
        if loc_state is not None and not isinstance(loc_state, str):
            return _text("The location's state must be a string.", 400)
        country = location.get("country", "US")
        if country is None:
            country = "US"
        if not isinstance(country, str):
            return _text("The location's country must be a string.", 400)

        report = {
            "id": str(uuid.uuid4()),
            "description": description,
            "location": {"city": city, "state": loc_state, "country": country},
            "created_date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        }
        with sandbox.lock:
            sandbox.reports.insert(0, report)
            del sandbox.reports[MAX_REPORTS:]
        return JSONResponse(report, status_code=201)

    # ---- test-only admin endpoints --------------------------------------

    def admin_only(request: Request) -> None:
        client = request.client.host if request.client else None
        if (
            not _is_loopback(client)
            or "origin" in request.headers
            or not _is_loopback_host_header(request.headers.get("host"))
        ):
            raise HTTPException(
                status_code=403,
                detail="Sandbox admin endpoints are for local test tools only",
            )

    admin = [Depends(admin_only)]

    @app.post("/__sandbox/next-failure", dependencies=admin)
    async def next_failure(request: Request):
        try:
            body = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            body = None
        try:
            failure = parse_failure(body)
        except FailureSpecError as e:
            return JSONResponse({"detail": str(e)}, status_code=400)
        with sandbox.lock:
            sandbox.failures.append(failure)
            pending = len(sandbox.failures)
        return {"pending": pending}

    @app.post("/__sandbox/reset", dependencies=admin)
    async def reset():
        sandbox.reset()
        return {"ok": True}

    @app.get("/__sandbox/stats", dependencies=admin)
    async def stats():
        return sandbox.stats()

    # ---- the "attacker": a place to point hostile redirects at ---------

    cors_origins = set(settings.cors_origins)

    @app.api_route("/__sandbox/sink", methods=list(SINK_METHODS))
    @app.api_route("/__sandbox/sink/{rest:path}", methods=list(SINK_METHODS))
    async def sink(request: Request):
        authorization = request.headers.get("authorization")
        body = await request.body()
        origin = request.headers.get("origin")
        sandbox.record_sink(
            {
                "time": datetime.datetime.now(datetime.timezone.utc).isoformat(),
                "method": request.method,
                "path": request.url.path,
                "query": request.scope.get("query_string", b"").decode("latin-1"),
                "authorization": authorization is not None,
                "authorization_prefix": authorization[:10] if authorization is not None else None,
                "origin": origin,
                "body_length": len(body),
            }
        )
        headers = {"Vary": "Origin", "Cache-Control": "no-store"}
        if origin in cors_origins:
            headers["Access-Control-Allow-Origin"] = origin
        if request.method == "OPTIONS":
            if origin in cors_origins:
                headers["Access-Control-Allow-Methods"] = "GET, POST"
                headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
                headers["Access-Control-Max-Age"] = "600"
            return Response(status_code=204, headers=headers)
        return JSONResponse({"sink": True}, headers=headers)

    @app.get("/__sandbox/sink-log", dependencies=admin)
    async def sink_log():
        return {"records": sandbox.sink_log()}

    app.add_middleware(
        _ApiOnlyCORS,
        allow_origins=list(settings.cors_origins),
        allow_methods=["GET", "POST"],
        allow_headers=["Authorization", "Content-Type"],
        expose_headers=["WWW-Authenticate"],
        allow_credentials=False,
        max_age=600,
    )
    return app


# --------------------------------------------------------------------------
# Serving on 127.0.0.1 and ::1
# --------------------------------------------------------------------------


def bind_loopback(port: int) -> list[socket.socket]:
    """Listening sockets on 127.0.0.1 and ::1 (same port; 0 picks one)."""
    for _ in range(20):
        s4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s4.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s4.bind(("127.0.0.1", port))
        chosen = s4.getsockname()[1]
        try:
            s6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        except OSError as e:
            print(f"warning: no IPv6 ({e}); serving on 127.0.0.1 only", file=sys.stderr)
            s4.listen(128)
            return [s4]
        try:
            s6.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s6.bind(("::1", chosen))
        except OSError as e:
            s6.close()
            if e.errno == errno.EADDRINUSE and port == 0:
                s4.close()
                continue  # the random port is taken on ::1; pick another
            if e.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
                print(f"warning: cannot bind ::1 ({e}); serving on 127.0.0.1 only", file=sys.stderr)
                s4.listen(128)
                return [s4]
            s4.close()
            raise
        s4.listen(128)
        s6.listen(128)
        return [s4, s6]
    raise OSError("could not find a port free on both 127.0.0.1 and ::1")


class ReadyServer(uvicorn.Server):
    """uvicorn.Server that announces itself once its sockets listen."""

    ready_message: str | None = None

    def __init__(self, config: uvicorn.Config, ready_message: str | None = None) -> None:
        super().__init__(config)
        self.ready_message = ready_message
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and not self.should_exit:
            if self.ready_message:
                print(self.ready_message, flush=True)
            self.ready.set()


def make_server(app: Any, ready_message: str | None = None, log_level: str = "info") -> ReadyServer:
    config = uvicorn.Config(
        app,
        log_level=log_level,
        access_log=True,
        proxy_headers=False,
        server_header=False,
        lifespan="off",
        timeout_graceful_shutdown=5,
    )
    return ReadyServer(config, ready_message=ready_message)


def main() -> int:
    # uvicorn handles SIGINT/SIGTERM itself (graceful shutdown), then
    # re-raises the signal; these handlers turn that into a clean exit 0.
    def _exit(signum: int, frame: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _exit)
    signal.signal(signal.SIGINT, _exit)

    port = int(os.environ.get("API_PORT") or DEFAULT_PORT)
    sockets = bind_loopback(port)
    app = create_app(Settings.from_env())
    server = make_server(app, ready_message=f"api ready on http://localhost:{port}")
    try:
        server.run(sockets=sockets)
    finally:
        for s in sockets:
            s.close()
    return 0 if server.started else 1


if __name__ == "__main__":
    sys.exit(main())
