// Self-test of the sandbox identity provider, over HTTP, no browser.
//
//   node_modules/.bin/node tests/sandbox/idp/selftest.mjs
//
// Assumes the provider is already running on IDP_PORT (default 5556); with IDP_HTTPS=1 on
// https://localhost:IDP_PORT (start it with the same values), trusting only the sandbox's own
// certificate (tests/sandbox/.tls/cert.pem, via NODE_EXTRA_CA_CERTS: the self-test restarts
// itself with it). Uses the SPA origin from SANDBOX_SPA_ORIGINS (first entry, default
// http://localhost:8080), and the second Nimbus deployment's and the MSAL.js sample's clients. Side effects on the running
// provider: POST /__sandbox/reset first, signs alice and bob in and out, ends every provider
// session (POST /__sandbox/end-sessions), arms and clears every hostile mode, and finally
// POST /__sandbox/reset again (lifetimes, hostile modes, counters and consents back to defaults).
// Run it against a provider nobody else is using at the time.
// If SANDBOX_REFRESH_TTL is set to 30 s or less (start the provider with the same value), the fixed
// refresh-token lifetime is tested too, by waiting it out.
// Prints "N passed, M failed" and exits non-zero on any failure.
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import { fileURLToPath } from 'node:url';

import {
  ACCESS_TTL, REFRESH_TTL, API_CLIENT_ID, API_RESOURCE, DAEMON_CLIENT_ID, DAEMON_CLIENT_SECRET, DAEMON_SP_OID, ISSUER, ORIGIN,
  PATHS, SPA_CLIENT_ID, SPA_ORIGINS, TENANT_ID, USERS,
  HTTPS, TLS_CERT_FILE, SPA_CLIENT_NAME, SPA2_CLIENT_ID, SPA2_ORIGIN, MSAL_CLIENT_ID, MSAL_ORIGIN,
  OIDC_TS_ORIGIN, MSAL_REACT_ORIGIN,
} from './config.mjs';

// https mode: Node's fetch must trust the sandbox certificate, which only NODE_EXTRA_CA_CERTS
// (read at start-up) can give it: run again with it set (verification is never turned off).
if (HTTPS && process.env.NODE_EXTRA_CA_CERTS !== fileURLToPath(TLS_CERT_FILE)) {
  if (process.env.SANDBOX_SELFTEST_REEXEC === '1') {
    console.log('FAIL could not set NODE_EXTRA_CA_CERTS for the https self-test');
    process.exit(1);
  }
  const child = spawnSync(process.execPath, process.argv.slice(1), {
    stdio: 'inherit',
    env: { ...process.env, NODE_EXTRA_CA_CERTS: fileURLToPath(TLS_CERT_FILE), SANDBOX_SELFTEST_REEXEC: '1' },
  });
  process.exit(child.status ?? 1);
}

const SPA_ORIGIN = SPA_ORIGINS[0];
const REDIRECT_URI = `${SPA_ORIGIN}/auth/callback`;
const POST_LOGOUT_URI = `${SPA_ORIGIN}/`;
const EVIL_ORIGIN = 'http://evil.localhost:9999';
const READ = `${API_RESOURCE}/weather.read`;
const WRITE = `${API_RESOURCE}/weather.write`;
const BASE_SCOPE = `openid profile offline_access ${READ}`;
const alice = USERS.find((u) => u.username === 'alice');
const bob = USERS.find((u) => u.username === 'bob');

// --------------------------------------------------------------------------------------------
// Tiny test harness.

let passed = 0;
let failed = 0;
function check(name, ok, detail) {
  if (ok) {
    passed += 1;
    console.log(`ok   ${name}`);
  } else {
    failed += 1;
    console.log(`FAIL ${name}${detail === undefined ? '' : ` -- ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`}`);
  }
  return ok;
}
function equal(name, actual, expected) {
  return check(name, actual === expected, `expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}
async function section(title, fn) {
  console.log(`\n# ${title}`);
  try {
    await fn();
  } catch (err) {
    check(`${title}: completed without exception`, false, err.stack ?? String(err));
  }
}

// --------------------------------------------------------------------------------------------
// HTTP with a cookie jar (path-scoped, enough for one host).

class Browser {
  constructor() { this.cookies = new Map(); }

  cookieHeader(path) {
    return [...this.cookies.values()]
      .filter((c) => path === c.path || path.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  store(res) {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let path = '/';
      let expired = value === '';
      for (const attr of attrs) {
        const [k, v = ''] = attr.split('=');
        if (k.toLowerCase() === 'path') path = v;
        if (k.toLowerCase() === 'expires' && Date.parse(v) < Date.now()) expired = true;
        if (k.toLowerCase() === 'max-age' && Number(v) <= 0) expired = true;
      }
      const key = `${name}|${path}`;
      if (expired) this.cookies.delete(key);
      else this.cookies.set(key, { name, value, path });
    }
  }

  async request(url, { method = 'GET', form, headers = {} } = {}) {
    const u = new URL(url, ORIGIN);
    const h = { ...headers };
    const cookie = this.cookieHeader(u.pathname);
    if (cookie) h.cookie = cookie;
    let body;
    if (form) {
      body = new URLSearchParams(form).toString();
      h['content-type'] = 'application/x-www-form-urlencoded';
    }
    const res = await fetch(u, { method, headers: h, body, redirect: 'manual' });
    this.store(res);
    const text = await res.text();
    return {
      status: res.status, headers: res.headers, text, location: res.headers.get('location'), url: u,
    };
  }

  /** Follows redirects within the provider; stops at the first redirect leaving it (or a page). */
  async follow(url, opts) {
    let res = await this.request(url, opts);
    for (let i = 0; i < 10 && res.status >= 300 && res.status < 400 && res.location; i += 1) {
      const next = new URL(res.location, res.url);
      if (next.origin !== ORIGIN) return { ...res, final: next };
      res = await this.request(next.href);
    }
    return res;
  }
}

async function tokenRequest(form, { origin = SPA_ORIGIN, headers = {} } = {}) {
  const h = { ...headers, accept: 'application/json' };
  if (origin) h.origin = origin;
  const res = await fetch(`${ORIGIN}${PATHS.token}`, {
    method: 'POST', headers: { ...h, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form),
  });
  return { status: res.status, headers: res.headers, json: await res.json().catch(() => ({})) };
}

// --------------------------------------------------------------------------------------------
// JWT helpers.

let jwks;
function decodeJwt(token) {
  const [h, p, s] = String(token).split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url')),
    payload: JSON.parse(Buffer.from(p, 'base64url')),
    signingInput: `${h}.${p}`,
    signature: Buffer.from(s ?? '', 'base64url'),
  };
}
function verifyJwt(token) {
  const jwt = decodeJwt(token);
  const jwk = jwks.keys.find((k) => k.kid === jwt.header.kid);
  if (!jwk || jwt.header.alg !== 'RS256') return { ...jwt, valid: false };
  const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
  const valid = crypto.verify('RSA-SHA256', Buffer.from(jwt.signingInput), key, jwt.signature);
  return { ...jwt, valid };
}

function pkce() {
  const verifier = crypto.randomBytes(32).toString('base64url');
  const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

function authorizeUrl({
  scope = BASE_SCOPE, prompt, challenge, method = 'S256', state, nonce, extra = {},
  clientId = SPA_CLIENT_ID, redirectUri = REDIRECT_URI, responseMode = 'query',
}) {
  const q = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    redirect_uri: redirectUri,
    response_mode: responseMode,
    scope,
    state,
    nonce,
    ...(challenge ? { code_challenge: challenge, code_challenge_method: method } : undefined),
    ...(prompt ? { prompt } : undefined),
    ...extra,
  });
  return `${ORIGIN}${PATHS.authorize}?${q}`;
}

function formAction(html) {
  return /<form[^>]*action="([^"]+)"/.exec(html)?.[1]?.replace(/&amp;/g, '&');
}

/** Runs /authorize up to the sign-in page, or to the redirect_uri when no page is needed. */
async function startAuthorize(browser, opts = {}) {
  const p = pkce();
  const state = crypto.randomBytes(8).toString('hex');
  const nonce = crypto.randomBytes(8).toString('hex');
  const res = await browser.follow(authorizeUrl({
    ...opts, challenge: opts.noPkce ? undefined : p.challenge, state, nonce,
  }));
  return {
    res, pkce: p, state, nonce,
  };
}

async function signIn(browser, user, opts = {}) {
  const flow = await startAuthorize(browser, opts);
  const action = formAction(flow.res.text);
  if (!action) throw new Error(`no sign-in form (status ${flow.res.status})`);
  const res = await browser.follow(action, {
    method: 'POST', form: { username: user.username, password: user.password, action: 'login' },
  });
  return { ...flow, res };
}

/** The parameters of a redirect to `redirectUri` (query, or fragment for response_mode=fragment). */
function callbackParams(res, redirectUri = REDIRECT_URI) {
  if (!res.final) return undefined;
  if (res.final.origin + res.final.pathname !== redirectUri) return undefined;
  if (res.final.hash) return Object.fromEntries(new URLSearchParams(res.final.hash.slice(1)));
  return Object.fromEntries(res.final.searchParams);
}

async function redeem(code, verifier, origin = SPA_ORIGIN, { clientId = SPA_CLIENT_ID, redirectUri = REDIRECT_URI, extra = {} } = {}) {
  return tokenRequest({
    grant_type: 'authorization_code',
    client_id: clientId,
    code,
    redirect_uri: redirectUri,
    code_verifier: verifier,
    ...extra,
  }, { origin });
}

async function refresh(refreshToken, extra = {}, origin = SPA_ORIGIN, clientId = SPA_CLIENT_ID) {
  return tokenRequest({
    grant_type: 'refresh_token', client_id: clientId, refresh_token: refreshToken, ...extra,
  }, { origin });
}

const GUID_RE = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const ENTRA_DESCRIPTION = new RegExp(`^AADSTS(\\d+): [^\\r\\n]+\\r\\nTrace ID: (${GUID_RE})\\r\\nCorrelation ID: (${GUID_RE})\\r\\nTimestamp: (\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ)$`);

/** An Entra-shaped token-endpoint error: error, error_description "AADSTSnnnnn: ...\r\nTrace ID: ...
 *  \r\nCorrelation ID: ...\r\nTimestamp: ...", error_codes, timestamp, trace_id, correlation_id, error_uri. */
function checkEntraError(label, json, error, code, { correlationId } = {}) {
  const m = ENTRA_DESCRIPTION.exec(json?.error_description ?? '');
  const ok = json?.error === error && !!m && Number(m[1]) === code
    && JSON.stringify(json.error_codes) === JSON.stringify([code])
    && json.trace_id === m[2] && json.correlation_id === m[3] && json.timestamp === m[4]
    && json.error_uri === `https://login.microsoftonline.com/error?code=${code}`
    && (correlationId === undefined || json.correlation_id === correlationId);
  return check(`${label}: ${error}, Entra-shaped AADSTS${code} error`, ok, json);
}

/** An Entra-shaped authorization error redirect: AADSTS code, trace lines, error_uri. */
function checkAuthorizeError(label, params, error, code) {
  const m = ENTRA_DESCRIPTION.exec(params?.error_description ?? '');
  return check(`${label}: error=${error}, AADSTS${code} with Trace ID / Correlation ID / Timestamp, error_uri`,
    params?.error === error && !!m && Number(m[1]) === code && params.error_uri === `https://login.microsoftonline.com/error?code=${code}`, params);
}

