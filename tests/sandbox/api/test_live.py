"""Live test against the running sandbox: the identity provider on 5556 and
the weather API on 5557 must both be up. Collected only with SANDBOX_LIVE=1
(see conftest.py); then an unreachable server is a failure, not a skip.

    SANDBOX_LIVE=1 tests/sandbox/.venv/bin/python -m pytest tests/sandbox/api/test_live.py -q

Against the https pair (identity provider on https://localhost:5443, its API on 5558), trusting
the sandbox's own certificate (never unverified):

    SANDBOX_LIVE=1 SANDBOX_IDP=https://localhost:5443 SANDBOX_API=http://localhost:5558 \
      SANDBOX_CA_FILE=tests/sandbox/.tls/cert.pem tests/sandbox/.venv/bin/python -m pytest tests/sandbox/api -q -k live
"""

from __future__ import annotations

import base64
import json
import os
import ssl

import httpx
import pytest

TENANT = "3f8d0c2a-5b1e-4c7d-9a6f-2e4b8c1d7a90"
API_CLIENT_ID = "c2a9e7d1-4b3f-4e8a-b6d5-1f7a3c9e2b80"
DAEMON_CLIENT_ID = "e5d4c3b2-a190-4f8e-9d7c-6b5a4f3e2d1c"
DAEMON_SECRET = "sandbox-daemon-secret"
IDP = os.environ.get("SANDBOX_IDP", "http://localhost:5556")
API = os.environ.get("SANDBOX_API", "http://localhost:5557")
ISSUER = f"{IDP}/{TENANT}/v2.0"
TOKEN_URL = f"{IDP}/{TENANT}/oauth2/v2.0/token"
SCOPE = f"api://{API_CLIENT_ID}/.default"


def _get(client: httpx.Client, url: str, **kw) -> httpx.Response:
    try:
        return client.get(url, **kw)
    except httpx.TransportError as e:
        pytest.fail(f"{url} is unreachable: {e!r}")


def _post(client: httpx.Client, url: str, **kw) -> httpx.Response:
    try:
        return client.post(url, **kw)
    except httpx.TransportError as e:
        pytest.fail(f"{url} is unreachable: {e!r}")


def _claims(token: str) -> dict:
    """Read the payload only to check what the provider issued; the API is
    what verifies it."""
    parts = token.split(".")
    assert len(parts) == 3, "the access token is not a JWS compact JWT"
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    return json.loads(base64.urlsafe_b64decode(payload))


def _error_code(r: httpx.Response) -> str | None:
    try:
        return r.json().get("error")
    except ValueError:
        return None


CA_FILE = os.environ.get("SANDBOX_CA_FILE")


@pytest.fixture(scope="module")
def http():
    verify = ssl.create_default_context(cafile=CA_FILE) if CA_FILE else True
    with httpx.Client(timeout=15, verify=verify) as c:
        yield c


def test_live_issuer_scheme_matches(http):
    discovery = _get(http, f"{ISSUER}/.well-known/openid-configuration")
    assert discovery.status_code == 200, discovery.text
    body = discovery.json()
    assert body["issuer"] == ISSUER
    scheme = IDP.split(":", 1)[0]
    for field in ("authorization_endpoint", "token_endpoint", "end_session_endpoint", "jwks_uri"):
        assert body[field].startswith(f"{scheme}://"), (field, body[field])


@pytest.fixture(scope="module")
def daemon_token(http) -> str:
    discovery = _get(http, f"{ISSUER}/.well-known/openid-configuration")
    assert discovery.status_code == 200, discovery.text
    assert discovery.json()["token_endpoint"] == TOKEN_URL

    # Client credentials, the way MSAL sends them (client_secret_post) ...
    form = {"grant_type": "client_credentials", "scope": SCOPE}
    r = _post(
        http,
        TOKEN_URL,
        data={**form, "client_id": DAEMON_CLIENT_ID, "client_secret": DAEMON_SECRET},
    )
    if r.status_code in (400, 401) and _error_code(r) == "invalid_client":
        # ... or HTTP Basic (client_secret_basic), which Entra also accepts.
        r = _post(http, TOKEN_URL, data=form, auth=(DAEMON_CLIENT_ID, DAEMON_SECRET))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"].lower() == "bearer"
    assert body["expires_in"] > 0
    return body["access_token"]


def test_daemon_token_shape(daemon_token):
    claims = _claims(daemon_token)
    assert claims["iss"] == ISSUER
    aud = claims["aud"]
    assert aud == API_CLIENT_ID or aud == [API_CLIENT_ID]
    assert claims["roles"] == ["weather.read"]
    assert "scp" not in claims


def test_live_weather_200(http, daemon_token):
    r = _get(
        http,
        f"{API}/api/weather/Portland",
        params={"state": "OR", "country": "US", "units": "imperial"},
        headers={"Authorization": f"Bearer {daemon_token}"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"temp", "feels_like", "temp_min", "temp_max", "pressure", "humidity"}
    assert body["temp_min"] <= body["temp"] <= body["temp_max"]


def test_live_reports_get_200(http, daemon_token):
    r = _get(http, f"{API}/api/reports", headers={"Authorization": f"Bearer {daemon_token}"})
    assert r.status_code == 200, r.text
    assert isinstance(r.json(), list)


def test_live_reports_post_403(http, daemon_token):
    r = _post(
        http,
        f"{API}/api/reports",
        json={"description": "live test", "location": {"city": "Portland", "state": "OR", "country": "US"}},
        headers={"Authorization": f"Bearer {daemon_token}"},
    )
    assert r.status_code == 403, r.text
    assert r.headers["www-authenticate"] == 'Bearer error="insufficient_scope", scope="weather.write"'


def test_live_without_token_401(http):
    r = _get(http, f"{API}/api/weather/Portland")
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
