"""Tests of the sandbox weather API, through real HTTP and real JWT validation.

The API runs under a real uvicorn on a random loopback port (127.0.0.1 and
::1); its JWKS comes from a real local HTTP server that publishes an RSA key
generated here, and tokens are minted with PyJWT. Nothing in PyJWT is mocked.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import ipaddress
import socket
import ssl
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

import server as api

TENANT = api.TENANT_ID
ISSUER = api.DEFAULT_ISSUER
AUDIENCE = api.API_CLIENT_ID
SPA_CLIENT_ID = "0b7e4f52-6c1a-4d3e-8f29-5a1c7b9e3d64"
DAEMON_CLIENT_ID = "e5d4c3b2-a190-4f8e-9d7c-6b5a4f3e2d1c"
SPA_ORIGIN = "http://localhost:8080"

COUNTRY_400 = "Invalid country: usa. It must be a two letter abbreviation such as US or GB."
STATE_400 = "Invalid state: cal. It must be a two letter abbreviation such as CA or KS (use for US only)."
UNITS_400 = "Invalid units 'kelvin', it must be one of {'standard', 'metric', 'imperial'}."


# --------------------------------------------------------------------------
# Keys, a real JWKS server, token minting
# --------------------------------------------------------------------------


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _jwk(key: rsa.RSAPrivateKey, kid: str) -> dict:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": kid, "use": "sig", "alg": "RS256"})
    return jwk


class JwksServer:
    """Serves {"keys": [...]} on a random loopback port; counts fetches.
    With `tls` (an ssl.SSLContext) over https."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.keys: list[dict] = []
        self.fetches = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                outer.fetches += 1
                body = json.dumps({"keys": list(outer.keys)}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        scheme = "https" if tls is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}/{TENANT}/discovery/v2.0/keys"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "JwksServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="session")
def signing_key() -> rsa.RSAPrivateKey:
    return _new_key()


@pytest.fixture(scope="session")
def other_key() -> rsa.RSAPrivateKey:
    """Never published: tokens signed with it must fail."""
    return _new_key()


@pytest.fixture(scope="session")
def jwks(signing_key):
    with JwksServer() as srv:
        srv.keys = [_jwk(signing_key, "key-1")]
        yield srv


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def base_claims(**overrides) -> dict:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "ver": "2.0",
        "tid": TENANT,
        "oid": str(uuid.uuid4()),
        "sub": "alice-subject",
        "azp": SPA_CLIENT_ID,
        "name": "Alice Example",
        "preferred_username": "alice",
        "scp": "weather.read",
    }
    for name, value in overrides.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return claims


@pytest.fixture
def mint(signing_key):
    def _mint(key=None, kid="key-1", headers=None, **claims) -> str:
        hdr = {"kid": kid} if kid is not None else {}
        hdr.update(headers or {})
        return jwt.encode(
            base_claims(**claims), key or signing_key, algorithm="RS256", headers=hdr
        )

    return _mint


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


# --------------------------------------------------------------------------
# The API under a real uvicorn, on 127.0.0.1 and ::1
# --------------------------------------------------------------------------


class RunningApi:
    def __init__(self, settings: api.Settings) -> None:
        self.app = api.create_app(settings)
        self.sockets = api.bind_loopback(0)
        self.port = self.sockets[0].getsockname()[1]
        self.server = api.make_server(self.app, log_level="warning")
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": self.sockets}, daemon=True
        )

    def __enter__(self) -> "RunningApi":
        self.thread.start()
        assert self.server.ready.wait(10), "uvicorn did not start"
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        for s in self.sockets:
            s.close()


@pytest.fixture(scope="session")
def running(jwks):
    settings = api.Settings(jwks_url=jwks.url, jwks_refresh_cooldown=0)
    with RunningApi(settings) as srv:
        yield srv


@pytest.fixture
def client(running):
    with httpx.Client(base_url=f"http://127.0.0.1:{running.port}", timeout=10) as c:
        # every test starts from an empty sandbox
        assert c.post("/__sandbox/reset").status_code == 200
        yield c


def weather_path(city: str) -> str:
    return "/api/weather/" + urllib.parse.quote(city, safe="")


# --------------------------------------------------------------------------
# Weather: success and determinism
# --------------------------------------------------------------------------


def test_weather_200_with_delegated_read_scope(client, mint):
    r = client.get("/api/weather/portland", params={"state": "OR"}, headers=bearer(mint()))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert set(body) == {"temp", "feels_like", "temp_min", "temp_max", "pressure", "humidity"}
    assert all(isinstance(v, (int, float)) for v in body.values())
    assert body["temp_min"] <= body["temp"] <= body["temp_max"]
    assert 250 - 273.15 <= body["temp"] <= 310 - 273.15
    assert abs(body["feels_like"] - body["temp"]) <= 3.01
    assert isinstance(body["pressure"], int) and 980 <= body["pressure"] <= 1040
    assert isinstance(body["humidity"], int) and 10 <= body["humidity"] <= 100


def test_weather_scp_with_several_scopes(client, mint):
    token = mint(scp="openid profile weather.read weather.write")
    assert client.get("/api/weather/boston", headers=bearer(token)).status_code == 200


def test_weather_is_deterministic(client, mint):
    h = bearer(mint())
    a = client.get("/api/weather/Portland", params={"state": "or", "country": "us"}, headers=h)
    b = client.get("/api/weather/%20portland%20", params={"state": " OR ", "country": "US "}, headers=h)
    assert a.status_code == b.status_code == 200
    assert a.json() == b.json()
    c = client.get("/api/weather/seattle", params={"state": "wa"}, headers=h)
    assert c.json() != a.json()