function checkAccessToken(label, token, user, scp) {
  const at = verifyJwt(token);
  const now = Math.floor(Date.now() / 1000);
  check(`${label}: RS256 signature verifies with the JWKS`, at.valid, at.header);
  equal(`${label}: header typ`, at.header.typ, 'JWT');
  equal(`${label}: aud is the API client id`, at.payload.aud, API_CLIENT_ID);
  equal(`${label}: iss`, at.payload.iss, ISSUER);
  equal(`${label}: scp`, at.payload.scp, scp);
  equal(`${label}: ver`, at.payload.ver, '2.0');
  equal(`${label}: tid`, at.payload.tid, TENANT_ID);
  equal(`${label}: oid`, at.payload.oid, user.oid);
  equal(`${label}: azp`, at.payload.azp, SPA_CLIENT_ID);
  equal(`${label}: name`, at.payload.name, user.name);
  equal(`${label}: preferred_username`, at.payload.preferred_username, user.preferred_username);
  equal(`${label}: sub`, at.payload.sub, user.sub);
  check(`${label}: iat/exp sane`, at.payload.iat <= now + 5 && at.payload.exp > now, at.payload);
  check(`${label}: no scope / client_id / roles claims`, !('scope' in at.payload) && !('client_id' in at.payload) && !('roles' in at.payload), at.payload);
  return at;
}

// --------------------------------------------------------------------------------------------

const parseOrUndefined = (text) => { try { return JSON.parse(text); } catch { return undefined; } };
const sandbox = async (path, method = 'GET') => (await fetch(`${ORIGIN}${path}`, { method })).json();

let statsBefore;
const browser = new Browser(); // alice's browser
let aliceIdToken;
let aliceRefresh;

const resetFirst = await fetch(`${ORIGIN}/__sandbox/reset`, { method: 'POST' });
if (resetFirst.status !== 200) {
  console.log(`FAIL POST /__sandbox/reset answered ${resetFirst.status}`);
  process.exit(1);
}

await section('discovery and keys', async () => {
  const res = await fetch(`${ORIGIN}${PATHS.discovery}`, { headers: { origin: SPA_ORIGIN } });
  equal('discovery status', res.status, 200);
  equal('discovery CORS header', res.headers.get('access-control-allow-origin'), SPA_ORIGIN);
  const d = await res.json();
  equal('issuer', d.issuer, ISSUER);
  equal('authorization_endpoint', d.authorization_endpoint, `${ORIGIN}/${TENANT_ID}/oauth2/v2.0/authorize`);
  equal('token_endpoint', d.token_endpoint, `${ORIGIN}/${TENANT_ID}/oauth2/v2.0/token`);
  equal('end_session_endpoint', d.end_session_endpoint, `${ORIGIN}/${TENANT_ID}/oauth2/v2.0/logout`);
  equal('jwks_uri', d.jwks_uri, `${ORIGIN}/${TENANT_ID}/discovery/v2.0/keys`);
  check('code_challenge_methods_supported is [S256]', JSON.stringify(d.code_challenge_methods_supported) === '["S256"]', d.code_challenge_methods_supported);
  check('response_modes include query', d.response_modes_supported?.includes('query'), d.response_modes_supported);
  check('grant types', ['authorization_code', 'refresh_token', 'client_credentials'].every((g) => d.grant_types_supported?.includes(g)), d.grant_types_supported);

  const k = await fetch(d.jwks_uri, { headers: { origin: SPA_ORIGIN } });
  equal('jwks status', k.status, 200);
  equal('jwks CORS header', k.headers.get('access-control-allow-origin'), SPA_ORIGIN);
  jwks = await k.json();
  check('jwks has an RS256 RSA signing key with kid', jwks.keys?.some((x) => x.kty === 'RSA' && x.alg === 'RS256' && x.kid && x.use === 'sig' && !x.d), jwks);

  const bogus = await fetch(`${ORIGIN}/.well-known/openid-configuration`);
  equal('no discovery outside the tenant path', bogus.status, 404);

  const pre = await fetch(`${ORIGIN}${PATHS.token}`, {
    method: 'OPTIONS', headers: { origin: SPA_ORIGIN, 'access-control-request-method': 'POST' },
  });
  equal('token preflight from the SPA origin allowed', pre.headers.get('access-control-allow-origin'), SPA_ORIGIN);
  const evilPre = await fetch(`${ORIGIN}${PATHS.token}`, {
    method: 'OPTIONS', headers: { origin: EVIL_ORIGIN, 'access-control-request-method': 'POST' },
  });
  equal('token preflight from another origin: no CORS header', evilPre.headers.get('access-control-allow-origin'), null);

  await sandbox('/__sandbox/reset-consents', 'POST');
  statsBefore = await sandbox('/__sandbox/stats');
  check('stats has refresh_reuse and claims_requests', typeof statsBefore.refresh_reuse === 'number' && typeof statsBefore.claims_requests === 'number', statsBefore);
  check('stats has token_requests counters', ['authorization_code', 'refresh_token', 'client_credentials'].every((g) => typeof statsBefore.token_requests?.[g] === 'number'), statsBefore);
});

await section('sign-in page, wrong password, authorization code + PKCE', async () => {
  const flow = await startAuthorize(browser);
  equal('authorize shows the sign-in page', flow.res.status, 200);
  check('page has label "Username"', />\s*Username\s*<\/label>/.test(flow.res.text));
  check('page has label "Password"', />\s*Password\s*<\/label>/.test(flow.res.text));
  check('page has button "Sign in"', /<button[^>]*>\s*Sign in\s*<\/button>/.test(flow.res.text));
  check('page has button "Cancel"', /<button[^>]*>\s*Cancel\s*<\/button>/.test(flow.res.text));
  const action = formAction(flow.res.text);
  check('sign-in form posts to /{tenant}/login/{uid}', action?.startsWith(`${PATHS.login}/`), action);

  const wrong = await browser.follow(action, { method: 'POST', form: { username: 'alice', password: 'nope', action: 'login' } });
  equal('wrong password re-shows the form', wrong.status, 200);
  check('wrong password message', wrong.text.includes('Wrong username or password.'));
  check('form still there after wrong password', formAction(wrong.text) === action);

  const ok = await browser.follow(action, { method: 'POST', form: { username: 'alice', password: 'alice-password', action: 'login' } });
  const cb = callbackParams(ok);
  check('redirected to the SPA redirect_uri', !!cb, ok.final?.href ?? ok.status);
  check('callback carries a code', !!cb?.code, cb);
  equal('callback state', cb?.state, flow.state);
  equal('callback iss (RFC 9207)', cb?.iss, ISSUER);

  const t = await redeem(cb.code, flow.pkce.verifier);
  equal('token status', t.status, 200);
  equal('token CORS header', t.headers.get('access-control-allow-origin'), SPA_ORIGIN);
  equal('token_type', t.json.token_type, 'Bearer');
  check('expires_in about 3600 (or SANDBOX_ACCESS_TTL)', Number.isInteger(t.json.expires_in) && t.json.expires_in > 0 && t.json.expires_in <= Number(process.env.SANDBOX_ACCESS_TTL || 3600), t.json.expires_in);
  check('scope contains the full api:// scope', t.json.scope?.split(' ').includes(READ), t.json.scope);
  check('refresh_token issued (offline_access without prompt=consent)', typeof t.json.refresh_token === 'string' && t.json.refresh_token.length > 20);
  check('id_token issued', typeof t.json.id_token === 'string');

  const id = verifyJwt(t.json.id_token);
  const now = Math.floor(Date.now() / 1000);
  check('id_token: RS256 signature verifies', id.valid, id.header);
  equal('id_token: iss', id.payload.iss, ISSUER);
  equal('id_token: aud', id.payload.aud, SPA_CLIENT_ID);
  equal('id_token: sub', id.payload.sub, alice.sub);
  equal('id_token: nonce', id.payload.nonce, flow.nonce);
  equal('id_token: name', id.payload.name, alice.name);
  equal('id_token: preferred_username', id.payload.preferred_username, alice.preferred_username);
  equal('id_token: oid', id.payload.oid, alice.oid);
  equal('id_token: tid', id.payload.tid, TENANT_ID);
  equal('id_token: ver', id.payload.ver, '2.0');
  equal('id_token: login_hint (Entra optional claim)', id.payload.login_hint, alice.login_hint);
  check('  ... opaque: not a username, not JWT-looking (no "eyJ", no dots)', typeof id.payload.login_hint === 'string' && !id.payload.login_hint.includes('alice')
    && !id.payload.login_hint.startsWith('eyJ') && /^[A-Za-z0-9_-]+$/.test(id.payload.login_hint), id.payload.login_hint);
  check('id_token: iat/exp sane', id.payload.iat <= now + 5 && id.payload.exp > now, id.payload);
  equal('token response: ext_expires_in = expires_in (Entra)', t.json.ext_expires_in, t.json.expires_in);
  check('token response: no client_info unless asked for', !('client_info' in t.json), Object.keys(t.json));

  checkAccessToken('access_token', t.json.access_token, alice, 'weather.read');

  aliceIdToken = t.json.id_token;
  aliceRefresh = t.json.refresh_token;
});

await section('refresh token rotation', async () => {
  const r1 = await refresh(aliceRefresh);
  equal('refresh status', r1.status, 200);
  equal('refresh CORS header', r1.headers.get('access-control-allow-origin'), SPA_ORIGIN);
  check('refresh returns a new (rotated) refresh token', r1.json.refresh_token && r1.json.refresh_token !== aliceRefresh);
  check('refresh returns an id_token', typeof r1.json.id_token === 'string');
  check('refresh scope has the api scope', r1.json.scope?.split(' ').includes(READ), r1.json.scope);
  checkAccessToken('refreshed access_token', r1.json.access_token, alice, 'weather.read');

  // MSAL-style: scope repeated on refresh, including offline_access.
  const r2 = await refresh(r1.json.refresh_token, { scope: BASE_SCOPE });
  equal('refresh with scope "openid profile offline_access api://.../weather.read"', r2.status, 200);
  check('  ... rotates again', r2.json.refresh_token && r2.json.refresh_token !== r1.json.refresh_token);

  const old = await refresh(aliceRefresh);
  equal('reusing a rotated refresh token is refused', old.json.error, 'invalid_grant');
  checkEntraError('  ... ', old.json, 'invalid_grant', 70000);
  const family = await refresh(r2.json.refresh_token);
  equal('  ... and (oidc-provider) revokes the rest of that sign-in\'s tokens', family.json.error, 'invalid_grant');
  checkEntraError('  ... the revoked one', family.json, 'invalid_grant', 70008);

  const evil = await refresh(r2.json.refresh_token, {}, EVIL_ORIGIN);
  check('token endpoint refuses another origin (400, no CORS header)', evil.status === 400 && evil.headers.get('access-control-allow-origin') === null, { status: evil.status, acao: evil.headers.get('access-control-allow-origin'), body: evil.json });
  checkEntraError('  ... ', evil.json, 'invalid_request', 9002326);
  check('  ... naming the request origin', evil.json.error_description?.includes(`Request origin: '${EVIL_ORIGIN}'`), evil.json.error_description);
});

