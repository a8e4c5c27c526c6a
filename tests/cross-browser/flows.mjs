// The flows every engine runs: the essential assertions of tests/e2e/specs/journey.spec.mjs and
// session.spec.mjs (staying signed in), against the real sandbox provider and API. They touch
// what differs between engines: WebCrypto RSASSA (the ID token's signature), Web Locks (one
// refresh for concurrent calls), BroadcastChannel (tabs of one session), the CSP, sessionStorage.
//
// Selectors are the ones that survive the UI rewrite (issue 9): labels City, State, Country,
// Units, Description; buttons "Sign in" (exact), "Get weather", "Add report"; region "Current
// weather"; role=alert; list "Reports list"; the user's name in the header. The small helpers
// below (signIn, signOut, lookUp, ...) are the places to adjust when the UI changes.
import { headerText, setSessionStorage, storage, textOfElement, valueOfLabel } from './dom.mjs';
import { PROBE_ORIGIN, TIMEOUT, until } from './drivers.mjs';

export const TENANT = '3f8d0c2a-5b1e-4c7d-9a6f-2e4b8c1d7a90';
export const USERS = {
  alice: { username: 'alice', password: 'alice-password', name: 'Alice Example' },
  bob: { username: 'bob', password: 'bob-password', name: 'Bob Example' },
};

export class AssertionError extends Error {}

export function check(ok, message, detail) {
  if (!ok) throw new AssertionError(detail === undefined ? message : `${message} (got ${JSON.stringify(detail)?.slice(0, 600)})`);
}

// ---- the sandbox's loopback admin endpoints (Node's fetch sends no Origin header) ----------