def test_weather_units_are_consistent(client, mint):
    h = bearer(mint())
    got = {
        units: client.get("/api/weather/denver", params={"state": "co", "units": units}, headers=h).json()
        for units in ("standard", "metric", "imperial")
    }
    default = client.get("/api/weather/denver", params={"state": "co"}, headers=h).json()
    assert default == got["metric"]
    for field in ("temp", "feels_like", "temp_min", "temp_max"):
        k, c, f = got["standard"][field], got["metric"][field], got["imperial"][field]
        assert c == pytest.approx(k - 273.15, abs=0.011)
        assert f == pytest.approx(c * 9 / 5 + 32, abs=0.03)
        assert 250 <= k <= 310 or field != "temp"
    for field in ("pressure", "humidity"):
        assert got["standard"][field] == got["metric"][field] == got["imperial"][field]
    upper = client.get("/api/weather/denver", params={"state": "co", "units": " IMPERIAL "}, headers=h)
    assert upper.json() == got["imperial"]


def test_weather_report_function_is_a_pure_function_of_city_and_day():
    day = datetime.date(2024, 1, 15)
    a = api.weather_report("london", None, "gb", "standard", day)
    assert a == api.weather_report("london", "", "gb", "standard", day)
    assert a != api.weather_report("london", None, "gb", "standard", day + datetime.timedelta(days=1))
    assert a != api.weather_report("london", None, "ca", "standard", day)
    for i in range(200):
        r = api.weather_report(f"city-{i}", None, "us", "standard", day)
        assert 250 <= r["temp"] <= 310
        assert r["temp_min"] <= r["temp"] <= r["temp_max"]
        assert abs(r["feels_like"] - r["temp"]) <= 3.0
        assert 980 <= r["pressure"] <= 1040 and 10 <= r["humidity"] <= 100


@pytest.mark.parametrize(
    "city",
    ["New York", "São Paulo", "Zürich", "東京", "Ho Chi Minh City", "Saint-Jean-sur-Richelieu", "O'Fallon", "a/b", "100% #1?&="],
)
def test_city_segment_round_trips(client, mint, city):
    """The city arrives percent-encoded in one segment and is decoded exactly."""
    r = client.get(weather_path(city), params={"country": "br"}, headers=bearer(mint()))
    assert r.status_code == 200, r.text
    today = datetime.datetime.now(datetime.timezone.utc).date()
    assert r.json() == api.weather_report(city.lower().strip(), None, "br", "metric", today)


def test_literal_slash_is_not_a_city(client, mint):
    h = bearer(mint())
    assert client.get("/api/weather/a/b", headers=h).status_code == 404
    assert client.get("/api/weather/", headers=h).status_code == 404


def test_error500_city(client, mint):
    r = client.get("/api/weather/error500", headers=bearer(mint()))
    assert r.status_code == 500
    assert r.text == "Weather service unavailable."
    assert r.headers["content-type"].startswith("text/plain")


# --------------------------------------------------------------------------
# The course's 400s, exact text
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, text",
    [
        ({"country": "USA"}, COUNTRY_400),
        ({"country": " usa "}, COUNTRY_400),
        ({"country": "US", "state": "Cal"}, STATE_400),
        ({"state": "cal", "units": "kelvin"}, STATE_400),  # state is checked before units
        ({"units": "Kelvin"}, UNITS_400),
        ({"country": "usa", "state": "cal", "units": "kelvin"}, COUNTRY_400),  # country first
        ({"units": ""}, "Invalid units '', it must be one of {'standard', 'metric', 'imperial'}."),
        ({"country": " "}, "Invalid country: . It must be a two letter abbreviation such as US or GB."),
    ],
)
def test_validation_400_plain_text(client, mint, params, text):
    r = client.get("/api/weather/portland", params=params, headers=bearer(mint()))
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("text/plain")
    assert r.text == text


def test_empty_country_defaults_to_us(client, mint):
    h = bearer(mint())
    a = client.get("/api/weather/portland", params={"country": ""}, headers=h)
    b = client.get("/api/weather/portland", headers=h)
    assert a.status_code == 200 and a.json() == b.json()


def test_validation_runs_after_authentication(client):
    r = client.get("/api/weather/portland", params={"country": "usa"})
    assert r.status_code == 401


# --------------------------------------------------------------------------
# 401: the token is missing or rejected
# --------------------------------------------------------------------------


def _assert_invalid_token(r: httpx.Response) -> None:
    assert r.status_code == 401, r.text
    challenge = r.headers["www-authenticate"]
    assert challenge.startswith('Bearer error="invalid_token", error_description="')
    assert "detail" in r.json()


def test_401_without_token(client):
    r = client.get("/api/weather/portland")
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    r = client.get("/api/reports", headers={"Authorization": "Basic YWxpY2U6cHc="})
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    r = client.post("/api/reports", json={"description": "x", "location": {"city": "x"}})
    assert r.status_code == 401


@pytest.mark.parametrize(
    "value",
    ["Bearer", "Bearer not-a-jwt", "Bearer a.b.c", "Bearer eyJhbGciOiJSUzI1NiJ9.e30", "Bearer two words"],
)
def test_401_malformed_token(client, value):
    _assert_invalid_token(client.get("/api/weather/portland", headers={"Authorization": value}))