await section('single sign-on, prompt=none, CORS for another origin', async () => {
  const silent = await startAuthorize(browser, { prompt: 'none' });
  const cb = callbackParams(silent.res);
  check('prompt=none with a session returns a code', !!cb?.code, cb ?? silent.res.status);
  const evil = await redeem(cb.code, silent.pkce.verifier, EVIL_ORIGIN);
  equal('code redemption from another origin refused', evil.status, 400);
  equal('  ... without Access-Control-Allow-Origin', evil.headers.get('access-control-allow-origin'), null);
  checkEntraError('  ... ', evil.json, 'invalid_request', 9002326);
  const noOrigin = await redeem(cb.code, silent.pkce.verifier, null);
  equal('code redemption without an Origin header (not from a browser page) refused', noOrigin.status, 400);
  checkEntraError('  ... ', noOrigin.json, 'invalid_request', 9002327);
  const good = await redeem(cb.code, silent.pkce.verifier);
  equal('SSO code redeems (after the refused attempt)', good.status, 200);
  check('SSO flow issues a refresh token', !!good.json.refresh_token);
  aliceRefresh = good.json.refresh_token;

  const stranger = new Browser();
  const none = await startAuthorize(stranger, { prompt: 'none' });
  const err = callbackParams(none.res);
  equal('prompt=none without a session: login_required', err?.error, 'login_required');
  check('  ... AADSTS50058 in error_description', err?.error_description?.includes('AADSTS50058'), err);
  checkAuthorizeError('  ... ', err, 'login_required', 50058);
  equal('  ... state echoed', err?.state, none.state);

  const select = await startAuthorize(browser, { prompt: 'select_account' });
  check('prompt=select_account shows the sign-in page', !!formAction(select.res.text) && select.res.text.includes('Sign in'), select.res.status);
});

await section('PKCE rules', async () => {
  const b = new Browser();
  const none = await startAuthorize(b, { noPkce: true });
  const e1 = callbackParams(none.res);
  check('authorize without code_challenge refused', e1?.error === 'invalid_request', e1 ?? none.res.status);
  const plain = await b.follow(authorizeUrl({
    challenge: 'a'.repeat(43), method: 'plain', state: 's', nonce: 'n',
  }));
  const e2 = callbackParams(plain);
  check('code_challenge_method=plain refused', !!e2?.error, e2 ?? plain.status);

  const flow = await startAuthorize(browser, { prompt: 'none' });
  const cb = callbackParams(flow.res);
  const bad = await redeem(cb.code, pkce().verifier);
  equal('wrong code_verifier: invalid_grant', bad.json.error, 'invalid_grant');
  check('  ... AADSTS501481', bad.json.error_description?.startsWith('AADSTS501481'), bad.json);
  checkEntraError('  ... ', bad.json, 'invalid_grant', 501481);

  const unregistered = await b.follow(authorizeUrl({ state: 's', nonce: 'n', challenge: pkce().challenge }).replace(encodeURIComponent(REDIRECT_URI), encodeURIComponent('http://localhost:1234/auth/callback')));
  check('unregistered redirect_uri: error page, no redirect', unregistered.status === 400 && !unregistered.final, unregistered.status);
  check('  ... the page says AADSTS50011 and names the redirect URI', unregistered.text.includes('AADSTS50011') && unregistered.text.includes('http://localhost:1234/auth/callback'), unregistered.text.slice(0, 400));
});

await section('consent for weather.write', async () => {
  const scope = `${BASE_SCOPE} ${WRITE}`;
  const silent = await startAuthorize(browser, { prompt: 'none', scope });
  const e = callbackParams(silent.res);
  equal('prompt=none needing consent: consent_required', e?.error, 'consent_required');
  checkAuthorizeError('  ... ', e, 'consent_required', 65001);
  check('  ... naming the application (id and name)', e?.error_description?.includes(`'${SPA_CLIENT_ID}' named '${SPA_CLIENT_NAME}'`), e?.error_description);

  const flow = await startAuthorize(browser, { scope });
  equal('consent page shown', flow.res.status, 200);
  check('consent page lists weather.write', flow.res.text.includes(WRITE) && !flow.res.text.includes(READ), flow.res.text);
  check('consent page has "Accept" and "Decline"', /<button[^>]*>\s*Accept\s*<\/button>/.test(flow.res.text) && /<button[^>]*>\s*Decline\s*<\/button>/.test(flow.res.text));
  const declined = await browser.follow(formAction(flow.res.text), { method: 'POST', form: { action: 'decline' } });
  const d = callbackParams(declined);
  equal('Decline: error=consent_required', d?.error, 'consent_required');
  check('  ... AADSTS65001 in error_description', d?.error_description?.includes('AADSTS65001'), d);
  checkAuthorizeError('  ... ', d, 'consent_required', 65001);
  equal('  ... state echoed', d?.state, flow.state);

  const flow2 = await startAuthorize(browser, { scope });
  const accepted = await browser.follow(formAction(flow2.res.text), { method: 'POST', form: { action: 'accept' } });
  const a = callbackParams(accepted);
  check('Accept: code returned', !!a?.code, a ?? accepted.status);
  const t = await redeem(a.code, flow2.pkce.verifier);
  equal('token after consent', t.status, 200);
  checkAccessToken('read+write access_token', t.json.access_token, alice, 'weather.read weather.write');
  check('token response scope has both api scopes', [READ, WRITE].every((s) => t.json.scope?.split(' ').includes(s)), t.json.scope);
  const r = await refresh(t.json.refresh_token);
  equal('refresh keeps both scopes without a resource parameter', decodeJwt(r.json.access_token).payload.scp, 'weather.read weather.write');

  const remembered = await startAuthorize(browser, { prompt: 'none', scope });
  check('consent remembered: prompt=none now returns a code', !!callbackParams(remembered.res)?.code, callbackParams(remembered.res));
});

await section('cancel', async () => {
  const b = new Browser();
  const flow = await startAuthorize(b);
  const res = await b.follow(formAction(flow.res.text), { method: 'POST', form: { action: 'cancel' } });
  const cb = callbackParams(res);
  equal('Cancel: error=access_denied', cb?.error, 'access_denied');
  check('  ... error_description says the user cancelled', cb?.error_description?.includes('The user cancelled the sign-in.'), cb);
  checkAuthorizeError('  ... ', cb, 'access_denied', 65004);
  equal('  ... state echoed', cb?.state, flow.state);
});

await section('second user', async () => {
  const b = new Browser();
  const flow = await signIn(b, bob);
  const cb = callbackParams(flow.res);
  const t = await redeem(cb.code, flow.pkce.verifier);
  equal('bob gets tokens', t.status, 200);
  checkAccessToken('bob access_token', t.json.access_token, bob, 'weather.read');
  equal('bob id_token name', decodeJwt(t.json.id_token).payload.name, 'Bob Example');
  const twice = await startAuthorize(b, { prompt: 'none' });
  const code = callbackParams(twice.res).code;
  const first = await redeem(code, twice.pkce.verifier);
  equal('a code redeems once', first.status, 200);
  const again = await redeem(code, twice.pkce.verifier);
  equal('a code cannot be redeemed twice', again.json.error, 'invalid_grant');
  check('  ... with AADSTS54005', again.json.error_description?.startsWith('AADSTS54005'), again.json);
  checkEntraError('  ... ', again.json, 'invalid_grant', 54005);
  const revoked = await refresh(first.json.refresh_token);
  equal('  ... and (oidc-provider) the tokens from its first redemption are revoked', revoked.json.error, 'invalid_grant');

});

/** The account-picker page's confirmation form (action and hidden id), or undefined. */
function pickerForm(html) {
  const action = formAction(html);
  const id = /<input type="hidden" name="id" value="([^"]+)"/.exec(html)?.[1];
  return action && id ? { action, id } : undefined;
}
const logoutUrl = (params) => `${ORIGIN}${PATHS.logout}?${new URLSearchParams(params)}`;
const sessionCookieCleared = (res) => res.headers.getSetCookie().some((c) => /^nimbus_idp_session=;/.test(c) && /expires=Thu, 01 Jan 1970/i.test(c));
async function signedIn(b) {
  const none = await startAuthorize(b, { prompt: 'none' });
  return !!callbackParams(none.res)?.code;
}