export function sandbox(env) {
  const admin = async (base, method, path, body) => {
    const r = await fetch(`${base}/__sandbox/${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    check(r.ok, `sandbox ${method} ${base}/__sandbox/${path} answered ${r.status}`);
    return r.json();
  };
  return {
    reset: async () => {
      await admin(env.idp, 'POST', 'reset', {});
      await admin(env.api, 'POST', 'reset', {});
    },
    idpConfig: (body) => admin(env.idp, 'POST', 'config', body),
    hostile: (body) => admin(env.idp, 'POST', 'hostile', body),
    idpStats: () => admin(env.idp, 'GET', 'stats'),
    apiStats: () => admin(env.api, 'GET', 'stats'),
  };
}

// ---- helpers a person's actions map to -----------------------------------------------------

const SIGN_IN = { role: 'button', name: 'Sign in', exact: true };

/** True when any stored value holds something token-shaped (a JWT or a refresh token field). */
export function holdsTokens(stored) {
  const all = JSON.stringify(stored);
  return /eyJ[\w-]+\.[\w-]+\./.test(all) || /refresh_token|access_tokens|"token"/.test(all);
}

/** The signed-in session kept in this tab's sessionStorage (nimbus.session.*), parsed, or null. */
export async function sessionOf(tab) {
  const { session } = await tab.eval(storage);
  const entry = Object.entries(session).find(([k]) => k.startsWith('nimbus.session.'));
  return entry ? JSON.parse(entry[1]) : null;
}

export async function waitSignedIn(tab, env, user = USERS.alice) {
  await tab.waitForUrl(`back on ${env.spa} after the callback`, (u) => u.origin === env.spa && !u.pathname.startsWith('/auth/'));
  await tab.waitFor(`"${user.name}" in the header`, headerText, [], (t) => t.includes(user.name));
}

/** Clicks the app's "Sign in" and waits for the provider's sign-in page. */
export async function startSignIn(tab, env) {
  await tab.click(SIGN_IN, 'the app\'s "Sign in" button');
  await tab.waitForUrl(`on the provider (${env.idp})`, (u) => u.origin === env.idp);
}

/** Fills the provider's sign-in form and submits it. */
export async function submitCredentials(tab, user = USERS.alice) {
  await tab.fill({ label: 'Username' }, user.username, 'the provider\'s "Username" field');
  await tab.fill({ label: 'Password' }, user.password, 'the provider\'s "Password" field');
  await tab.click(SIGN_IN, 'the provider\'s "Sign in" button');
}

/** Full sign-in from the app's home page; returns when the user's name is in the header. */
export async function signIn(tab, env, user = USERS.alice) {
  await tab.goto(`${env.spa}/`);
  await startSignIn(tab, env);
  await submitCredentials(tab, user);
  await waitSignedIn(tab, env, user);
}

/** The account button: accessible name holds the user's name, and it discloses a menu. */
export function accountButton(user = USERS.alice) {
  return { role: 'button', name: user.name, haspopup: true };
}

/** Sign out: the visible "Sign out" button, else the account button first, then "Sign out". */
export async function signOut(tab, user = USERS.alice) {
  const signOutButton = { role: 'button', name: 'Sign out', exact: true };
  const direct = await tab.handle((q) => __xbFind(q), [signOutButton]); // eslint-disable-line no-undef
  if (!direct) await tab.click(accountButton(user), `the account button ("${user.name}")`);
  await tab.click(signOutButton, 'the "Sign out" button');
}

export async function waitSignedOut(tab) {
  await tab.waitForElement(SIGN_IN, 'the app\'s "Sign in" button (signed out)');
}

/** Looks up the weather on /weather (the page must be showing). */
export async function lookUp(tab, city, { state, country, units } = {}) {
  await tab.fill({ label: 'City' }, city);
  if (state !== undefined) await tab.fill({ label: 'State' }, state);
  if (country !== undefined) await tab.fill({ label: 'Country' }, country);
  if (units !== undefined) await tab.select({ label: 'Units' }, units);
  await tab.click({ role: 'button', name: 'Get weather' });
}

const REGION = { role: 'region', name: 'Current weather' };

/** Waits until the "Current weather" region shows `text` (case-insensitive); returns its text. */
export async function waitForWeather(tab, text) {
  return tab.waitFor(
    `the "Current weather" region to show "${text}"`,
    textOfElement,
    [REGION],
    (t) => typeof t === 'string' && t.toLowerCase().includes(text.toLowerCase()) && /°[CF]|\bK\b/.test(t),
  );
}

/** Waits until the latest access token this tab holds has expired (the sandbox's short lifetime). */
export async function waitPastAccessExpiry(tab) {
  const s = await sessionOf(tab);
  check(s && s.access_tokens?.length, 'the tab holds an access token', s && Object.keys(s));
  const exp = Math.max(...s.access_tokens.map((t) => t.expires_at));
  // Seconds resolution on both sides: half a second past the expiry second.
  const wait = exp * 1000 + 500 - Date.now();
  check(wait < 60_000, 'the sandbox issued a short-lived access token', { exp, now: Date.now() / 1000 });
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}

/** Opens a second tab of the same session: a new tab whose sessionStorage starts as a copy of
 *  `from`'s (what the browser's Duplicate Tab does), then shows `path`. The copy is made in the
 *  new tab on the app's own origin before the signed-in page loads, as session.spec's
 *  duplicateTab does with an init script. */
export async function duplicateTab(session, from, env, path) {
  const snapshot = (await from.eval(storage)).session;
  const twin = await session.newTab();
  await twin.goto(`${env.spa}/`);
  await twin.waitForElement(SIGN_IN, 'the new tab\'s "Sign in" button (before the copy)');
  const n = await twin.eval(setSessionStorage, snapshot);
  check(n === Object.keys(snapshot).length, 'the new tab holds the copied sessionStorage', n);
  await twin.goto(`${env.spa}${path}`);
  return twin;
}

/**
 * Proves this engine's console collection works before trusting its silence: a console line and
 * a CSP violation (a fetch the policy refuses) must both reach the collected lines. The runner
 * then ignores exactly the probe's own lines (those naming PROBE_ORIGIN or the marker).
 */
export async function probeConsole(tab) {
  await tab.eval((origin) => {
    console.info('xb-console-probe');
    fetch(`${origin}/xb-csp-probe`).catch(() => {});
  }, PROBE_ORIGIN);
  await until('the probe\'s console line and CSP violation to be collected', async () => {
    await tab.eval(() => 0); // WebKit: collect what the page logged
    return tab.console;
  }, (lines) => lines.some((l) => l.includes('xb-console-probe'))
    && lines.some((l) => l.includes('CSP violation') && l.includes(PROBE_ORIGIN)));
}

// ---- the flows -----------------------------------------------------------------------------

/**
 * journey: sign in (code + PKCE, the ID token's RS256 signature checked with WebCrypto), the
 * weather for a city (the numbers the API returned, as shown), a report (first one: consent
 * for the write scope), reload and stay signed in, sign out (provider session ended too).
 */
export async function journey({ engine, newSession, env, step }) {
  const sb = sandbox(env);
  await sb.reset();
  const session = await newSession();
  const tab = await session.newTab();

  await step('open the app signed out; console and CSP violations are collected', async () => {
    await tab.goto(`${env.spa}/`);
    await tab.waitForElement(SIGN_IN, 'the "Sign in" button');
    await probeConsole(tab);
  });

  await step('sign in at the provider (code + PKCE, ID token verified with WebCrypto)', async () => {
    await startSignIn(tab, env);
    await tab.waitForElement({ label: 'Password' }, 'the provider\'s "Password" field');
    if (engine.hasNetworkLog) {
      const authReq = tab.requests.find((r) => new URL(r.url).pathname.endsWith('/oauth2/v2.0/authorize'));
      check(authReq, 'a full-page request to the authorize endpoint', tab.requests.map((r) => r.url));
      const q = new URL(authReq.url).searchParams;
      check(q.get('response_type') === 'code', 'response_type=code', q.get('response_type'));
      check(q.get('code_challenge_method') === 'S256', 'PKCE S256', q.get('code_challenge_method'));
      check(/^[\w-]{43}$/.test(q.get('code_challenge') ?? ''), 'a 43-character code_challenge', q.get('code_challenge'));
      check(/^[\w-]{43}$/.test(q.get('state') ?? '') && /^[\w-]{43}$/.test(q.get('nonce') ?? ''), 'fresh state and nonce');
      check(q.get('client_id') === env.clientId, `client_id ${env.clientId}`, q.get('client_id'));
    }
    await submitCredentials(tab);
    await waitSignedIn(tab, env);
    const url = await tab.url();
    check(!/code=|state=/.test(url), 'no code or state left in the address bar', url);
    const stats = await sb.idpStats();
    check(stats.token_requests.authorization_code === 1, 'exactly one code redemption', stats.token_requests);
    const stored = await tab.eval(storage);
    check(holdsTokens({ session: stored.session }), 'tokens live in sessionStorage', Object.keys(stored.session));
    check(Object.keys(stored.local).length === 0, 'nothing in localStorage', stored.local);
  });

  let body;
  await step('get the weather for Portland, OR in °F', async () => {
    await tab.goto(`${env.spa}/weather`);
    await tab.waitForElement({ label: 'City' }, 'the "City" field');
    const country = await tab.waitFor('the "Country" field', valueOfLabel, ['Country'], (v) => v !== null);
    check(country === 'US', 'Country defaults to US', country);
    const before = (await sb.apiStats()).by_status?.['200'] ?? 0;
    await lookUp(tab, 'Portland', { state: 'OR', units: 'imperial' });
    const shown = await waitForWeather(tab, '°F');
    const after = (await sb.apiStats()).by_status?.['200'] ?? 0;
    check(after === before + 1, 'one successful API call', { before, after });
    if (engine.hasNetworkLog) {
      const call = tab.requests.find((r) => r.url.startsWith(`${env.api}/api/weather/`));
      check(call?.url === `${env.api}/api/weather/Portland?country=US&units=imperial&state=OR`, 'the API call\'s URL', call?.url);
      check(/^Bearer eyJ/.test(call.headers.authorization ?? ''), 'a Bearer token on the API call', call.headers);
    }
    // The same reading, asked for with the tab's own access token: the page shows its numbers.
    const token = (await sessionOf(tab)).access_tokens[0].token;
    const r = await fetch(`${env.api}/api/weather/Portland?country=US&units=imperial&state=OR`, { headers: { authorization: `Bearer ${token}` } });
    check(r.status === 200, 'the API answers the tab\'s token', r.status);
    body = await r.json();
    for (const want of [`${body.temp.toFixed(1)} °F`, `${body.feels_like.toFixed(1)} °F`, `${body.humidity.toFixed(0)} %`, `${body.pressure.toFixed(0)} hPa`]) {
      check(shown.includes(want), `the region shows ${want}`, shown);
    }
  });

  const description = `Drizzle seen in ${engine.name}`;
  await step('add a report (the write scope: consent first)', async () => {
    await tab.goto(`${env.spa}/reports`);
    await tab.fill({ label: 'Description' }, description);
    await tab.fill({ label: 'City' }, 'Portland');
    await tab.fill({ label: 'State' }, 'OR');
    await tab.click({ role: 'button', name: 'Add report' });
    await tab.waitForUrl('the provider\'s consent page', (u) => u.origin === env.idp);
    await tab.click({ role: 'button', name: 'Accept', exact: true }, 'the consent page\'s "Accept"');
    await tab.waitForUrl(`back on ${env.spa}/reports`, (u) => u.origin === env.spa && u.pathname === '/reports');
    const list = await tab.waitFor('the "Reports list" to hold the report', textOfElement, [{ role: 'list', name: 'Reports list' }],
      (t) => t?.includes(description));
    check(list.includes('Portland, OR, US'), 'the report names its place', list);
    check((await tab.eval(valueOfLabel, 'Description')) === '', 'the form was cleared after posting');
  });

  await step('reload: still signed in, the report still listed', async () => {
    const before = await sb.idpStats();
    await tab.reload();
    await tab.waitFor('"Alice Example" in the header after the reload', headerText, [], (t) => t.includes(USERS.alice.name));
    await tab.waitFor('the "Reports list" after the reload', textOfElement, [{ role: 'list', name: 'Reports list' }],
      (t) => t?.includes(description));
    check(new URL(await tab.url()).origin === env.spa, 'no trip to the provider');
    const after = await sb.idpStats();
    check(after.token_requests.authorization_code === before.token_requests.authorization_code, 'no code redemption on reload', after.token_requests);
  });

  await step('sign out: tokens gone, the provider session ended', async () => {
    await signOut(tab);
    await tab.waitForUrl(`back on ${env.spa}/`, (u) => u.origin === env.spa && u.pathname === '/');
    await waitSignedOut(tab);
    check(!holdsTokens(await tab.eval(storage)), 'no tokens left in this tab');
    if (engine.hasNetworkLog) {
      const logout = tab.requests.find((r) => r.url.includes('/oauth2/v2.0/logout'));
      check(logout?.method === 'GET', 'a top-level GET to the logout endpoint', logout);
      const lq = new URL(logout.url).searchParams;
      check(lq.get('post_logout_redirect_uri') === `${env.spa}/`, 'post_logout_redirect_uri', lq.get('post_logout_redirect_uri'));
      check(lq.get('client_id') === env.clientId && lq.get('logout_hint') && lq.get('id_token_hint') === null, 'client_id and logout_hint, no id_token_hint', Object.fromEntries(lq));
      for (const r of tab.requests) check(!/eyJ[\w-]*\.[\w-]+\./.test(r.url), 'no JWT in any URL', r.url);
    }
    await startSignIn(tab, env);
    await tab.waitForElement({ label: 'Password' }, 'the provider asking for the password again');
  });

  await session.close();
}

/**
 * staying signed in: silent renewal past access-token expiry, one refresh for three calls at
 * once (Web Locks), a second tab of the same session working past expiry without replaying a
 * refresh token, sign-out in one tab signing out the other without a reload (BroadcastChannel).
 */
export async function staySignedIn({ engine, newSession, env, step }) {
  const sb = sandbox(env);
  await sb.reset();
  await sb.idpConfig({ access_ttl: 3 });
  const session = await newSession();
  const tab = await session.newTab();

  await step('sign in (3-second access tokens)', async () => {
    await tab.goto(`${env.spa}/`);
    await tab.waitForElement(SIGN_IN, 'the "Sign in" button');
    await probeConsole(tab);
    await signIn(tab, env);
    await tab.goto(`${env.spa}/weather`);
    await tab.waitForElement({ label: 'City' }, 'the "City" field');
  });

  await step('past expiry, three lookups at once: one silent refresh (Web Locks), no redirect', async () => {
    await tab.fill({ label: 'City' }, 'Oslo');
    await tab.fill({ label: 'Country' }, 'NO');
    await waitPastAccessExpiry(tab);
    const idp0 = await sb.idpStats();
    const api0 = (await sb.apiStats()).requests;
    const seen0 = engine.hasNetworkLog ? tab.requests.length : 0;
    // Three submissions in the same moment.
    await tab.eval(() => {
      const form = document.querySelector('form');
      form.requestSubmit();
      form.requestSubmit();
      form.requestSubmit();
    });
    await waitForWeather(tab, 'Oslo');
    await until('three API calls', async () => (await sb.apiStats()).requests - api0, (n) => n >= 3);
    const idp1 = await sb.idpStats();
    check(idp1.token_requests.refresh_token - idp0.token_requests.refresh_token === 1, 'one refresh request for three concurrent calls', idp1.token_requests);
    check(idp1.token_requests.authorization_code === idp0.token_requests.authorization_code, 'no new sign-in');
    check(idp1.refresh_reuse === 0, 'no refresh token redeemed twice', idp1);
    check(new URL(await tab.url()).origin === env.spa, 'the tab never left the app');
    if (engine.hasNetworkLog) {
      const calls = tab.requests.slice(seen0).filter((r) => r.url.startsWith(`${env.api}/api/`) && r.method === 'GET');
      check(calls.length === 3, 'three API calls from the tab', calls.map((c) => c.url));
      check(new Set(calls.map((c) => c.headers.authorization)).size === 1, 'all three used the one renewed token');
    }
  });

  let twin;
  await step('a second tab of the same session', async () => {
    twin = await duplicateTab(session, tab, env, '/weather');
    await twin.waitFor(`"${USERS.alice.name}" in the second tab's header`, headerText, [], (t) => t.includes(USERS.alice.name));
    await twin.waitForElement({ label: 'City' }, 'the second tab\'s "City" field');
  });

  await step('both tabs keep working past expiry, never replaying a refresh token', async () => {
    const before = await sb.idpStats();
    for (let round = 0; round < 2; round += 1) {
      await waitPastAccessExpiry(tab);
      await lookUp(tab, `Oslo${round}`, { country: 'NO' });
      await waitForWeather(tab, `Oslo${round}`);
      await lookUp(twin, `Bergen${round}`, { country: 'NO' });
      await waitForWeather(twin, `Bergen${round}`);
      await waitPastAccessExpiry(twin);
      await lookUp(twin, `Tromso${round}`, { country: 'NO' });
      await waitForWeather(twin, `Tromso${round}`);
      await lookUp(tab, `Trondheim${round}`, { country: 'NO' });
      await waitForWeather(tab, `Trondheim${round}`);
    }
    const after = await sb.idpStats();
    check(after.refresh_reuse === 0, 'the provider never saw a refresh token twice', after);
    check(after.token_requests.refresh_token - before.token_requests.refresh_token >= 2, 'silent refreshes happened', after.token_requests);
    check(after.token_requests.authorization_code === before.token_requests.authorization_code, 'no tab had to sign in again', after.token_requests);
  });

  await step('sign out in one tab: the other is signed out without a reload (BroadcastChannel)', async () => {
    await twin.eval(() => { window.__xbSameDocument = true; });
    await signOut(tab);
    await waitSignedOut(tab);
    await waitSignedOut(twin);
    check(await twin.eval(() => window.__xbSameDocument === true), 'the second tab was not reloaded');
    check(!holdsTokens(await twin.eval(storage)), 'the second tab holds no tokens');
  });

  await twin.close();
  await session.close();
}