def test_401_bad_signature(client, mint, other_key):
    r = client.get("/api/weather/portland", headers=bearer(mint(key=other_key)))
    _assert_invalid_token(r)
    assert "signature" in r.headers["www-authenticate"]


def test_401_tampered_payload(client, mint):
    header, payload, sig = mint(scp="profile").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["scp"] = "weather.read weather.write"
    forged = ".".join([header, _b64url(json.dumps(claims).encode()), sig])
    _assert_invalid_token(client.get("/api/weather/portland", headers=bearer(forged)))


def test_401_expired(client, mint):
    now = int(time.time())
    token = mint(iat=now - 7200, nbf=now - 7200, exp=now - 120)  # beyond the 60 s leeway
    r = client.get("/api/weather/portland", headers=bearer(token))
    _assert_invalid_token(r)
    assert "expired" in r.headers["www-authenticate"]


def test_leeway_accepts_recently_expired(client, mint):
    now = int(time.time())
    token = mint(iat=now - 3600, nbf=now - 3600, exp=now - 20)
    assert client.get("/api/weather/portland", headers=bearer(token)).status_code == 200


def test_401_not_yet_valid(client, mint):
    now = int(time.time())
    token = mint(iat=now + 600, nbf=now + 600, exp=now + 4200)
    _assert_invalid_token(client.get("/api/weather/portland", headers=bearer(token)))


def test_401_missing_exp(client, mint):
    _assert_invalid_token(client.get("/api/weather/portland", headers=bearer(mint(exp=None))))


@pytest.mark.parametrize(
    "aud",
    ["api://c2a9e7d1-4b3f-4e8a-b6d5-1f7a3c9e2b80", SPA_CLIENT_ID, "00000003-0000-0000-c000-000000000000"],
)
def test_401_wrong_audience(client, mint, aud):
    r = client.get("/api/weather/portland", headers=bearer(mint(aud=aud)))
    _assert_invalid_token(r)
    assert "audience" in r.headers["www-authenticate"]


@pytest.mark.parametrize(
    "iss",
    [
        f"https://login.microsoftonline.com/{TENANT}/v2.0",
        f"https://sts.windows.net/{TENANT}/",
        f"http://localhost:5556/{TENANT}/v2.0/",
        "http://localhost:5556/00000000-0000-0000-0000-000000000000/v2.0",
    ],
)
def test_401_wrong_issuer(client, mint, iss):
    r = client.get("/api/weather/portland", headers=bearer(mint(iss=iss)))
    _assert_invalid_token(r)
    assert "issuer" in r.headers["www-authenticate"]


def test_401_hs256_signed_with_public_key(client, signing_key):
    """The classic key-confusion attack: HMAC keyed with the RSA public key."""
    public_pem = signing_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "key-1"}).encode())
    payload = _b64url(json.dumps(base_claims()).encode())
    signing_input = f"{header}.{payload}".encode()
    for secret in (public_pem, public_pem.strip()):
        sig = _b64url(hmac.new(secret, signing_input, hashlib.sha256).digest())
        token = f"{header}.{payload}.{sig}"
        _assert_invalid_token(client.get("/api/weather/portland", headers=bearer(token)))


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_401_alg_none(client, alg):
    header = _b64url(json.dumps({"alg": alg, "typ": "JWT", "kid": "key-1"}).encode())
    payload = _b64url(json.dumps(base_claims()).encode())
    for token in (f"{header}.{payload}.", f"{header}.{payload}"):
        _assert_invalid_token(client.get("/api/weather/portland", headers=bearer(token)))


def test_401_other_asymmetric_algorithm(client, signing_key):
    token = jwt.encode(base_claims(), signing_key, algorithm="PS256", headers={"kid": "key-1"})
    _assert_invalid_token(client.get("/api/weather/portland", headers=bearer(token)))


def test_401_unknown_or_missing_kid(client, mint):
    _assert_invalid_token(client.get("/api/weather/portland", headers=bearer(mint(kid="nope"))))
    _assert_invalid_token(client.get("/api/weather/portland", headers=bearer(mint(kid=None))))


def test_key_rotation_refetches_jwks(client, jwks, mint):
    """An unknown kid makes the API refetch the key set (keys rotated)."""
    assert client.get("/api/weather/portland", headers=bearer(mint())).status_code == 200
    new_key = _new_key()
    jwks.keys = jwks.keys + [_jwk(new_key, "key-2")]
    try:
        before = jwks.fetches
        r = client.get("/api/weather/portland", headers=bearer(mint(key=new_key, kid="key-2")))
        assert r.status_code == 200, r.text
        assert jwks.fetches == before + 1
        # cached now: no further fetch for known keys
        client.get("/api/weather/portland", headers=bearer(mint(key=new_key, kid="key-2")))
        client.get("/api/weather/portland", headers=bearer(mint()))
        assert jwks.fetches == before + 1
    finally:
        jwks.keys = jwks.keys[:1]