await section('logout (GET, as Entra documents it)', async () => {
  // logout_hint = the ID token's login_hint claim, no client_id: what MSAL.js sends.
  const hint = decodeJwt(aliceIdToken).payload.login_hint;
  const post = await browser.request(`${ORIGIN}${PATHS.logout}`, { method: 'POST', form: { post_logout_redirect_uri: POST_LOGOUT_URI, logout_hint: hint } });
  equal('POST to the logout endpoint: 405', post.status, 405);
  equal('  ... Allow: GET', post.headers.get('allow'), 'GET');
  checkEntraError('  ... JSON', parseOrUndefined(post.text), 'invalid_request', 900561);
  check('  ... and the session is still there', await signedIn(browser));

  const q = { post_logout_redirect_uri: POST_LOGOUT_URI, logout_hint: hint, state: 'st-1' };
  const done = await browser.request(logoutUrl(q));
  check('GET with logout_hint naming the signed-in user: redirect at once, no page', done.status === 302 && done.location === `${POST_LOGOUT_URI}?state=st-1`, { status: done.status, location: done.location });
  check('  ... clears the session cookie', sessionCookieCleared(done), done.headers.getSetCookie());
  check('  ... no token or hint in the redirect', !/eyJ|logout_hint|id_token/.test(done.location ?? ''), done.location);

  const after = await startAuthorize(browser);
  check('after logout, authorize shows the sign-in page again', after.res.status === 200 && !!formAction(after.res.text) && after.res.text.includes('Username'), after.res.status);
  const none = await startAuthorize(browser, { prompt: 'none' });
  equal('after logout, prompt=none: login_required', callbackParams(none.res)?.error, 'login_required');

  const r = await refresh(aliceRefresh);
  equal('refresh tokens survive logout (offline_access), like Entra', r.status, 200);

  const nobody = await browser.request(logoutUrl({ post_logout_redirect_uri: POST_LOGOUT_URI, client_id: SPA_CLIENT_ID }));
  check('GET with nobody signed in: straight back to post_logout_redirect_uri', nobody.status === 302 && nobody.location === POST_LOGOUT_URI, { status: nobody.status, location: nobody.location });
  const plain = await browser.request(logoutUrl({}));
  check('GET without post_logout_redirect_uri: the "signed out" page', plain.status === 200 && plain.text.includes('You signed out'), plain.status);

  // id_token_hint still works (and names the client).
  const b1 = new Browser();
  const f1 = await signIn(b1, bob);
  const t1 = await redeem(callbackParams(f1.res).code, f1.pkce.verifier);
  const byToken = await b1.request(logoutUrl({ post_logout_redirect_uri: POST_LOGOUT_URI, id_token_hint: t1.json.id_token }));
  check('GET with id_token_hint: redirect at once', byToken.status === 302 && byToken.location === POST_LOGOUT_URI, { status: byToken.status, location: byToken.location });
  check('  ... session gone', !(await signedIn(b1)));

  // No hint: Entra's account picker first.
  const b2 = new Browser();
  await signIn(b2, bob);
  const picker = await b2.request(logoutUrl({ post_logout_redirect_uri: POST_LOGOUT_URI, client_id: SPA_CLIENT_ID }));
  check('GET with client_id and no hint: account picker page', picker.status === 200 && /Pick an account/.test(picker.text) && picker.text.includes(bob.preferred_username)
    && /<button[^>]*>\s*Sign out\s*<\/button>/.test(picker.text), picker.status);
  const form = pickerForm(picker.text);
  check('  ... posts to the provider itself', form?.action === `${PATHS.logout}/confirm`, form);
  check('  ... and has not signed out yet', await signedIn(b2));
  const confirmed = await b2.request(new URL(form.action, ORIGIN).href, { method: 'POST', form: { id: form.id } });
  check('  ... "Sign out" then redirects to post_logout_redirect_uri', confirmed.status === 302 && confirmed.location === POST_LOGOUT_URI, { status: confirmed.status, location: confirmed.location });
  check('  ... session gone', !(await signedIn(b2)));
  const replay = await b2.request(new URL(form.action, ORIGIN).href, { method: 'POST', form: { id: form.id } });
  check('  ... the confirmation cannot be replayed', replay.status === 400 && !replay.location, replay.status);

  // A hint naming someone else, or an id_token_hint the provider cannot verify: the picker too.
  const b3 = new Browser();
  await signIn(b3, bob);
  const other = await b3.request(logoutUrl({ post_logout_redirect_uri: POST_LOGOUT_URI, logout_hint: alice.login_hint }));
  check('logout_hint of another account: the picker, not a sign-out', other.status === 200 && !!pickerForm(other.text) && await signedIn(b3), other.status);
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${enc({ alg: 'RS256', kid: 'old-key' })}.${enc({ iss: ISSUER, aud: SPA_CLIENT_ID, sub: bob.sub, iat: 1, exp: 2 })}`;
  const stale = `${input}.${crypto.sign('RSA-SHA256', Buffer.from(input), privateKey).toString('base64url')}`;
  const page2 = await b3.request(logoutUrl({ client_id: SPA_CLIENT_ID, id_token_hint: stale, post_logout_redirect_uri: POST_LOGOUT_URI }));
  const form2 = pickerForm(page2.text);
  check('an unverifiable id_token_hint (e.g. from before a restart) is ignored: the picker', page2.status === 200 && !!form2, page2.status);
  const done2 = await b3.request(new URL(form2.action, ORIGIN).href, { method: 'POST', form: { id: form2.id } });
  equal('  ... and redirects to post_logout_redirect_uri', done2.location, POST_LOGOUT_URI);
  check('  ... and the session is gone', !(await signedIn(b3)));

  // Unregistered post_logout_redirect_uri: refused, nothing happens.
  const b4 = new Browser();
  const f4 = await signIn(b4, alice);
  const t4 = await redeem(callbackParams(f4.res).code, f4.pkce.verifier);
  const h4 = decodeJwt(t4.json.id_token).payload.login_hint;
  for (const [label, params] of [
    ['unregistered URI with logout_hint', { post_logout_redirect_uri: 'http://localhost:1234/', logout_hint: h4 }],
    ['another client\'s URI with client_id', { post_logout_redirect_uri: `${MSAL_ORIGIN}/`, client_id: SPA_CLIENT_ID, logout_hint: h4 }],
    ['a client the session never signed in to (logout_hint only)', { post_logout_redirect_uri: `${SPA2_ORIGIN}/`, logout_hint: h4 }],
    ['another client\'s URI with id_token_hint', { post_logout_redirect_uri: `${SPA2_ORIGIN}/`, id_token_hint: t4.json.id_token }],
  ]) {
    const res = await b4.request(logoutUrl(params));
    check(`${label}: error page (AADSTS50011), no redirect`, res.status === 400 && !res.location && res.text.includes('AADSTS50011'), { status: res.status, location: res.location });
  }
  check('  ... and none of them signed out', await signedIn(b4));
  const unknown = await b4.request(logoutUrl({ post_logout_redirect_uri: POST_LOGOUT_URI, client_id: 'f00f00f0-0000-4000-8000-000000000000' }));
  check('unknown client_id: error page (AADSTS700016)', unknown.status === 400 && unknown.text.includes('AADSTS700016') && !unknown.location, unknown.status);
  const end4 = await b4.request(logoutUrl({ post_logout_redirect_uri: POST_LOGOUT_URI, logout_hint: h4 }));
  equal('then the right one signs out', end4.location, POST_LOGOUT_URI);
});

await section('daemon: client credentials', async () => {
  const scope = `${API_RESOURCE}/.default`;
  const basic = await tokenRequest({ grant_type: 'client_credentials', scope }, {
    origin: null,
    headers: { authorization: `Basic ${Buffer.from(`${DAEMON_CLIENT_ID}:${DAEMON_CLIENT_SECRET}`).toString('base64')}` },
  });
  equal('client_secret_basic: 200', basic.status, 200);
  const post = await tokenRequest({
    grant_type: 'client_credentials', scope, client_id: DAEMON_CLIENT_ID, client_secret: DAEMON_CLIENT_SECRET,
  }, { origin: null });
  equal('client_secret_post: 200', post.status, 200);
  equal('token_type', post.json.token_type, 'Bearer');
  check('no refresh token', !post.json.refresh_token);
  const at = verifyJwt(post.json.access_token);
  check('app token: RS256 signature verifies', at.valid, at.header);
  equal('app token: aud', at.payload.aud, API_CLIENT_ID);
  equal('app token: iss', at.payload.iss, ISSUER);
  equal('app token: roles', JSON.stringify(at.payload.roles), '["weather.read"]');
  check('app token: no scp, no scope', !('scp' in at.payload) && !('scope' in at.payload), at.payload);
  equal('app token: tid', at.payload.tid, TENANT_ID);
  equal('app token: oid', at.payload.oid, DAEMON_SP_OID);
  equal('app token: azp', at.payload.azp, DAEMON_CLIENT_ID);
  equal('app token: appid', at.payload.appid, DAEMON_CLIENT_ID);
  equal('app token: ver', at.payload.ver, '2.0');

  const wrong = await tokenRequest({
    grant_type: 'client_credentials', scope, client_id: DAEMON_CLIENT_ID, client_secret: 'wrong',
  }, { origin: null });
  equal('wrong secret: invalid_client', wrong.json.error, 'invalid_client');
  checkEntraError('  ... ', wrong.json, 'invalid_client', 7000215);
  const badScope = await tokenRequest({
    grant_type: 'client_credentials', scope: READ, client_id: DAEMON_CLIENT_ID, client_secret: DAEMON_CLIENT_SECRET,
  }, { origin: null });
  equal('scope without /.default: invalid_scope', badScope.json.error, 'invalid_scope');
  checkEntraError('  ... ', badScope.json, 'invalid_scope', 1002012);
  const fromBrowser = await tokenRequest({
    grant_type: 'client_credentials', scope, client_id: DAEMON_CLIENT_ID, client_secret: DAEMON_CLIENT_SECRET,
  }, { origin: SPA_ORIGIN });
  check('daemon from a browser origin refused', fromBrowser.status === 400 && fromBrowser.headers.get('access-control-allow-origin') === null, fromBrowser.status);
  checkEntraError('  ... ', fromBrowser.json, 'invalid_request', 9002326);
});

const ttl = Number(process.env.SANDBOX_REFRESH_TTL);
if (ttl > 0 && ttl <= 30) {
  await section(`fixed refresh-token lifetime (${ttl} s)`, async () => {
    const b = new Browser();
    const flow = await signIn(b, bob);
    const start = Date.now();
    const t = await redeem(callbackParams(flow.res).code, flow.pkce.verifier);
    await new Promise((r) => { setTimeout(r, (ttl * 1000) / 2); });
    const r1 = await refresh(t.json.refresh_token);
    equal('refresh half-way through the lifetime works', r1.status, 200);
    await new Promise((r) => { setTimeout(r, Math.max(0, start + ttl * 1000 + 1500 - Date.now())); });
    const r2 = await refresh(r1.json.refresh_token);
    equal('rotated token expires with the original lifetime', r2.json.error, 'invalid_grant');
    check('  ... AADSTS700084', r2.json.error_description?.startsWith('AADSTS700084'), r2.json);
    checkEntraError('  ... ', r2.json, 'invalid_grant', 700084);
  });
}

// ============================================================================================
// Runtime configuration, accounting and hostile mode (test helpers under /__sandbox/).

async function admin(path, body, { method = body === undefined ? 'GET' : 'POST', headers = {} } = {}) {
  const res = await fetch(`${ORIGIN}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json().catch(() => undefined) };
}
const arm = async (target, mode) => {
  const r = await admin('/__sandbox/hostile', { target, mode });
  if (r.status !== 200) throw new Error(`arming ${target}/${mode} failed: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
};
const disarm = (target) => admin('/__sandbox/hostile', target ? { clear: true, target } : { clear: true });
const getStats = () => sandbox('/__sandbox/stats');
const sleep = (ms) => new Promise((r) => { setTimeout(r, ms); });
const b64json = (seg) => JSON.parse(Buffer.from(seg, 'base64url'));

async function fetchJwks() {
  return (await fetch(`${ORIGIN}${PATHS.keys}`)).json();
}
/** RS256 check of `token` against `keys` (by kid), or against `key` (a JWK) when given. */
function rs256Valid(token, { keys, key } = {}) {
  const [h, p, s] = String(token).split('.');
  const header = b64json(h);
  const jwk = key ?? keys?.find((k) => k.kid === header.kid);
  if (!jwk || header.alg !== 'RS256') return false;
  return crypto.verify('RSA-SHA256', Buffer.from(`${h}.${p}`), crypto.createPublicKey({ key: { kty: jwk.kty, n: jwk.n, e: jwk.e }, format: 'jwk' }), Buffer.from(s ?? '', 'base64url'));
}

async function rawTokenRequest(form, { origin = SPA_ORIGIN, signal } = {}) {
  const res = await fetch(`${ORIGIN}${PATHS.token}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...(origin ? { origin } : {}) },
    body: new URLSearchParams(form),
    signal,
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}
const codeForm = (code, verifier) => ({
  grant_type: 'authorization_code', client_id: SPA_CLIENT_ID, code, redirect_uri: REDIRECT_URI, code_verifier: verifier,
});

/** A signed-in browser for alice (own session), plus a way to get fresh codes silently. */
async function session(user = alice) {
  const b = new Browser();
  const flow = await signIn(b, user);
  const cb = callbackParams(flow.res);
  if (!cb?.code) throw new Error('sign-in did not return a code');
  return {
    b,
    first: { code: cb.code, verifier: flow.pkce.verifier, nonce: flow.nonce },
    async code(opts = {}) {
      const f = await startAuthorize(b, { prompt: 'none', ...opts });
      const c = callbackParams(f.res);
      if (!c?.code) throw new Error(`silent authorize gave no code: ${JSON.stringify(c ?? f.res.status)}`);
      return { code: c.code, verifier: f.pkce.verifier, nonce: f.nonce, state: f.state };
    },
  };
}

await section('admin endpoints: loopback JSON, no Origin header', async () => {
  for (const [method, path] of [['GET', '/__sandbox/config'], ['POST', '/__sandbox/config'], ['POST', '/__sandbox/end-sessions'],
    ['GET', '/__sandbox/hostile'], ['POST', '/__sandbox/hostile'], ['POST', '/__sandbox/reset']]) {
    const r = await admin(path, method === 'POST' ? {} : undefined, { method, headers: { origin: SPA_ORIGIN } });
    equal(`${method} ${path} with an Origin header: 403`, r.status, 403);
  }
  const pre = await fetch(`${ORIGIN}/__sandbox/reset`, { method: 'OPTIONS', headers: { origin: SPA_ORIGIN, 'access-control-request-method': 'POST' } });
  equal('no CORS preflight grant for /__sandbox/reset', pre.headers.get('access-control-allow-origin'), null);
  const rebound = await new Promise((resolve, reject) => {
    const req = (HTTPS ? https : http).request(`${ORIGIN}/__sandbox/config`, {
      headers: { host: 'evil.example:5556' }, ...(HTTPS ? { servername: 'localhost' } : undefined),
    }, (res) => { res.resume(); resolve(res.statusCode); });
    req.on('error', reject);
    req.end();
  });
  equal('foreign Host header (DNS rebinding): 403', rebound, 403);
  equal('bad JSON: 400', (await fetch(`${ORIGIN}/__sandbox/config`, { method: 'POST', body: '{nope' })).status, 400);
  equal('unknown hostile target: 400', (await admin('/__sandbox/hostile', { target: 'nope', mode: 'x' })).status, 400);
  equal('unknown hostile mode: 400', (await admin('/__sandbox/hostile', { target: 'token', mode: 'nope' })).status, 400);
  const view = await admin('/__sandbox/hostile');
  check('GET /__sandbox/hostile lists the modes, nothing armed', view.status === 200 && Array.isArray(view.json?.modes?.id_token)
    && ['token', 'id_token', 'authorize', 'discovery', 'jwks'].every((t) => view.json[t] === null), view.json);
});

