// Self-test of the sandbox identity provider, over HTTP, no browser.
//
//   node_modules/.bin/node tests/sandbox/idp/selftest.mjs
//
// Assumes the provider is already running on IDP_PORT (default 5556). Uses the SPA origin from
// SANDBOX_SPA_ORIGINS (first entry, default http://localhost:8080). Side effects on the running
// provider: signs alice and bob in and out, clears the remembered consents
// (POST /__sandbox/reset-consents) and finally resets the token counters (POST /__sandbox/reset-stats).
// If SANDBOX_REFRESH_TTL is set to 30 s or less (start the provider with the same value), the fixed
// refresh-token lifetime is tested too, by waiting it out.
// Prints "N passed, M failed" and exits non-zero on any failure.
import * as crypto from 'node:crypto';

import {
  API_CLIENT_ID, API_RESOURCE, DAEMON_CLIENT_ID, DAEMON_CLIENT_SECRET, DAEMON_SP_OID, ISSUER, ORIGIN,
  PATHS, SPA_CLIENT_ID, SPA_ORIGINS, TENANT_ID, USERS,
} from './config.mjs';

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
}) {
  const q = new URLSearchParams({
    client_id: SPA_CLIENT_ID,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    response_mode: 'query',
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

function callbackParams(res) {
  if (!res.final) return undefined;
  if (res.final.origin + res.final.pathname !== REDIRECT_URI) return undefined;
  return Object.fromEntries(res.final.searchParams);
}

async function redeem(code, verifier, origin = SPA_ORIGIN) {
  return tokenRequest({
    grant_type: 'authorization_code',
    client_id: SPA_CLIENT_ID,
    code,
    redirect_uri: REDIRECT_URI,
    code_verifier: verifier,
  }, { origin });
}

async function refresh(refreshToken, extra = {}, origin = SPA_ORIGIN) {
  return tokenRequest({
    grant_type: 'refresh_token', client_id: SPA_CLIENT_ID, refresh_token: refreshToken, ...extra,
  }, { origin });
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

const sandbox = async (path, method = 'GET') => (await fetch(`${ORIGIN}${path}`, { method })).json();

let statsBefore;
const browser = new Browser(); // alice's browser
let aliceIdToken;
let aliceRefresh;

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
  check('id_token: iat/exp sane', id.payload.iat <= now + 5 && id.payload.exp > now, id.payload);

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
  const family = await refresh(r2.json.refresh_token);
  equal('  ... and (oidc-provider) revokes the rest of that sign-in\'s tokens', family.json.error, 'invalid_grant');

  const evil = await refresh(r2.json.refresh_token, {}, EVIL_ORIGIN);
  check('token endpoint refuses another origin (400, no CORS header)', evil.status === 400 && evil.headers.get('access-control-allow-origin') === null, { status: evil.status, acao: evil.headers.get('access-control-allow-origin'), body: evil.json });
});

await section('single sign-on, prompt=none, CORS for another origin', async () => {
  const silent = await startAuthorize(browser, { prompt: 'none' });
  const cb = callbackParams(silent.res);
  check('prompt=none with a session returns a code', !!cb?.code, cb ?? silent.res.status);
  const evil = await redeem(cb.code, silent.pkce.verifier, EVIL_ORIGIN);
  equal('code redemption from another origin refused', evil.status, 400);
  equal('  ... without Access-Control-Allow-Origin', evil.headers.get('access-control-allow-origin'), null);
  const good = await redeem(cb.code, silent.pkce.verifier);
  equal('SSO code redeems (after the refused attempt)', good.status, 200);
  check('SSO flow issues a refresh token', !!good.json.refresh_token);
  aliceRefresh = good.json.refresh_token;

  const stranger = new Browser();
  const none = await startAuthorize(stranger, { prompt: 'none' });
  const err = callbackParams(none.res);
  equal('prompt=none without a session: login_required', err?.error, 'login_required');
  check('  ... AADSTS50058 in error_description', err?.error_description?.includes('AADSTS50058'), err);
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

  const unregistered = await b.follow(authorizeUrl({ state: 's', nonce: 'n', challenge: pkce().challenge }).replace(encodeURIComponent(REDIRECT_URI), encodeURIComponent('http://localhost:1234/auth/callback')));
  check('unregistered redirect_uri: error page, no redirect', unregistered.status === 400 && !unregistered.final, unregistered.status);
});

await section('consent for weather.write', async () => {
  const scope = `${BASE_SCOPE} ${WRITE}`;
  const silent = await startAuthorize(browser, { prompt: 'none', scope });
  const e = callbackParams(silent.res);
  equal('prompt=none needing consent: consent_required', e?.error, 'consent_required');

  const flow = await startAuthorize(browser, { scope });
  equal('consent page shown', flow.res.status, 200);
  check('consent page lists weather.write', flow.res.text.includes(WRITE) && !flow.res.text.includes(READ), flow.res.text);
  check('consent page has "Accept" and "Decline"', /<button[^>]*>\s*Accept\s*<\/button>/.test(flow.res.text) && /<button[^>]*>\s*Decline\s*<\/button>/.test(flow.res.text));
  const declined = await browser.follow(formAction(flow.res.text), { method: 'POST', form: { action: 'decline' } });
  const d = callbackParams(declined);
  equal('Decline: error=consent_required', d?.error, 'consent_required');
  check('  ... AADSTS65001 in error_description', d?.error_description?.includes('AADSTS65001'), d);
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
  equal('  ... error_description', cb?.error_description, 'The user cancelled the sign-in.');
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
  const revoked = await refresh(first.json.refresh_token);
  equal('  ... and (oidc-provider) the tokens from its first redemption are revoked', revoked.json.error, 'invalid_grant');

});

await section('logout', async () => {
  const q = new URLSearchParams({
    client_id: SPA_CLIENT_ID, id_token_hint: aliceIdToken, post_logout_redirect_uri: POST_LOGOUT_URI,
  });
  const page = await browser.request(`${ORIGIN}${PATHS.logout}?${q}`);
  equal('logout page status', page.status, 200);
  check('logout page auto-submits (script + logout=yes)', /\.submit\(\)/.test(page.text) && /name="logout" value="yes"/.test(page.text));
  const action = formAction(page.text);
  const fields = Object.fromEntries([...page.text.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1], m[2]]));
  const done = await browser.request(new URL(action, ORIGIN).href, { method: 'POST', form: fields });
  check('logout redirects to post_logout_redirect_uri', done.status >= 300 && done.status < 400 && done.location === POST_LOGOUT_URI, { status: done.status, location: done.location });

  const after = await startAuthorize(browser);
  check('after logout, authorize shows the sign-in page again', after.res.status === 200 && !!formAction(after.res.text) && after.res.text.includes('Username'), after.res.status);
  const none = await startAuthorize(browser, { prompt: 'none' });
  equal('after logout, prompt=none: login_required', callbackParams(none.res)?.error, 'login_required');

  const r = await refresh(aliceRefresh);
  equal('refresh tokens survive logout (offline_access), like Entra', r.status, 200);

  // An id_token_hint the provider cannot verify (e.g. from before a restart) still signs out.
  const b = new Browser();
  await signIn(b, bob);
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${enc({ alg: 'RS256', kid: 'old-key' })}.${enc({ iss: ISSUER, aud: SPA_CLIENT_ID, sub: bob.sub, iat: 1, exp: 2 })}`;
  const stale = `${input}.${crypto.sign('RSA-SHA256', Buffer.from(input), privateKey).toString('base64url')}`;
  const q2 = new URLSearchParams({ client_id: SPA_CLIENT_ID, id_token_hint: stale, post_logout_redirect_uri: POST_LOGOUT_URI });
  const page2 = await b.request(`${ORIGIN}${PATHS.logout}?${q2}`);
  equal('logout with an unverifiable id_token_hint still shows the sign-out form', page2.status, 200);
  const fields2 = Object.fromEntries([...page2.text.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1], m[2]]));
  const done2 = await b.request(new URL(formAction(page2.text), ORIGIN).href, { method: 'POST', form: fields2 });
  equal('  ... and redirects to post_logout_redirect_uri', done2.location, POST_LOGOUT_URI);
  const none2 = await startAuthorize(b, { prompt: 'none' });
  equal('  ... and the session is gone', callbackParams(none2.res)?.error, 'login_required');
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
  const badScope = await tokenRequest({
    grant_type: 'client_credentials', scope: READ, client_id: DAEMON_CLIENT_ID, client_secret: DAEMON_CLIENT_SECRET,
  }, { origin: null });
  equal('scope without /.default: invalid_scope', badScope.json.error, 'invalid_scope');
  const fromBrowser = await tokenRequest({
    grant_type: 'client_credentials', scope, client_id: DAEMON_CLIENT_ID, client_secret: DAEMON_CLIENT_SECRET,
  }, { origin: SPA_ORIGIN });
  check('daemon from a browser origin refused', fromBrowser.status === 400 && fromBrowser.headers.get('access-control-allow-origin') === null, fromBrowser.status);
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
  });
}

await section('stats', async () => {
  const s = await sandbox('/__sandbox/stats');
  const delta = (g) => s.token_requests[g] - statsBefore.token_requests[g];
  check('authorization_code requests counted', delta('authorization_code') >= 8, s);
  check('refresh_token requests counted', delta('refresh_token') >= 8, s);
  check('client_credentials requests counted', delta('client_credentials') >= 5, s);
  const reset = await sandbox('/__sandbox/reset-stats', 'POST');
  check('reset-stats zeroes the counters', Object.values(reset.token_requests).every((n) => n === 0), reset);
});

console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