/**
 * A forged ID-token signature is refused: the provider signs the next ID token with the wrong
 * key, and this engine's WebCrypto RSASSA-PKCS1-v1_5 verify must say no (a happy path alone
 * can't tell a verify that works from one that accepts anything).
 */
export async function refusedSignature({ newSession, env, step }) {
  const sb = sandbox(env);
  await sb.reset();
  await sb.hostile({ target: 'id_token', mode: 'bad_signature' });
  const session = await newSession();
  const tab = await session.newTab();
  await step('an ID token with a bad signature is refused, nothing kept', async () => {
    await tab.goto(`${env.spa}/`);
    await probeConsole(tab);
    await startSignIn(tab, env);
    await submitCredentials(tab);
    await tab.waitForUrl(`back on ${env.spa}/auth/callback`, (u) => u.origin === env.spa && u.pathname === '/auth/callback');
    await tab.waitFor('an alert saying the signature is not valid', textOfElement, [{ role: 'alert' }, { all: true }],
      (t) => t?.includes("The ID token's signature is not valid"));
    check(!holdsTokens(await tab.eval(storage)), 'no token stored');
    check(!/code=|state=/.test(await tab.url()), 'no code or state left in the address bar', await tab.url());
    check(!(await tab.eval(headerText)).includes(USERS.alice.name), 'nobody signed in');
    const api = await sb.apiStats();
    check(api.requests === 0, 'the API was never called', api);
  });
  await session.close();
}

export const FLOWS = { journey, 'stay-signed-in': staySignedIn, 'refused-signature': refusedSignature };
export { TIMEOUT };