await section('runtime token lifetimes (POST /__sandbox/config)', async () => {
  const before = await admin('/__sandbox/config');
  check('GET config: start-up defaults', before.json?.access_ttl === ACCESS_TTL && before.json?.refresh_ttl === REFRESH_TTL, before.json);
  equal('access_ttl 0 refused', (await admin('/__sandbox/config', { access_ttl: 0 })).status, 400);
  equal('access_ttl "30" (a string) refused', (await admin('/__sandbox/config', { access_ttl: '30' })).status, 400);
  equal('unknown field refused', (await admin('/__sandbox/config', { id_ttl: 30 })).status, 400);
  const set = await admin('/__sandbox/config', { access_ttl: 30, refresh_ttl: 4 });
  check('POST config answers the new values', set.json?.access_ttl === 30 && set.json?.refresh_ttl === 4, set.json);

  const s = await session();
  const start = Date.now();
  const t = await redeem(s.first.code, s.first.verifier);
  equal('expires_in follows access_ttl', t.json.expires_in, 30);
  const at = decodeJwt(t.json.access_token).payload;
  equal('access token exp - iat = access_ttl', at.exp - at.iat, 30);
  const daemon = await tokenRequest({
    grant_type: 'client_credentials', scope: `${API_RESOURCE}/.default`, client_id: DAEMON_CLIENT_ID, client_secret: DAEMON_CLIENT_SECRET,
  }, { origin: null });
  equal('client credentials token follows access_ttl too', daemon.json.expires_in, 30);

  await sleep(2000);
  const r1 = await refresh(t.json.refresh_token);
  equal('refresh half-way through the 4 s lifetime works', r1.status, 200);
  equal('  ... refreshed expires_in follows access_ttl', r1.json.expires_in, 30);
  await admin('/__sandbox/config', { refresh_ttl: 3600 });
  await sleep(Math.max(0, start + 5200 - Date.now()));
  const r2 = await refresh(r1.json.refresh_token);
  equal('the rotated token still ends 4 s after sign-in (a later refresh_ttl change does not extend it)', r2.json.error, 'invalid_grant');
  check('  ... AADSTS700084 naming the 4 s lifetime', /^AADSTS700084:.*lifetime of 4 seconds/.test(r2.json.error_description ?? ''), r2.json);
  checkEntraError('  ... ', r2.json, 'invalid_grant', 700084);

  const back = await admin('/__sandbox/config', { access_ttl: ACCESS_TTL, refresh_ttl: REFRESH_TTL });
  check('config restored', back.json?.access_ttl === ACCESS_TTL && back.json?.refresh_ttl === REFRESH_TTL, back.json);
});

await section('refresh-token reuse accounting (stats.refresh_reuse)', async () => {
  const s = await session();
  const t = await redeem(s.first.code, s.first.verifier);
  const base = (await getStats()).refresh_reuse;
  check('stats.refresh_reuse is a number', typeof base === 'number', base);
  const r1 = await refresh(t.json.refresh_token);
  const r2 = await refresh(r1.json.refresh_token);
  check('normal rotation (twice) works', r1.status === 200 && r2.status === 200);
  equal('  ... and counts no reuse', (await getStats()).refresh_reuse - base, 0);
  const again = await refresh(t.json.refresh_token);
  equal('presenting a rotated-away token: invalid_grant', again.json.error, 'invalid_grant');
  equal('  ... counted once', (await getStats()).refresh_reuse - base, 1);
  await refresh(r1.json.refresh_token);
  equal('  ... another stale token of the (now revoked) family counted as well', (await getStats()).refresh_reuse - base, 2);
  const unknown = await refresh('not-a-refresh-token-at-all');
  check('an unknown token is not reuse', unknown.json.error === 'invalid_grant' && (await getStats()).refresh_reuse - base === 2);

  const s2 = await session(bob);
  const t2 = await redeem(s2.first.code, s2.first.verifier);
  const mid = (await getStats()).refresh_reuse;
  const both = await Promise.all([refresh(t2.json.refresh_token), refresh(t2.json.refresh_token)]);
  check('two concurrent redemptions of one token: at least one succeeds', both.some((r) => r.status === 200), both.map((r) => r.status));
  equal('  ... counted as one reuse', (await getStats()).refresh_reuse - mid, 1);
});

await section('end every provider session (POST /__sandbox/end-sessions)', async () => {
  const s = await session();
  const t = await redeem(s.first.code, s.first.verifier);
  await s.code(); // a session exists
  const ended = await admin('/__sandbox/end-sessions', {});
  check('end-sessions answers how many it ended', ended.status === 200 && ended.json?.ended >= 1, ended.json);
  const none = await startAuthorize(s.b, { prompt: 'none' });
  const cb = callbackParams(none.res);
  equal('prompt=none afterwards: login_required', cb?.error, 'login_required');
  check('  ... AADSTS50058', cb?.error_description?.includes('AADSTS50058'), cb);
  const page = await startAuthorize(s.b);
  check('an interactive authorize shows the sign-in page', page.res.status === 200 && !!formAction(page.res.text) && page.res.text.includes('Username'));
  const r = await refresh(t.json.refresh_token);
  equal('refresh tokens (offline_access) outlive the session, as with sign-out', r.status, 200);
});

await section('consent and refresh scopes (AADSTS65001)', async () => {
  await sandbox('/__sandbox/reset-consents', 'POST');
  const s = await session(bob);
  const t = await redeem(s.first.code, s.first.verifier);
  const denied = await refresh(t.json.refresh_token, { scope: `openid offline_access ${WRITE}` });
  equal('refresh asking for a not-consented scope: invalid_grant (not invalid_scope)', denied.json.error, 'invalid_grant');
  check('  ... error_description starts with AADSTS65001:', denied.json.error_description?.startsWith('AADSTS65001:'), denied.json);
  equal('  ... suberror consent_required', denied.json.suberror, 'consent_required');
  checkEntraError('  ... ', denied.json, 'invalid_grant', 65001);
  const email = await refresh(t.json.refresh_token, { scope: 'openid email' });
  check('same for an OIDC scope never consented (email)', email.json.error === 'invalid_grant' && email.json.error_description?.startsWith('AADSTS65001:'), email.json);
  const bogus = await refresh(t.json.refresh_token, { scope: 'api://00000000-1111-2222-3333-444444444444/nothing' });
  equal('an unknown scope stays invalid_scope', bogus.json.error, 'invalid_scope');
  checkEntraError('  ... ', bogus.json, 'invalid_scope', 70011);
  const readOnly = await refresh(t.json.refresh_token, { scope: `openid offline_access ${READ}` });
  equal('the refused refreshes left the token usable: read refresh works', readOnly.status, 200);
  equal('  ... scp weather.read', decodeJwt(readOnly.json.access_token).payload.scp, 'weather.read');

  const scope = `${BASE_SCOPE} ${WRITE}`;
  const flow = await startAuthorize(s.b, { scope });
  check('authorize with weather.write shows the consent page', flow.res.status === 200 && flow.res.text.includes(WRITE));
  const accepted = await s.b.follow(formAction(flow.res.text), { method: 'POST', form: { action: 'accept' } });
  const a = callbackParams(accepted);
  const rw = await redeem(a.code, flow.pkce.verifier);
  check('after Accept: token response scope includes weather.write', rw.json.scope?.split(' ').includes(WRITE), rw.json.scope);
  equal('  ... access token scp', decodeJwt(rw.json.access_token).payload.scp, 'weather.read weather.write');
  const onlyRead = await refresh(rw.json.refresh_token, { scope: `openid offline_access ${READ}` });
  check('later refresh asking only for read: 200, scp weather.read', onlyRead.status === 200 && decodeJwt(onlyRead.json.access_token).payload.scp === 'weather.read', onlyRead.json);
  const both = await refresh(onlyRead.json.refresh_token, { scope: `openid offline_access ${READ} ${WRITE}` });
  check('later refresh asking for read+write: 200, both in scp', both.status === 200 && decodeJwt(both.json.access_token).payload.scp === 'weather.read weather.write', both.json);
  const widened = await refresh(readOnly.json.refresh_token, { scope: `openid offline_access ${READ} ${WRITE}` });
  check('a refresh token from before the consent can now get weather.write (Entra: consent is per user and app)', widened.status === 200 && decodeJwt(widened.json.access_token).payload.scp === 'weather.read weather.write', widened.json);
  await sandbox('/__sandbox/reset-consents', 'POST');
});

await section('claims request parameter (continuous access evaluation)', async () => {
  const d = await (await fetch(`${ORIGIN}${PATHS.discovery}`)).json();
  equal('discovery: claims_parameter_supported', d.claims_parameter_supported, true);
  const claims = JSON.stringify({ access_token: { acrs: { essential: true, value: 'c1' } } });
  const s = await session();
  const before = (await getStats()).claims_requests;
  const c = await s.code({ extra: { claims } });
  const t = await redeem(c.code, c.verifier);
  equal('authorize with claims: tokens issued', t.status, 200);
  const at = decodeJwt(t.json.access_token).payload;
  equal('access token: xms_cc_satisfied', at.xms_cc_satisfied, true);
  equal('access token: acrs from the request', JSON.stringify(at.acrs), '["c1"]');
  check('access token still verifies', rs256Valid(t.json.access_token, { keys: (await fetchJwks()).keys }));
  const st = await getStats();
  equal('stats.claims_requests counted', st.claims_requests - before, 1);
  equal('stats.claims_last is the raw value', st.claims_last, claims);
  const plain = await s.code();
  const tp = await redeem(plain.code, plain.verifier);
  check('a code without claims: no xms_cc_satisfied', !('xms_cc_satisfied' in decodeJwt(tp.json.access_token).payload));
  const rr = await refresh(t.json.refresh_token);
  check('a refresh afterwards: no xms_cc_satisfied (only the code\'s token says so)', rr.status === 200 && !('xms_cc_satisfied' in decodeJwt(rr.json.access_token).payload));
  const beforeTok = (await getStats()).claims_token_requests;
  const rc = await refresh(rr.json.refresh_token, { claims });
  check('a refresh_token request with claims: xms_cc_satisfied and acrs', rc.status === 200 && decodeJwt(rc.json.access_token).payload.xms_cc_satisfied === true
    && JSON.stringify(decodeJwt(rc.json.access_token).payload.acrs) === '["c1"]', rc.json);
  equal('  ... counted in stats.claims_token_requests', (await getStats()).claims_token_requests - beforeTok, 1);

  const b = new Browser();
  const flow = await signIn(b, bob, { extra: { claims: JSON.stringify({ access_token: { acrs: { essential: true, values: ['c1', 'c2'] } } }) } });
  const tb = await redeem(callbackParams(flow.res).code, flow.pkce.verifier);
  const atb = decodeJwt(tb.json.access_token).payload;
  check('claims survive the sign-in page round trip', atb.xms_cc_satisfied === true && JSON.stringify(atb.acrs) === '["c1","c2"]', atb);
});