def test_jwks_is_fetched_lazily_and_unreachable_provider_is_503(signing_key):
    token = jwt.encode(base_claims(), signing_key, algorithm="RS256", headers={"kid": "key-1"})
    with JwksServer() as srv:
        srv.keys = [_jwk(signing_key, "key-1")]
        with RunningApi(api.Settings(jwks_url=srv.url)) as running:
            assert srv.fetches == 0  # nothing fetched at creation or start-up
            url = f"http://127.0.0.1:{running.port}/api/weather/"
            assert httpx.get(url + "x", headers=bearer(token)).status_code == 200
            assert srv.fetches == 1
            assert httpx.get(url + "y", headers=bearer(token)).status_code == 200
            assert srv.fetches == 1  # cached

    with socket.socket() as s:  # a port that nothing listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/keys"
    with RunningApi(api.Settings(jwks_url=dead)) as running:
        r = httpx.get(f"http://127.0.0.1:{running.port}/api/weather/x", headers=bearer(token))
        assert r.status_code == 503
        assert "www-authenticate" not in r.headers


def _self_signed(tmp_path, name: str) -> tuple[str, str]:
    """A self-signed P-256 certificate for localhost / 127.0.0.1 / ::1, like scripts/setup makes."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([
                x509.DNSName("localhost"),
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                x509.IPAddress(ipaddress.ip_address("::1")),
            ]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file = tmp_path / f"{name}-cert.pem"
    key_file = tmp_path / f"{name}-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_file), str(key_file)


def test_https_jwks_is_trusted_only_through_jwks_ca_file(signing_key, tmp_path):
    """The https sandbox: the JWKS comes over TLS with a self-signed certificate. JWKS_CA_FILE
    trusts exactly that certificate; without it (or with another one) verification fails and
    the API answers 503 -- it never fetches keys unverified."""
    cert, key = _self_signed(tmp_path, "idp")
    other_cert, _ = _self_signed(tmp_path, "other")
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    token = jwt.encode(base_claims(), signing_key, algorithm="RS256", headers={"kid": "key-1"})
    with JwksServer(tls) as srv:
        srv.keys = [_jwk(signing_key, "key-1")]
        assert srv.url.startswith("https://127.0.0.1:")
        trusted = api.Settings.from_env({"JWKS_URL": srv.url, "JWKS_CA_FILE": cert})
        assert trusted.jwks_ca_file == cert
        with RunningApi(trusted) as running:
            r = httpx.get(f"http://127.0.0.1:{running.port}/api/weather/x", headers=bearer(token))
            assert r.status_code == 200, r.text
            assert srv.fetches == 1
        for settings in (
            api.Settings(jwks_url=srv.url),
            api.Settings(jwks_url=srv.url, jwks_ca_file=other_cert),
        ):
            with RunningApi(settings) as running:
                r = httpx.get(f"http://127.0.0.1:{running.port}/api/weather/x", headers=bearer(token))
                assert r.status_code == 503
        assert srv.fetches == 1  # the untrusting APIs never got a key set


def test_jwks_ca_file_must_exist(tmp_path):
    with pytest.raises((FileNotFoundError, ssl.SSLError)):
        api.create_app(api.Settings(jwks_url="https://localhost:1/keys", jwks_ca_file=str(tmp_path / "missing.pem")))


# --------------------------------------------------------------------------
# 403: authenticated but not permitted
# --------------------------------------------------------------------------


def _assert_insufficient_scope(r: httpx.Response, scope: str) -> None:
    assert r.status_code == 403, r.text
    assert r.headers["www-authenticate"] == f'Bearer error="insufficient_scope", scope="{scope}"'
    assert "detail" in r.json()


@pytest.mark.parametrize("scp", ["profile", "weather.write", "weather.readonly", "Weather.Read", ""])
def test_403_scp_lacks_weather_read(client, mint, scp):
    r = client.get("/api/weather/portland", headers=bearer(mint(scp=scp)))
    _assert_insufficient_scope(r, "weather.read")
    _assert_insufficient_scope(client.get("/api/reports", headers=bearer(mint(scp=scp))), "weather.read")


def test_403_no_scp_and_no_roles(client, mint):
    _assert_insufficient_scope(client.get("/api/weather/portland", headers=bearer(mint(scp=None))), "weather.read")


def test_scp_wins_over_roles(client, mint):
    """A delegated token (has scp) is judged by scp alone."""
    token = mint(scp="profile", roles=["weather.read"])
    _assert_insufficient_scope(client.get("/api/weather/portland", headers=bearer(token)), "weather.read")


def test_403_post_with_only_read(client, mint):
    r = client.post(
        "/api/reports",
        json={"description": "Sunny", "location": {"city": "Portland", "state": "OR", "country": "US"}},
        headers=bearer(mint(scp="weather.read")),
    )
    _assert_insufficient_scope(r, "weather.write")
    assert client.get("/api/reports", headers=bearer(mint())).json() == []


def test_app_token_roles(client, mint):
    app_token = mint(
        scp=None,
        roles=["weather.read"],
        azp=DAEMON_CLIENT_ID,
        sub=DAEMON_CLIENT_ID,
        name=None,
        preferred_username=None,
        idtyp="app",
    )
    h = bearer(app_token)
    assert client.get("/api/weather/portland", headers=h).status_code == 200
    assert client.get("/api/reports", headers=h).status_code == 200
    r = client.post("/api/reports", json={"description": "x", "location": {"city": "y"}}, headers=h)
    _assert_insufficient_scope(r, "weather.write")
    writer = mint(scp=None, roles=["weather.read", "weather.write"])
    r = client.post("/api/reports", json={"description": "x", "location": {"city": "y"}}, headers=bearer(writer))
    assert r.status_code == 201


def test_roles_must_be_a_list(client, mint):
    token = mint(scp=None, roles="weather.read")
    _assert_insufficient_scope(client.get("/api/weather/portland", headers=bearer(token)), "weather.read")


# --------------------------------------------------------------------------
# Reports
# --------------------------------------------------------------------------


def test_reports_post_then_get_newest_first(client, mint):
    read = bearer(mint())
    write = bearer(mint(scp="weather.read weather.write"))
    assert client.get("/api/reports", headers=read).json() == []

    first = client.post(
        "/api/reports",
        json={"description": "Cloudy", "location": {"city": "Portland", "state": "OR", "country": "US"}},
        headers=write,
    )
    assert first.status_code == 201, first.text
    one = first.json()
    assert set(one) == {"id", "description", "location", "created_date"}
    assert one["description"] == "Cloudy"
    assert one["location"] == {"city": "Portland", "state": "OR", "country": "US"}
    uuid.UUID(one["id"])
    created = datetime.datetime.fromisoformat(one["created_date"])
    assert abs((datetime.datetime.now(datetime.timezone.utc) - created).total_seconds()) < 60

    second = client.post(
        "/api/reports",
        json={"description": "Neve em São Paulo ☃", "location": {"city": "São Paulo", "country": "BR"}},
        headers=write,
    )
    assert second.status_code == 201
    two = second.json()
    assert two["location"] == {"city": "São Paulo", "state": None, "country": "BR"}
    assert two["id"] != one["id"]

    listed = client.get("/api/reports", headers=read)
    assert listed.status_code == 200
    assert listed.json() == [two, one]


@pytest.mark.parametrize(
    "body",
    [
        {"location": {"city": "Portland"}},
        {"description": "", "location": {"city": "Portland"}},
        {"description": "   ", "location": {"city": "Portland"}},
        {"description": 42, "location": {"city": "Portland"}},
        {"description": "ok"},
        {"description": "ok", "location": {"state": "OR"}},
        {"description": "ok", "location": "Portland"},
        ["not", "an", "object"],
    ],
)
def test_reports_post_400(client, mint, body):
    r = client.post("/api/reports", json=body, headers=bearer(mint(scp="weather.write weather.read")))
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("text/plain")
    assert r.text


def test_reports_post_400_not_json(client, mint):
    r = client.post(
        "/api/reports",
        content=b"description=x",
        headers={**bearer(mint(scp="weather.write")), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/plain")


def test_reports_missing_description_text(client, mint):
    r = client.post("/api/reports", json={"location": {"city": "x"}}, headers=bearer(mint(scp="weather.write")))
    assert r.text == "A description is required."


# --------------------------------------------------------------------------
# CORS
# --------------------------------------------------------------------------


def test_cors_preflight_from_spa_origin(client):
    r = client.options(
        "/api/weather/portland",
        headers={
            "Origin": SPA_ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == SPA_ORIGIN
    allowed_headers = {h.strip().lower() for h in r.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type"} <= allowed_headers
    allowed_methods = {m.strip() for m in r.headers["access-control-allow-methods"].split(",")}
    assert allowed_methods == {"GET", "POST"}
    assert "access-control-allow-credentials" not in r.headers

    r = client.options(
        "/api/reports",
        headers={
            "Origin": SPA_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == SPA_ORIGIN


def test_cors_preflight_rejects_other_methods(client):
    r = client.options(
        "/api/reports",
        headers={"Origin": SPA_ORIGIN, "Access-Control-Request-Method": "DELETE"},
    )
    assert r.status_code == 400


def test_cors_actual_responses_expose_www_authenticate(client, mint):
    ok = client.get("/api/weather/portland", headers={**bearer(mint()), "Origin": SPA_ORIGIN})
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == SPA_ORIGIN
    assert ok.headers["access-control-expose-headers"] == "WWW-Authenticate"

    denied = client.get("/api/weather/portland", headers={"Origin": SPA_ORIGIN})
    assert denied.status_code == 401
    assert denied.headers["access-control-allow-origin"] == SPA_ORIGIN
    assert denied.headers["access-control-expose-headers"] == "WWW-Authenticate"

    forbidden = client.get("/api/reports", headers={**bearer(mint(scp="profile")), "Origin": SPA_ORIGIN})
    assert forbidden.status_code == 403
    assert forbidden.headers["access-control-allow-origin"] == SPA_ORIGIN


@pytest.mark.parametrize(
    "origin", ["http://evil.example", "http://localhost:8081", "https://localhost:8080", "http://127.0.0.1:8080", "null"]
)
def test_cors_other_origin_gets_no_allow_origin(client, mint, origin):
    pre = client.options(
        "/api/weather/portland",
        headers={"Origin": origin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"},
    )
    assert "access-control-allow-origin" not in pre.headers
    actual = client.get("/api/weather/portland", headers={**bearer(mint()), "Origin": origin})
    assert "access-control-allow-origin" not in actual.headers
    assert "access-control-expose-headers" not in actual.headers


def test_cors_origins_env_override():
    settings = api.Settings.from_env({"CORS_ORIGINS": "http://localhost:3000, http://127.0.0.1:3000"})
    assert settings.cors_origins == ("http://localhost:3000", "http://127.0.0.1:3000")
    assert api.Settings.from_env({}).cors_origins == ("http://localhost:8080",)
    env = {"JWKS_URL": "http://x/keys", "ISSUER": "http://x/v2.0", "AUDIENCE": "a,b"}
    s = api.Settings.from_env(env)
    assert (s.jwks_url, s.issuer, s.audiences) == ("http://x/keys", "http://x/v2.0", ("a", "b"))


# --------------------------------------------------------------------------
# Test-only admin endpoints
# --------------------------------------------------------------------------


def test_admin_one_shot_invalid_token(client, mint):
    h = bearer(mint())
    r = client.post("/__sandbox/next-failure", json={"kind": "invalid_token"})
    assert r.status_code == 200
    failed = client.get("/api/weather/portland", headers=h)
    assert failed.status_code == 401
    assert failed.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    assert client.get("/api/weather/portland", headers=h).status_code == 200


def test_admin_one_shot_insufficient_claims(client, mint):
    claims = base64.b64encode(
        json.dumps({"access_token": {"nbf": {"essential": True, "value": "1700000000"}}}).encode()
    ).decode()
    assert client.post("/__sandbox/next-failure", json={"kind": "insufficient_claims", "claims": claims}).status_code == 200
    h = {**bearer(mint()), "Origin": SPA_ORIGIN}
    failed = client.get("/api/reports", headers=h)
    assert failed.status_code == 401
    assert failed.headers["www-authenticate"] == f'Bearer error="insufficient_claims", claims="{claims}"'
    assert failed.headers["access-control-expose-headers"] == "WWW-Authenticate"
    assert client.get("/api/reports", headers=h).status_code == 200


def test_admin_failure_waits_for_a_valid_token(client, mint):
    """Rejected or anonymous requests do not use up the pending failure."""
    client.post("/__sandbox/next-failure", json={"kind": "invalid_token"})
    assert client.get("/api/weather/x").headers["www-authenticate"] == "Bearer"
    assert client.get("/api/weather/x", headers=bearer(mint())).status_code == 401
    assert client.get("/api/weather/x", headers=bearer(mint())).status_code == 200


def test_admin_rejects_bad_requests(client):
    assert client.post("/__sandbox/next-failure", json={"kind": "boom"}).status_code == 400
    assert client.post("/__sandbox/next-failure", json={"kind": "insufficient_claims"}).status_code == 400
    bad = {"kind": "insufficient_claims", "claims": 'x", error="invalid_token'}
    assert client.post("/__sandbox/next-failure", json=bad).status_code == 400


def test_admin_refuses_requests_with_origin(client, mint):
    for origin in (SPA_ORIGIN, "http://evil.example", "null"):
        assert client.post("/__sandbox/next-failure", json={"kind": "invalid_token"}, headers={"Origin": origin}).status_code == 403
        assert client.post("/__sandbox/reset", headers={"Origin": origin}).status_code == 403
        assert client.get("/__sandbox/stats", headers={"Origin": origin}).status_code == 403
    # nothing was queued
    assert client.get("/api/weather/portland", headers=bearer(mint())).status_code == 200
    # and a browser gets no CORS grant for them
    pre = client.options(
        "/__sandbox/reset", headers={"Origin": SPA_ORIGIN, "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in pre.headers


def test_admin_refuses_foreign_host_header(client):
    """A DNS-rebound name reaching loopback is still refused."""
    assert client.get("/__sandbox/stats", headers={"Host": "evil.example:5557"}).status_code == 403
    assert client.get("/__sandbox/stats", headers={"Host": "localhost:5557"}).status_code == 200


def test_loopback_helpers():
    assert api._is_loopback("127.0.0.1") and api._is_loopback("::1") and api._is_loopback("127.8.9.1")
    assert api._is_loopback("::ffff:127.0.0.1")
    assert not api._is_loopback("10.0.0.1") and not api._is_loopback("testclient") and not api._is_loopback(None)
    assert api._is_loopback_host_header("[::1]:5557") and api._is_loopback_host_header("localhost")
    assert not api._is_loopback_host_header("localhost.evil.example:5557")


def test_admin_reset_and_stats(client, mint):
    write = bearer(mint(scp="weather.write weather.read"))
    client.post("/api/reports", json={"description": "d", "location": {"city": "c"}}, headers=write)
    client.get("/api/weather/x", headers=write)
    client.get("/api/weather/x")
    client.get("/api/weather/x", headers=bearer(mint(scp="profile")))
    client.options("/api/reports", headers={"Origin": SPA_ORIGIN, "Access-Control-Request-Method": "POST"})
    stats = client.get("/__sandbox/stats").json()
    assert stats == {"requests": 4, "by_status": {"201": 1, "200": 1, "401": 1, "403": 1}}

    client.post("/__sandbox/next-failure", json={"kind": "invalid_token"})
    assert client.post("/__sandbox/reset").status_code == 200
    assert client.get("/api/reports", headers=write).json() == []  # reports cleared, no failure pending
    assert client.get("/__sandbox/stats").json() == {"requests": 1, "by_status": {"200": 1}}


# --------------------------------------------------------------------------
# Binding
# --------------------------------------------------------------------------


def test_serves_on_ipv4_and_ipv6_loopback(running, mint):
    addrs = {s.getsockname()[0] for s in running.sockets}
    assert addrs == {"127.0.0.1", "::1"}
    for host in ("127.0.0.1", "[::1]"):
        r = httpx.get(f"http://{host}:{running.port}/api/weather/x", headers=bearer(mint()), timeout=10)
        assert r.status_code == 200


# --------------------------------------------------------------------------
# Hostile responses (one-shot, POST /__sandbox/next-failure) and the sink
# --------------------------------------------------------------------------


def _queue(client, **spec) -> httpx.Response:
    return client.post("/__sandbox/next-failure", json=spec)


@pytest.mark.parametrize("status", [302, 307])
def test_hostile_redirect_to_another_origin(client, mint, status):
    target = "http://127.0.0.1:1/__sandbox/sink?stolen=1"
    assert _queue(client, kind="redirect", to=target, status=status).status_code == 200
    h = {**bearer(mint()), "Origin": SPA_ORIGIN}
    r = client.get("/api/reports", headers=h)  # httpx does not follow redirects by default
    assert r.status_code == status
    assert r.headers["location"] == target
    assert r.headers["access-control-allow-origin"] == SPA_ORIGIN
    assert client.get("/api/reports", headers=h).status_code == 200  # one-shot


def test_hostile_redirect_default_status_and_validation(client, mint):
    assert _queue(client, kind="redirect", to="https://evil.example/x").status_code == 200
    assert client.get("/api/weather/x", headers=bearer(mint())).status_code == 302
    for bad in (
        {"kind": "redirect"},
        {"kind": "redirect", "to": "/relative"},
        {"kind": "redirect", "to": "javascript:alert(1)"},
        {"kind": "redirect", "to": "http://evil.example/\r\nSet-Cookie: x=1"},
        {"kind": "redirect", "to": "http://evil.example/", "status": 200},
        {"kind": "redirect", "to": "http://evil.example/", "status": "302"},
    ):
        assert _queue(client, **bad).status_code == 400, bad
    assert client.get("/api/weather/x", headers=bearer(mint())).status_code == 200


@pytest.mark.parametrize(
    "raw",
    [
        '[{"id": "1", "description": "<script>alert(1)</script><img src=x onerror=alert(2)>", "location": {"city": "<b>x</b>"}}]',
        '[{"id": "1", "description": "trunc',
        '{"temp": 1e400, "humidity": 123456789012345678901234567890}',
        '[{"id": null, "description": null, "location": null, "created_date": null}]',
        "[{}]",
        "",
    ],
)
def test_hostile_body_is_sent_verbatim(client, mint, raw):
    assert _queue(client, kind="body", status=200, content_type="application/json", body=raw).status_code == 200
    h = {**bearer(mint()), "Origin": SPA_ORIGIN}
    r = client.get("/api/reports", headers=h)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.content == raw.encode()
    assert r.headers["access-control-allow-origin"] == SPA_ORIGIN
    assert client.get("/api/reports", headers=h).json() == []


def test_hostile_body_other_type_status_and_headers(client, mint):
    spec = {
        "kind": "body",
        "status": 201,
        "content_type": "text/html; charset=utf-8",
        "body": "<h1>hi</h1>",
        "headers": {"X-Sandbox": "1"},
    }
    assert _queue(client, **spec).status_code == 200
    r = client.post("/api/reports", json={}, headers=bearer(mint(scp="weather.write")))
    assert (r.status_code, r.headers["content-type"], r.text, r.headers["x-sandbox"]) == (
        201, "text/html; charset=utf-8", "<h1>hi</h1>", "1",
    )
    assert client.get("/api/reports", headers=bearer(mint())).json() == []  # nothing was stored


def test_hostile_status(client, mint):
    assert _queue(client, kind="status", status=503, body="Service Unavailable", headers={"Retry-After": "5"}).status_code == 200
    r = client.get("/api/weather/x", headers=bearer(mint()))
    assert (r.status_code, r.text, r.headers["retry-after"]) == (503, "Service Unavailable", "5")
    assert r.headers["content-type"].startswith("text/plain")
    assert _queue(client, kind="status", status=500).status_code == 200
    r = client.get("/api/weather/x", headers=bearer(mint()))
    assert (r.status_code, r.content) == (500, b"")
    assert client.get("/api/weather/x", headers=bearer(mint())).status_code == 200


def test_hostile_status_can_fake_a_challenge(client, mint):
    challenge = 'Bearer  error = "invalid_token" ,, realm="a\\"b", error_description="x'
    assert _queue(client, kind="status", status=401, headers={"WWW-Authenticate": challenge}).status_code == 200
    r = client.get("/api/weather/x", headers={**bearer(mint()), "Origin": SPA_ORIGIN})
    assert r.status_code == 401 and r.headers["www-authenticate"] == challenge
    assert r.headers["access-control-expose-headers"] == "WWW-Authenticate"


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": "body"},
        {"kind": "body", "body": 1},
        {"kind": "body", "body": "x", "status": 99},
        {"kind": "body", "body": "x", "status": 600},
        {"kind": "body", "body": "x", "status": 204},
        {"kind": "body", "body": "x", "content_type": "text/plain\r\nX: y"},
        {"kind": "body", "body": "x", "headers": {"Content-Length": "1"}},
        {"kind": "body", "body": "x", "headers": {"Bad Name": "1"}},
        {"kind": "body", "body": "x", "headers": {"X-A": "1\r\nX-B: 2"}},
        {"kind": "body", "body": "x", "headers": ["X-A"]},
        {"kind": "status"},
        {"kind": "status", "status": True},
        {"kind": "delay"},
        {"kind": "delay", "seconds": 0},
        {"kind": "delay", "seconds": 121},
        {"kind": "delay", "seconds": "1"},
        {"kind": "delay", "seconds": True},
    ],
)
def test_hostile_kinds_validate(client, mint, bad):
    r = _queue(client, **bad)
    assert r.status_code == 400, r.text
    assert client.get("/api/weather/x", headers=bearer(mint())).status_code == 200  # nothing queued


def test_hostile_delay_answers_normally_later(client, running, mint):
    assert _queue(client, kind="delay", seconds=1.5).status_code == 200
    h = bearer(mint())
    results: dict[str, object] = {}

    def slow() -> None:
        start = time.monotonic()
        with httpx.Client(base_url=f"http://127.0.0.1:{running.port}", timeout=10) as c:
            results["response"] = c.get("/api/weather/portland", headers=h)
        results["elapsed"] = time.monotonic() - start

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.3)
    # the delayed request holds nothing else up
    start = time.monotonic()
    assert client.get("/api/weather/seattle", headers=h).status_code == 200
    assert time.monotonic() - start < 1.0
    t.join(10)
    r = results["response"]
    assert r.status_code == 200 and "temp" in r.json()
    assert results["elapsed"] >= 1.4
    start = time.monotonic()
    assert client.get("/api/weather/portland", headers=h).status_code == 200
    assert time.monotonic() - start < 1.0  # one-shot


def test_hostile_kinds_wait_for_a_valid_token_and_run_in_order(client, mint):
    assert _queue(client, kind="status", status=503).status_code == 200
    r = _queue(client, kind="body", body="[]", status=200)
    assert r.json() == {"pending": 2}
    assert client.get("/api/weather/x").status_code == 401  # anonymous: not used up
    assert client.get("/api/weather/x", headers=bearer(mint(aud="other"))).status_code == 401
    assert client.get("/api/weather/x", headers=bearer(mint())).status_code == 503
    assert client.get("/api/weather/x", headers=bearer(mint())).text == "[]"
    assert client.get("/api/weather/x", headers=bearer(mint())).status_code == 200


def test_reset_clears_queued_hostile_responses(client, mint):
    _queue(client, kind="redirect", to="http://evil.example/")
    _queue(client, kind="delay", seconds=100)
    assert client.post("/__sandbox/reset").status_code == 200
    assert client.get("/api/weather/x", headers=bearer(mint())).status_code == 200


def test_sink_records_requests(client):
    assert client.get("/__sandbox/sink-log").json() == {"records": []}
    r = client.get("/__sandbox/sink?a=1&b=%3Cx%3E", headers={"Authorization": "Bearer eyJhbGciOiJSUzI1NiJ9.secret"})
    assert r.status_code == 200
    client.post("/__sandbox/sink/api/weather/x", content=b"hello", headers={"Origin": "http://evil.example"})
    client.options(
        "/__sandbox/sink",
        headers={"Origin": SPA_ORIGIN, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"},
    )
    records = client.get("/__sandbox/sink-log").json()["records"]
    assert [(x["method"], x["path"], x["query"]) for x in records] == [
        ("GET", "/__sandbox/sink", "a=1&b=%3Cx%3E"),
        ("POST", "/__sandbox/sink/api/weather/x", ""),
        ("OPTIONS", "/__sandbox/sink", ""),
    ]
    assert records[0]["authorization"] is True
    assert records[0]["authorization_prefix"] == "Bearer eyJ"
    assert "secret" not in json.dumps(records)
    assert records[1]["authorization"] is False and records[1]["authorization_prefix"] is None
    assert records[1]["origin"] == "http://evil.example" and records[1]["body_length"] == 5


def test_sink_cors_for_the_spa_origin_only(client):
    pre = client.options(
        "/__sandbox/sink",
        headers={"Origin": SPA_ORIGIN, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"},
    )
    assert pre.status_code == 204
    assert pre.headers["access-control-allow-origin"] == SPA_ORIGIN
    assert "authorization" in pre.headers["access-control-allow-headers"].lower()
    got = client.get("/__sandbox/sink", headers={"Origin": SPA_ORIGIN})
    assert got.headers["access-control-allow-origin"] == SPA_ORIGIN
    other = client.get("/__sandbox/sink", headers={"Origin": "http://evil.example"})
    assert other.status_code == 200 and "access-control-allow-origin" not in other.headers


def test_sink_log_is_admin_only_and_reset_clears_it(client):
    client.get("/__sandbox/sink")
    assert client.get("/__sandbox/sink-log", headers={"Origin": SPA_ORIGIN}).status_code == 403
    assert client.get("/__sandbox/sink-log", headers={"Host": "evil.example:5557"}).status_code == 403
    assert len(client.get("/__sandbox/sink-log").json()["records"]) == 1
    assert client.post("/__sandbox/reset").status_code == 200
    assert client.get("/__sandbox/sink-log").json() == {"records": []}


def test_redirect_to_the_sink_end_to_end(client, running, mint):
    """A client that follows the redirect lands on the sink; the log shows whether the token went along."""
    sink = f"http://localhost:{running.port}/__sandbox/sink/stolen"  # another origin than 127.0.0.1
    assert _queue(client, kind="redirect", to=sink, status=307).status_code == 200
    r = client.get("/api/reports", headers=bearer(mint()), follow_redirects=True)
    assert r.status_code == 200 and r.json() == {"sink": True}
    (record,) = client.get("/__sandbox/sink-log").json()["records"]
    assert record["path"] == "/__sandbox/sink/stolen"
    assert record["authorization"] is False  # httpx, like browsers, drops it across origins
    assert client.get("/__sandbox/stats").json()["by_status"] == {"307": 1}
