// Shared fixtures: every spec fails on a Rust panic or an uncaught page error, and helpers
// drive the sandbox identity provider's sign-in page like a person would.
import { test as base, expect } from '@playwright/test';

export const SPA = 'http://localhost:8080';
export const IDP = 'http://localhost:5556';
export const API = 'http://localhost:5557';
export const TENANT = '3f8d0c2a-5b1e-4c7d-9a6f-2e4b8c1d7a90';
export const USERS = {
  alice: { username: 'alice', password: 'alice-password', name: 'Alice Example' },
  bob: { username: 'bob', password: 'bob-password', name: 'Bob Example' },
};

export const CLIENT_ID = '0b7e4f52-6c1a-4d3e-8f29-5a1c7b9e3d64';

export const test = base.extend({
  // Where this project's deployment lives: the same dist/ is served on :8080 with the shipped
  // config.json (http sandbox) and on :8081 with another one (https sandbox, another client id).
  spaOrigin: [SPA, { option: true }],
  // Where on that origin the app lives: `/`, or a sub-path such as `/nimbus/` (its <base href>).
  spaBase: ['/', { option: true }],
  // The app's home URL: spaOrigin + spaBase.
  app: async ({ spaOrigin, spaBase }, use) => use(`${spaOrigin}${spaBase}`),
  // For the nginx projects: the deployment's folder under target/nginx/ (scripts/sandbox.sh).
  nginxSite: [null, { option: true }],
  idpOrigin: [IDP, { option: true }],
  apiOrigin: [API, { option: true }],
  clientId: [CLIENT_ID, { option: true }],
  // Console text a test provokes on purpose (e.g. the CSP check); everything else is checked.
  expectedConsole: [[], { option: true }],
  // Collected console lines and page errors; checked after every test.
  consoleLog: [
    async ({ page, expectedConsole }, use) => {
      const lines = [];
      // Every CSP violation becomes a console error the check below catches.
      await page.addInitScript(() => {
        document.addEventListener('securitypolicyviolation', (e) =>
          console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI}`));
      });
      page.on('console', (m) => lines.push(`${m.type()}: ${m.text()}`));
      page.on('pageerror', (e) => lines.push(`pageerror: ${e.message}`));
      await use(lines);
      const bad = lines.filter((l) => !expectedConsole.some((e) => l.includes(e))).filter(
        (l) =>
          l.includes('panicked at') ||
          l.startsWith('pageerror:') ||
          l.includes('RuntimeError') ||
          l.includes('CSP violation') ||
          l.includes('Content Security Policy'),
      );
      expect(bad, 'no panic or uncaught error reaches the page').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

/** Clicks the app's "Sign in" and lands on the provider's sign-in page. */
export async function startSignIn(page) {
  const app = new URL(page.url()).origin;
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL((u) => u.origin !== app);
}

/** Signs out through the account menu (the button with the user's name discloses it). */
export async function signOut(page) {
  const menu = page.locator('.account-button');
  if ((await menu.getAttribute('aria-expanded')) !== 'true') await menu.click();
  await page.getByRole('button', { name: 'Sign out' }).click();
}

/** Looks up the weather for a city (country default NO), as a person fills the form. */
export async function lookUp(page, city = 'Oslo', country = 'NO') {
  await page.getByLabel('City').fill(city);
  await page.getByLabel('Country').fill(country);
  await page.getByRole('button', { name: 'Get weather' }).click();
}

/** The current-weather result. */
export const region = (page) => page.getByRole('region', { name: 'Current weather' });

/** Looks up the weather and returns the API's answer (the numbers the page should show). */
export async function weatherFor(page, city, state = '', units = 'metric') {
  await page.getByLabel('City').fill(city);
  await page.getByLabel('State').fill(state);
  await page.getByLabel('Units').selectOption(units);
  const answer = page.waitForResponse((r) => r.url().startsWith(`${API}/api/weather/`));
  await page.getByRole('button', { name: 'Get weather' }).click();
  return (await answer).json();
}

/** On /reports: types a report (Fog on the river, London, GB), adds it — the first write asks
 *  for consent — and declines at the provider; returns once back on /reports. */
export async function addReportDecliningConsent(page) {
  await page.getByLabel('Description').fill('Fog on the river');
  await page.getByLabel('City').fill('London');
  await page.getByLabel('Country').fill('GB');
  await page.getByRole('button', { name: 'Add report' }).click();
  await page.waitForURL((u) => u.origin === IDP);
  await page.getByRole('button', { name: 'Decline' }).click();
  await page.waitForURL(`${SPA}/reports`);
}

/** Fills the provider's sign-in form. */
export async function submitCredentials(page, user = USERS.alice) {
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** Full sign-in from the app's home page (`./`: the project's baseURL, with any base path);
 *  returns when the user's name is shown. */
export async function signIn(page, user = USERS.alice) {
  await page.goto('./');
  const app = new URL(page.url()).origin;
  await startSignIn(page);
  await submitCredentials(page, user);
  await page.waitForURL((u) => u.origin === app && !u.pathname.includes('/auth/'));
  await expect(page.getByText(user.name).first()).toBeVisible();
}


/** Everything in this tab's sessionStorage and localStorage. */
export async function storageOf(page) {
  return page.evaluate(() => ({
    session: Object.fromEntries(Object.entries(sessionStorage)),
    local: Object.fromEntries(Object.entries(localStorage)),
  }));
}

/** True when any stored value holds something token-shaped (a JWT or a refresh token field). */
export function holdsTokens(stored) {
  const all = JSON.stringify(stored);
  return /eyJ[\w-]+\.[\w-]+\./.test(all) || /refresh_token|access_tokens|"token"/.test(all);
}

/** Asks the sandbox API to fail the next authenticated request (loopback admin endpoint). */
export async function apiNextFailure(request, body) {
  const r = await request.post(`${API}/__sandbox/next-failure`, { data: body });
  expect(r.ok()).toBeTruthy();
}

/** Calls a loopback-only admin endpoint of the sandbox provider. */
export async function idpAdmin(request, path, data) {
  const r = data === undefined ? await request.get(`${IDP}/__sandbox/${path}`) : await request.post(`${IDP}/__sandbox/${path}`, { data });
  expect(r.ok(), `idp ${path}`).toBeTruthy();
  return r.json().catch(() => ({}));
}

/** Calls a loopback-only admin endpoint of the sandbox API. */
export async function apiAdmin(request, path, data) {
  const r = data === undefined ? await request.get(`${API}/__sandbox/${path}`) : await request.post(`${API}/__sandbox/${path}`, { data });
  expect(r.ok(), `api ${path}`).toBeTruthy();
  return r.json().catch(() => ({}));
}

/** Token-endpoint POSTs this page made, by grant type. */
export function watchTokenRequests(page) {
  const seen = { authorization_code: 0, refresh_token: 0, authorize: [], api: [] };
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (url.pathname.endsWith('/oauth2/v2.0/token') && r.method() === 'POST') {
      const grant = new URLSearchParams(r.postData() ?? '').get('grant_type');
      seen[grant] = (seen[grant] ?? 0) + 1;
    }
    if (url.pathname.endsWith('/oauth2/v2.0/authorize')) seen.authorize.push(url.searchParams);
    if (url.origin === API && url.pathname.startsWith('/api/')) seen.api.push({ method: r.method(), auth: r.headers()['authorization'] ?? '' });
  });
  return seen;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Lets `ms` of clock time pass (a token's lifetime running out, a held response) and gives the
 *  test that much more time: a test's timeout budgets the work it does, not the clock it waits
 *  on, so a slow machine doesn't eat into it. */
export async function waitOut(ms) {
  test.info().setTimeout(test.info().timeout + ms);
  await sleep(ms);
}

/** Opens a "duplicate" of a tab: a new tab whose sessionStorage starts as a copy of `snapshot`
 *  (what the browser's Duplicate Tab does), then loads `path`. */
export async function duplicateTab(context, snapshot, path) {
  const twin = await context.newPage();
  await twin.addInitScript((entries) => {
    if (sessionStorage.length === 0) for (const [k, v] of Object.entries(entries)) sessionStorage.setItem(k, v);
  }, snapshot);
  await twin.goto(path);
  return twin;
}

/** Puts the sandbox provider and API back to their defaults. */
export async function resetSandbox(request) {
  await idpAdmin(request, 'reset', {});
  await apiAdmin(request, 'reset', {});
}