await section('client capabilities (xms_cc) are not claims challenges', async () => {
  const cp1 = JSON.stringify({ access_token: { xms_cc: { values: ['CP1'] } } });
  const s = await session();
  const before = await getStats();
  const c = await s.code({ extra: { claims: cp1 } });
  const t = await redeem(c.code, c.verifier);
  equal('authorize declaring CP1: tokens issued', t.status, 200);
  const at = decodeJwt(t.json.access_token).payload;
  equal('access token: xms_cc ["cp1"] (Entra\'s claim)', JSON.stringify(at.xms_cc), '["cp1"]');
  check('  ... no xms_cc_satisfied, no acrs (nothing was challenged)', !('xms_cc_satisfied' in at) && !('acrs' in at), at);
  let st = await getStats();
  equal('stats.capability_requests counted', st.capability_requests - before.capability_requests, 1);
  equal('  ... not stats.claims_requests (challenge responses)', st.claims_requests, before.claims_requests);
  equal('  ... claims_last unchanged', st.claims_last, before.claims_last);

  const r1 = await refresh(t.json.refresh_token);
  equal('a refresh of that grant without claims: still xms_cc', JSON.stringify(decodeJwt(r1.json.access_token).payload.xms_cc), '["cp1"]');
  const r2 = await refresh(r1.json.refresh_token, { claims: cp1 });
  check('a refresh carrying the capability claims (as MSAL sends them): 200, xms_cc, no xms_cc_satisfied', r2.status === 200
    && JSON.stringify(decodeJwt(r2.json.access_token).payload.xms_cc) === '["cp1"]' && !('xms_cc_satisfied' in decodeJwt(r2.json.access_token).payload), r2.json);
  st = await getStats();
  equal('  ... counted in stats.capability_token_requests', st.capability_token_requests - before.capability_token_requests, 1);
  equal('  ... not in stats.claims_token_requests', st.claims_token_requests, before.claims_token_requests);

  const c2 = await s.code();
  const withBody = await redeem(c2.code, c2.verifier, SPA_ORIGIN, { extra: { claims: cp1 } });
  check('a code redemption carrying claims (MSAL sends them there too): 200 and xms_cc', withBody.status === 200
    && JSON.stringify(decodeJwt(withBody.json.access_token).payload.xms_cc) === '["cp1"]', withBody.json);

  // MSAL merges client capabilities into a challenge's claims: that is a challenge response.
  const merged = JSON.stringify({ access_token: { xms_cc: { values: ['cp1'] }, acrs: { essential: true, value: 'c1' } } });
  const mid = await getStats();
  const c3 = await s.code({ extra: { claims: merged } });
  const t3 = await redeem(c3.code, c3.verifier);
  const at3 = decodeJwt(t3.json.access_token).payload;
  check('challenge merged with xms_cc: xms_cc_satisfied, acrs and xms_cc', at3.xms_cc_satisfied === true && JSON.stringify(at3.acrs) === '["c1"]' && JSON.stringify(at3.xms_cc) === '["cp1"]', at3);
  st = await getStats();
  check('  ... counted as a challenge response, not a capability declaration', st.claims_requests - mid.claims_requests === 1 && st.capability_requests === mid.capability_requests && st.claims_last === merged, st);
  const r3 = await refresh(t3.json.refresh_token, { claims: merged });
  check('a refresh answering a merged challenge: xms_cc_satisfied, counted in claims_token_requests', decodeJwt(r3.json.access_token).payload.xms_cc_satisfied === true
    && (await getStats()).claims_token_requests - st.claims_token_requests === 1, r3.json);

  const plain = await session(bob);
  const tp = await redeem(plain.first.code, plain.first.verifier);
  check('a sign-in declaring nothing: no xms_cc', !('xms_cc' in decodeJwt(tp.json.access_token).payload));

  // What MSAL.js 5 really sends: its default optional ID-token claims, plus xms_cc.
  const optional = { signin_state: { essential: false }, login_hint: { essential: false }, tenant_region_sub_scope: { essential: false } };
  const msalClaims = JSON.stringify({ id_token: optional, access_token: { xms_cc: { values: ['CP1'] } } });
  const m0 = await getStats();
  const c4 = await plain.code({ extra: { claims: msalClaims } });
  const t4 = await redeem(c4.code, c4.verifier, SPA_ORIGIN, { extra: { claims: msalClaims } });
  const at4 = decodeJwt(t4.json.access_token).payload;
  check('MSAL.js\'s claims (optional ID-token claims + xms_cc): xms_cc, no xms_cc_satisfied', JSON.stringify(at4.xms_cc) === '["cp1"]' && !('xms_cc_satisfied' in at4), at4);
  let m1 = await getStats();
  check('  ... a capability declaration, not a challenge response (authorize and token request)', m1.capability_requests - m0.capability_requests === 1
    && m1.capability_token_requests - m0.capability_token_requests === 1 && m1.claims_requests === m0.claims_requests, m1);
  const fresh = await session(bob); // a new sign-in: a new grant, which never declared capabilities
  const c5 = await fresh.code({ extra: { claims: JSON.stringify({ id_token: optional }) } });
  const at5 = decodeJwt((await redeem(c5.code, c5.verifier)).json.access_token).payload;
  m1 = await getStats();
  check('only optional ID-token claims (MSAL.js without clientCapabilities): neither counted, no xms_cc', !('xms_cc' in at5) && !('xms_cc_satisfied' in at5)
    && m1.claims_requests === m0.claims_requests && m1.capability_requests - m0.capability_requests === 1, m1);
  const essential = JSON.stringify({ id_token: { acr: { essential: true, value: 'c1' } } });
  const c6 = await plain.code({ extra: { claims: essential } });
  await redeem(c6.code, c6.verifier);
  equal('an essential ID-token claim counts as a challenge response', (await getStats()).claims_requests - m0.claims_requests, 1);
});

await section('Entra error shapes and extras (token endpoint)', async () => {
  const corr = crypto.randomUUID();
  const viaHeader = await tokenRequest({ grant_type: 'refresh_token', client_id: SPA_CLIENT_ID, refresh_token: 'nope' }, { headers: { 'client-request-id': corr } });
  checkEntraError('unknown refresh token, client-request-id header', viaHeader.json, 'invalid_grant', 70008, { correlationId: corr });
  const corr2 = crypto.randomUUID();
  const viaQuery = await fetch(`${ORIGIN}${PATHS.token}?client-request-id=${corr2}`, {
    method: 'POST', headers: { origin: SPA_ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'refresh_token', client_id: SPA_CLIENT_ID, refresh_token: 'nope' }),
  });
  checkEntraError('  ... client-request-id in the query (as MSAL.js sends it) is the correlation id', await viaQuery.json(), 'invalid_grant', 70008, { correlationId: corr2 });
  const missing = await tokenRequest({ grant_type: 'authorization_code', client_id: SPA_CLIENT_ID, redirect_uri: REDIRECT_URI, code_verifier: 'x'.repeat(43) });
  checkEntraError('missing code', missing.json, 'invalid_request', 900144);
  const unsupported = await tokenRequest({ grant_type: 'password', client_id: SPA_CLIENT_ID, username: 'alice', password: 'alice-password' });
  check('unsupported grant type: an Entra-shaped error', ENTRA_DESCRIPTION.test(unsupported.json.error_description ?? '') && unsupported.status === 400, unsupported.json);
  const get = await fetch(`${ORIGIN}${PATHS.token}`);
  equal('GET on the token endpoint: 405', get.status, 405);
  checkEntraError('  ... ', await get.json(), 'invalid_request', 900561);

  const s = await session();
  const c = await s.code();
  const t = await redeem(c.code, c.verifier, SPA_ORIGIN, { extra: { client_info: '1' } });
  const ci = parseOrUndefined(Buffer.from(t.json.client_info ?? '', 'base64url').toString('utf8'));
  check('client_info=1: client_info is base64url {"uid": oid, "utid": tid} (MSAL.js builds its account id from it)', ci?.uid === alice.oid && ci?.utid === TENANT_ID, t.json.client_info);
  const r = await refresh(t.json.refresh_token, { client_info: '1' });
  check('  ... on refresh too', !!r.json.client_info, Object.keys(r.json));
  const noOrigin = await refresh(r.json.refresh_token, {}, null);
  equal('refresh of an SPA token without an Origin header refused', noOrigin.status, 400);
  checkEntraError('  ... ', noOrigin.json, 'invalid_request', 9002327);
  equal('  ... and the refresh token stays usable', (await refresh(r.json.refresh_token)).status, 200);
});

await section('more SPA registrations: the second Nimbus deployment and the MSAL.js sample', async () => {
  const spa2 = { clientId: SPA2_CLIENT_ID, redirectUri: `${SPA2_ORIGIN}/auth/callback` };
  const b = new Browser();
  const flow = await signIn(b, alice, spa2);
  const cb = callbackParams(flow.res, spa2.redirectUri);
  check('second deployment: sign-in returns a code to its redirect URI', !!cb?.code, flow.res.final?.href ?? flow.res.status);
  const named = await startAuthorize(new Browser(), spa2);
  check('  ... its sign-in page names it', named.res.text.includes('Nimbus (second deployment)'), named.res.status);
  const wrongOrigin = await redeem(cb.code, flow.pkce.verifier, SPA_ORIGIN, spa2);
  check('  ... its code redeemed from the first deployment\'s origin: refused (9002326, no CORS)', wrongOrigin.status === 400 && wrongOrigin.headers.get('access-control-allow-origin') === null && wrongOrigin.json.error_codes?.[0] === 9002326, wrongOrigin.json);
  const t = await redeem(cb.code, flow.pkce.verifier, SPA2_ORIGIN, spa2);
  check('  ... from its own origin: tokens, CORS for that origin', t.status === 200 && t.headers.get('access-control-allow-origin') === SPA2_ORIGIN, t.status);
  equal('  ... ID token aud', decodeJwt(t.json.id_token).payload.aud, SPA2_CLIENT_ID);
  equal('  ... access token azp', decodeJwt(t.json.access_token).payload.azp, SPA2_CLIENT_ID);
  equal('  ... refresh from its origin', (await refresh(t.json.refresh_token, {}, SPA2_ORIGIN, SPA2_CLIENT_ID)).status, 200);
  const firstFrom8081 = await redeem('x', 'y'.repeat(43), SPA2_ORIGIN);
  check('the first deployment\'s client from the second\'s origin: refused, no CORS', firstFrom8081.status === 400 && firstFrom8081.headers.get('access-control-allow-origin') === null && firstFrom8081.json.error_codes?.[0] === 9002326, firstFrom8081.json);
  const cross = await b.follow(authorizeUrl({ ...spa2, redirectUri: REDIRECT_URI, state: 's', nonce: 'n', challenge: pkce().challenge }));
  check('second deployment with the first one\'s redirect URI: error page AADSTS50011', cross.status === 400 && !cross.final && cross.text.includes('AADSTS50011'), cross.status);
  const noPkce = await b.follow(authorizeUrl({ ...spa2, state: 's', nonce: 'n' }));
  check('second deployment without PKCE: refused', callbackParams(noPkce, spa2.redirectUri)?.error === 'invalid_request', callbackParams(noPkce, spa2.redirectUri));

  for (const origin of [SPA_ORIGIN, SPA2_ORIGIN, MSAL_ORIGIN, OIDC_TS_ORIGIN, MSAL_REACT_ORIGIN]) {
    const pre = await fetch(`${ORIGIN}${PATHS.token}`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    equal(`token preflight from ${origin}`, pre.headers.get('access-control-allow-origin'), origin);
  }

  // The MSAL.js sample: redirect URI is the app's root, response_mode=fragment (MSAL's default).
  const msal = { clientId: MSAL_CLIENT_ID, redirectUri: `${MSAL_ORIGIN}/`, responseMode: 'fragment' };
  const cp1 = JSON.stringify({ access_token: { xms_cc: { values: ['CP1'] } } });
  const m = new Browser();
  const mf = await signIn(m, bob, { ...msal, extra: { claims: cp1, client_info: '1' } });
  check('MSAL.js sample: the code comes back in the fragment', !!mf.res.final?.hash && /[#&]code=/.test(mf.res.final.hash) && !mf.res.final.search, mf.res.final?.href);
  const mc = callbackParams(mf.res, msal.redirectUri);
  const mt = await redeem(mc.code, mf.pkce.verifier, MSAL_ORIGIN, { ...msal, extra: { client_info: '1', claims: cp1 } });
  check('  ... redeemed from http://localhost:8082 with CORS', mt.status === 200 && mt.headers.get('access-control-allow-origin') === MSAL_ORIGIN, mt.json);
  equal('  ... access token xms_cc', JSON.stringify(decodeJwt(mt.json.access_token).payload.xms_cc), '["cp1"]');
  check('  ... client_info', !!mt.json.client_info);
  const hint = decodeJwt(mt.json.id_token).payload.login_hint;
  equal('  ... ID token login_hint', hint, bob.login_hint);
  const out = await m.request(logoutUrl({ post_logout_redirect_uri: `${MSAL_ORIGIN}/`, logout_hint: hint }));
  check('  ... MSAL.js-style logout (post_logout_redirect_uri + logout_hint, no client_id): straight back to the app', out.status === 302 && out.location === `${MSAL_ORIGIN}/`, { status: out.status, location: out.location });
  check('  ... session gone', !(await signedIn(m)));
  const mErr = await m.follow(authorizeUrl({ ...msal, prompt: 'none', state: 's', nonce: 'n', challenge: pkce().challenge }));
  checkAuthorizeError('  ... prompt=none afterwards, in the fragment', callbackParams(mErr, msal.redirectUri), 'login_required', 50058);
});

await section('login_hint at the authorization endpoint', async () => {
  const b = new Browser();
  const byClaim = await startAuthorize(b, { extra: { login_hint: alice.login_hint } });
  check('the ID token\'s login_hint value pre-fills the username', /id="username"[^>]*value="alice@nimbus.test"/.test(byClaim.res.text), byClaim.res.text.match(/<input id="username"[^>]*>/)?.[0]);
  const byName = await startAuthorize(b, { extra: { login_hint: 'bob@nimbus.test' } });
  check('a username as login_hint pre-fills it as given', /id="username"[^>]*value="bob@nimbus.test"/.test(byName.res.text), byName.res.text.match(/<input id="username"[^>]*>/)?.[0]);
});

await section('hostile token responses (target "token")', async () => {
  const s = await session();
  const viaCode = async (mode, opts) => {
    const c = await s.code();
    if (mode) await arm('token', mode);
    return { c, r: await rawTokenRequest(codeForm(c.code, c.verifier), opts) };
  };

  let { c, r } = await viaCode('html_body');
  check('html_body: 200 text/html, not JSON', r.status === 200 && r.headers.get('content-type')?.startsWith('text/html') && parseOrUndefined(r.text) === undefined, { status: r.status, ct: r.headers.get('content-type') });
  const retry = await rawTokenRequest(codeForm(c.code, c.verifier));
  check('  ... one-shot, and the code was not redeemed (a re-post would succeed)', retry.status === 200 && !!parseOrUndefined(retry.text)?.access_token, retry.status);

  ({ r } = await viaCode('truncated_json'));
  check('truncated_json: 200 application/json that does not parse', r.status === 200 && r.headers.get('content-type')?.includes('json') && parseOrUndefined(r.text) === undefined && r.text.startsWith('{'), r.text.slice(0, 40));

  ({ r } = await viaCode('missing_access_token'));
  let j = parseOrUndefined(r.text);
  check('missing_access_token: no access_token, rest present', r.status === 200 && !('access_token' in j) && !!j.id_token && !!j.refresh_token, Object.keys(j ?? {}));

  ({ r } = await viaCode('token_type_mac'));
  equal('token_type_mac: token_type', parseOrUndefined(r.text)?.token_type, 'MAC');

  ({ r } = await viaCode('missing_expires_in'));
  j = parseOrUndefined(r.text);
  check('missing_expires_in: no expires_in, access_token present', !('expires_in' in j) && !!j.access_token, Object.keys(j ?? {}));

  ({ r } = await viaCode('absurd_expires_in'));
  equal('absurd_expires_in: 10^12', parseOrUndefined(r.text)?.expires_in, 10 ** 12);

  ({ c, r } = await viaCode('status_400'));
  j = parseOrUndefined(r.text);
  check('status_400: 400 invalid_grant JSON with CORS', r.status === 400 && j?.error === 'invalid_grant' && r.headers.get('access-control-allow-origin') === SPA_ORIGIN, { status: r.status, j });
  checkEntraError('  ... ', j, 'invalid_grant', 70000);
  equal('  ... the code was not redeemed', (await rawTokenRequest(codeForm(c.code, c.verifier))).status, 200);

  ({ r } = await viaCode('status_500'));
  check('status_500: 500 text/html with CORS', r.status === 500 && r.headers.get('content-type')?.startsWith('text/html') && r.headers.get('access-control-allow-origin') === SPA_ORIGIN, r.status);

  ({ r } = await viaCode('status_429'));
  j = parseOrUndefined(r.text);
  check('status_429: 429 temporarily_unavailable + Retry-After (exposed to CORS)', r.status === 429 && j?.error === 'temporarily_unavailable'
    && Number(r.headers.get('retry-after')) > 0 && /retry-after/i.test(r.headers.get('access-control-expose-headers') ?? ''), { status: r.status, j, ra: r.headers.get('retry-after') });
  checkEntraError('  ... ', j, 'temporarily_unavailable', 50196);

  ({ r } = await viaCode('no_cors'));
  j = parseOrUndefined(r.text);
  check('no_cors: real tokens, no Access-Control-Allow-Origin', r.status === 200 && !!j?.access_token && r.headers.get('access-control-allow-origin') === null, { status: r.status, acao: r.headers.get('access-control-allow-origin') });

  const h = await s.code();
  await arm('token', 'hang');
  const t0 = Date.now();
  let outcome;
  try {
    await rawTokenRequest(codeForm(h.code, h.verifier), { signal: AbortSignal.timeout(1500) });
    outcome = 'answered';
  } catch (err) {
    outcome = err.name;
  }
  check('hang: no answer within 1.5 s (client timeout fires)', outcome === 'TimeoutError' && Date.now() - t0 >= 1400, outcome);
  equal('  ... the code was not redeemed', (await rawTokenRequest(codeForm(h.code, h.verifier))).status, 200);

  const s2 = await session(bob);
  const bt = await redeem(s2.first.code, s2.first.verifier);
  await arm('token', 'status_500');
  const rr = await refresh(bt.json.refresh_token);
  equal('  ... refresh while armed: normal 200', rr.status, 200);
  const cc = await s.code();
  equal('  ... then the code redemption gets the 500', (await rawTokenRequest(codeForm(cc.code, cc.verifier))).status, 500);
  equal('  ... and the next one is normal', (await rawTokenRequest(codeForm(cc.code, cc.verifier))).status, 200);
});

await section('hostile ID tokens (target "id_token")', async () => {
  const s = await session();
  const jw = await fetchJwks();
  const real = jw.keys[0];
  const pem = crypto.createPublicKey({ key: { kty: 'RSA', n: real.n, e: real.e }, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
  const now = () => Math.floor(Date.now() / 1000);
  const run = async (mode) => {
    const c = await s.code();
    await arm('id_token', mode);
    const t = await redeem(c.code, c.verifier);
    if (t.status !== 200 || !t.json.id_token) throw new Error(`${mode}: no token response (${t.status})`);
    const [h, p, sig] = t.json.id_token.split('.');
    let header; let payload;
    try { header = b64json(h); } catch { header = undefined; }
    try { payload = b64json(p); } catch { payload = undefined; }
    check(`${mode}: the access token beside it is intact`, rs256Valid(t.json.access_token, { keys: jw.keys }));
    return {
      jwt: t.json.id_token, header, payload, sig, nonce: c.nonce,
    };
  };
  const intact = (label, x, except) => {
    const want = { iss: ISSUER, aud: SPA_CLIENT_ID, sub: alice.sub, nonce: x.nonce };
    const wrong = Object.entries(want).filter(([k, v]) => k !== except && x.payload?.[k] !== v).map(([k]) => k);
    const timesOk = except === 'time' || (x.payload.exp > now() && x.payload.iat <= now() + 5);
    check(`${label}: every other claim intact`, wrong.length === 0 && timesOk, { wrong, payload: x.payload });
  };
  const realSig = (label, x) => check(`${label}: RS256 with the real key and kid`, x.header?.kid === real.kid && rs256Valid(x.jwt, { keys: jw.keys }), x.header);

  let x = await run('bad_signature');
  check('bad_signature: alg RS256, real kid, signature does not verify', x.header.alg === 'RS256' && x.header.kid === real.kid && !rs256Valid(x.jwt, { keys: jw.keys }));
  intact('bad_signature', x);

  x = await run('alg_none');
  check('alg_none: header alg none, empty signature', x.header.alg === 'none' && x.sig === '' && x.jwt.endsWith('.'), x.header);
  intact('alg_none', x);

  x = await run('hs256_public_key');
  const mac = crypto.createHmac('sha256', pem).update(x.jwt.split('.').slice(0, 2).join('.')).digest('base64url');
  check('hs256_public_key: alg HS256, HMAC keyed with the public key PEM', x.header.alg === 'HS256' && x.sig === mac, x.header);
  intact('hs256_public_key', x);

  x = await run('unknown_kid');
  const refetched = await fetchJwks();
  check('unknown_kid: kid not in the JWKS, even when refetched', !!x.header.kid && x.header.kid !== real.kid && !refetched.keys.some((k) => k.kid === x.header.kid), x.header);
  equal('  ... GET /__sandbox/hostile reports that kid', (await admin('/__sandbox/hostile')).json?.last?.kid, x.header.kid);
  intact('unknown_kid', x);

  x = await run('missing_kid_multi');
  check('missing_kid_multi: no kid in the header, signed with the real key', !('kid' in x.header) && rs256Valid(x.jwt, { key: real }), x.header);
  intact('missing_kid_multi', x);
  const multi = await fetchJwks();
  check('  ... and the JWKS now has two RSA signing keys', multi.keys.filter((k) => k.kty === 'RSA' && k.use === 'sig').length === 2, multi.keys.map((k) => k.kid));
  await disarm('id_token');
  equal('  ... until cleared', (await fetchJwks()).keys.length, 1);

  x = await run('wrong_iss');
  check('wrong_iss: another issuer', x.payload.iss !== ISSUER && typeof x.payload.iss === 'string', x.payload.iss);
  realSig('wrong_iss', x); intact('wrong_iss', x, 'iss');

  x = await run('wrong_aud');
  check('wrong_aud: another audience', x.payload.aud !== SPA_CLIENT_ID && typeof x.payload.aud === 'string', x.payload.aud);
  realSig('wrong_aud', x); intact('wrong_aud', x, 'aud');

  x = await run('extra_aud');
  equal('extra_aud: [client, "other-app"]', JSON.stringify(x.payload.aud), JSON.stringify([SPA_CLIENT_ID, 'other-app']));
  realSig('extra_aud', x); intact('extra_aud', x, 'aud');

  x = await run('wrong_nonce');
  check('wrong_nonce: another nonce', typeof x.payload.nonce === 'string' && x.payload.nonce !== x.nonce, x.payload.nonce);
  realSig('wrong_nonce', x); intact('wrong_nonce', x, 'nonce');

  x = await run('missing_nonce');
  check('missing_nonce: no nonce', !('nonce' in x.payload), x.payload);
  realSig('missing_nonce', x); intact('missing_nonce', x, 'nonce');

  x = await run('expired');
  check('expired: exp an hour ago, iat two hours ago', Math.abs(x.payload.exp - (now() - 3600)) < 10 && Math.abs(x.payload.iat - (now() - 7200)) < 10, x.payload);
  realSig('expired', x); intact('expired', x, 'time');

  x = await run('future_iat');
  check('future_iat: iat an hour ahead', Math.abs(x.payload.iat - (now() + 3600)) < 10 && x.payload.exp > x.payload.iat, x.payload);
  realSig('future_iat', x); intact('future_iat', x, 'time');

  x = await run('missing_sub');
  check('missing_sub: no sub', !('sub' in x.payload), x.payload);
  realSig('missing_sub', x); intact('missing_sub', x, 'sub');

  x = await run('malformed_segments');
  equal('malformed_segments: four segments', x.jwt.split('.').length, 4);
  x = await run('malformed_base64');
  check('malformed_base64: payload segment outside base64url', !/^[A-Za-z0-9_-]+$/.test(x.jwt.split('.')[1]), x.jwt.split('.')[1].slice(0, 20));
  x = await run('malformed_json');
  check('malformed_json: payload is not JSON, signature valid', x.payload === undefined && rs256Valid(x.jwt, { keys: jw.keys }));

  const after = await s.code();
  const normal = await redeem(after.code, after.verifier);
  check('one-shot: the next ID token is normal', rs256Valid(normal.json.id_token, { keys: jw.keys }) && decodeJwt(normal.json.id_token).payload.nonce === after.nonce);
});

await section('hostile discovery and JWKS (targets "discovery", "jwks")', async () => {
  await arm('discovery', 'issuer_mismatch');
  for (let i = 1; i <= 2; i += 1) {
    const res = await fetch(`${ORIGIN}${PATHS.discovery}`, { headers: { origin: SPA_ORIGIN } });
    const d = await res.json();
    check(`issuer_mismatch (request ${i}): another issuer, same endpoints, CORS`, d.issuer !== ISSUER && d.token_endpoint === `${ORIGIN}${PATHS.token}` && res.headers.get('access-control-allow-origin') === SPA_ORIGIN, d.issuer);
  }
  await arm('discovery', 'malformed_json');
  const m = await fetch(`${ORIGIN}${PATHS.discovery}`);
  const mt = await m.text();
  check('malformed_json: 200 application/json that does not parse', m.status === 200 && m.headers.get('content-type')?.includes('json') && parseOrUndefined(mt) === undefined);
  await arm('discovery', 'unreachable');
  let err;
  try { await fetch(`${ORIGIN}${PATHS.discovery}`); } catch (e) { err = e; }
  check('unreachable: the connection is dropped without an answer', err instanceof TypeError, err?.message);
  await disarm('discovery');
  equal('cleared: discovery normal again', (await (await fetch(`${ORIGIN}${PATHS.discovery}`)).json()).issuer, ISSUER);

  const original = await fetchJwks();
  await arm('jwks', 'no_usable_key');
  const nu = await fetch(`${ORIGIN}${PATHS.keys}`, { headers: { origin: SPA_ORIGIN } });
  const nuj = await nu.json();
  check('no_usable_key: no RSA signing key left (only use=enc RSA and EC)', nuj.keys.length > 0 && !nuj.keys.some((k) => k.kty === 'RSA' && (k.use ?? 'sig') === 'sig')
    && nuj.keys.some((k) => k.use === 'enc') && nuj.keys.some((k) => k.kty === 'EC'), nuj.keys.map((k) => `${k.kty}/${k.use}/${k.kid}`));
  equal('  ... with CORS', nu.headers.get('access-control-allow-origin'), SPA_ORIGIN);
  check('  ... until cleared', (await fetchJwks()).keys.every((k) => k.use === 'enc' || k.kty === 'EC'));

  const armed = await arm('jwks', 'rotate');
  const rotated = await fetchJwks();
  check('rotate: old and new RSA signing keys published', rotated.keys.length === 2 && rotated.keys.some((k) => k.kid === original.keys[0].kid) && rotated.keys.some((k) => k.kid === armed.rotated_kid), rotated.keys.map((k) => k.kid));
  const s = await session();
  const t = await redeem(s.first.code, s.first.verifier);
  const idh = decodeJwt(t.json.id_token).header;
  check('  ... ID tokens now signed with the new kid', idh.kid === armed.rotated_kid && rs256Valid(t.json.id_token, { keys: rotated.keys }), idh);
  check('  ... and they do not verify with the old JWKS alone', !rs256Valid(t.json.id_token, { keys: original.keys }));
  check('  ... access tokens unchanged (old key, still valid)', rs256Valid(t.json.access_token, { keys: original.keys }));
  const r = await refresh(t.json.refresh_token);
  equal('  ... refreshed ID tokens also carry the new kid', decodeJwt(r.json.id_token).header.kid, armed.rotated_kid);
  await disarm('jwks');
  const back = await fetchJwks();
  check('cleared: JWKS back to the one original key', back.keys.length === 1 && back.keys[0].kid === original.keys[0].kid);
  const c = await s.code();
  equal('  ... and ID tokens back to it', decodeJwt((await redeem(c.code, c.verifier)).json.id_token).header.kid, original.keys[0].kid);
});

await section('granted scopes (target "scope")', async () => {
  const s = await session();
  const t = await redeem(s.first.code, s.first.verifier);
  await arm('scope', 'without_read');
  const r = await refresh(t.json.refresh_token, { scope: BASE_SCOPE });
  equal('without_read: the refresh succeeds', r.status, 200);
  const granted = String(r.json.scope ?? '').split(' ');
  check('  ... its scope lacks weather.read and keeps the rest', !granted.includes(READ) && ['openid', 'profile', 'offline_access'].every((x) => granted.includes(x)), r.json.scope);
  let scp = '';
  try { scp = String(decodeJwt(r.json.access_token).payload.scp ?? ''); } catch { scp = ''; } // opaque: no scp
  check('  ... and so does its access token (not a weather API token)', typeof r.json.access_token === 'string' && !scp.includes('weather.read'), scp);
  check('  ... the refresh token still rotates', r.json.refresh_token && r.json.refresh_token !== t.json.refresh_token);
  await disarm('scope');
  const back = await refresh(r.json.refresh_token, { scope: BASE_SCOPE });
  check('cleared: weather.read granted again', back.status === 200 && back.json.scope?.split(' ').includes(READ), back.json.scope);
});

await section('hostile authorization responses (target "authorize")', async () => {
  const s = await session();
  const run = async (mode) => {
    await arm('authorize', mode);
    const f = await startAuthorize(s.b, { prompt: 'none' });
    const loc = f.res.location ?? '';
    check(`${mode}: still a redirect to the redirect_uri`, loc.startsWith(`${REDIRECT_URI}?`), loc.slice(0, 80));
    return { loc, q: new URLSearchParams(loc.slice(loc.indexOf('?') + 1)), state: f.state };
  };
  let x = await run('wrong_iss');
  check('wrong_iss: iss is someone else, code present', !!x.q.get('iss') && x.q.get('iss') !== ISSUER && !!x.q.get('code'), x.loc);
  x = await run('missing_iss');
  check('missing_iss: no iss, code and state present', !x.q.has('iss') && !!x.q.get('code') && x.q.get('state') === x.state, x.loc);
  x = await run('duplicate_state');
  check('duplicate_state: state twice', x.q.getAll('state').length === 2 && x.q.getAll('state').every((v) => v === x.state), x.loc);
  x = await run('duplicate_code');
  check('duplicate_code: code twice', x.q.getAll('code').length === 2, x.loc);
  x = await run('code_and_error');
  check('code_and_error: code and error=access_denied', !!x.q.get('code') && x.q.get('error') === 'access_denied', x.loc);
  x = await run('error_markup');
  check('error_markup: error=access_denied, markup description, no code, state echoed', x.q.get('error') === 'access_denied'
    && x.q.get('error_description') === '<script>alert(1)</script><b>bold</b>' && !x.q.has('code') && x.q.get('state') === x.state, x.loc);
  x = await run('error_long');
  check('error_long: 5000-character description', x.q.get('error') === 'access_denied' && x.q.get('error_description')?.length === 5000, x.q.get('error_description')?.length);
  x = await run('error_odd_encoding');
  check('error_odd_encoding: raw %C3%28, %00, + and %0A in the description', x.q.get('error') === 'access_denied'
    && ['%C3%28', '%00', '+', '%0A'].every((t) => /error_description=([^&]*)/.exec(x.loc)?.[1]?.includes(t)), x.loc);
  x = await run('strip_state');
  check('strip_state: no state, code present', !x.q.has('state') && !!x.q.get('code'), x.loc);
  const normal = await startAuthorize(s.b, { prompt: 'none' });
  const n = callbackParams(normal.res);
  check('one-shot: the next response is normal', n?.code && n.state === normal.state && n.iss === ISSUER, n);

  await arm('authorize', 'wrong_iss');
  const b = new Browser();
  const flow = await signIn(b, bob);
  check('also applies to the redirect after the sign-in page', flow.res.final?.searchParams.get('iss') !== ISSUER && !!flow.res.final?.searchParams.get('code'), flow.res.final?.href);
});

await section('stats', async () => {
  const s = await sandbox('/__sandbox/stats');
  const delta = (g) => s.token_requests[g] - statsBefore.token_requests[g];
  check('authorization_code requests counted', delta('authorization_code') >= 8, s);
  check('refresh_token requests counted', delta('refresh_token') >= 8, s);
  check('client_credentials requests counted', delta('client_credentials') >= 5, s);
  const reset = await sandbox('/__sandbox/reset-stats', 'POST');
  check('reset-stats zeroes the counters', Object.values(reset.token_requests).every((n) => n === 0), reset);
});

await section('reset (POST /__sandbox/reset) restores every default', async () => {
  await admin('/__sandbox/config', { access_ttl: 31, refresh_ttl: 62 });
  await arm('token', 'hang');
  await arm('id_token', 'missing_kid_multi');
  await arm('authorize', 'strip_state');
  await arm('discovery', 'unreachable');
  await arm('jwks', 'rotate');
  await arm('scope', 'without_read');
  const r = await admin('/__sandbox/reset', {});
  equal('reset: 200', r.status, 200);
  const h = (await admin('/__sandbox/hostile')).json;
  check('nothing hostile armed', ['token', 'id_token', 'authorize', 'discovery', 'jwks', 'scope', 'rotated_kid', 'decoy_kid'].every((k) => h[k] === null), h);
  const c = (await admin('/__sandbox/config')).json;
  check('lifetimes back to the start-up values', c.access_ttl === ACCESS_TTL && c.refresh_ttl === REFRESH_TTL, c);
  const st = await getStats();
  check('counters zero', Object.values(st.token_requests).every((n) => n === 0) && st.refresh_reuse === 0 && st.claims_requests === 0 && st.claims_last === null && st.claims_token_requests === 0
    && st.capability_requests === 0 && st.capability_token_requests === 0, st);
  equal('discovery reachable and normal', (await (await fetch(`${ORIGIN}${PATHS.discovery}`)).json()).issuer, ISSUER);
  equal('JWKS: one key', (await fetchJwks()).keys.length, 1);
  const fresh = await admin('/__sandbox/reset', {});
  check('the last thing this self-test did was a reset', fresh.status === 200);
});

console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
