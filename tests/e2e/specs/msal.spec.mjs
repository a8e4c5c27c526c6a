// Microsoft's own MSAL.js (@azure/msal-browser, unmodified) against the sandbox: the sample page
// on http://localhost:8082 (tests/e2e/msal/, client "MSAL.js sample"), the identity provider over
// TLS on https://localhost:5443 and its weather API on http://localhost:5558. If MSAL.js works
// against the sandbox unchanged, the sandbox is shaped like Entra where MSAL.js looks: https
// issuer and discovery, CORS, client_info, the client-capabilities claims request, Entra's
// GET logout with logout_hint.
import { test, expect } from '../fixtures.mjs';

const APP = 'http://localhost:8082/';
const IDP = 'https://localhost:5443';
const API = 'http://localhost:5558';
const TENANT = '3f8d0c2a-5b1e-4c7d-9a6f-2e4b8c1d7a90';
/** A JWT (header.payload.): what must never appear in a URL. MSAL's own `state` is base64 JSON
 *  ("eyJ...") but has no dots, so it is not matched. */
const JWT_IN_URL = /eyJ[A-Za-z0-9_-]+(\.|%2E)[A-Za-z0-9_-]+(\.|%2E)/i;

test('MSAL.js signs in, calls the weather API and signs out with Entra\'s GET logout', async ({ page }) => {
  const requests = [];
  page.on('request', (r) => requests.push({ url: r.url(), method: r.method() }));

  await page.goto(APP);
  await expect(page.locator('#status')).toHaveText('Signed out.');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL((u) => u.origin === IDP);
  await page.getByLabel('Username').fill('alice');
  await page.getByLabel('Password').fill('alice-password');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL((u) => u.origin === new URL(APP).origin);
  await expect(page.locator('#account-name')).toHaveText('Alice Example');
  await expect(page.locator('#status')).toHaveText('Signed in.');

  // Discovery came from the https issuer; the sign-in declared client capabilities (CP1).
  expect(requests.some((r) => r.url === `${IDP}/${TENANT}/v2.0/.well-known/openid-configuration`)).toBe(true);
  const authorize = requests.find((r) => r.url.startsWith(`${IDP}/${TENANT}/oauth2/v2.0/authorize?`));
  const claims = JSON.parse(new URL(authorize.url).searchParams.get('claims'));
  expect(claims.access_token.xms_cc.values.map((v) => v.toLowerCase())).toEqual(['cp1']);
  const tokenPost = requests.find((r) => r.url.startsWith(`${IDP}/${TENANT}/oauth2/v2.0/token`));
  expect(tokenPost.method).toBe('POST');

  // The weather API, with the access token MSAL.js holds for it.
  const apiCall = page.waitForResponse((r) => r.url().startsWith(`${API}/api/weather/`) && r.request().method() === 'GET');
  await page.getByRole('button', { name: 'Get weather' }).click();
  const response = await apiCall;
  expect(response.status()).toBe(200);
  const authorization = response.request().headers().authorization;
  expect(authorization).toMatch(/^Bearer eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
  // Only to check what the sandbox issued (the API verified it): Entra's xms_cc for a CP1 client.
  const claimsOfToken = JSON.parse(Buffer.from(authorization.split('.')[1], 'base64url'));
  expect(claimsOfToken).toMatchObject({
    aud: 'c2a9e7d1-4b3f-4e8a-b6d5-1f7a3c9e2b80', azp: 'a1f3c5e7-9b2d-4f6a-8c0e-2d4f6a8c0e13', scp: 'weather.read', xms_cc: ['cp1'],
  });
  expect(claimsOfToken.xms_cc_satisfied).toBeUndefined();
  await expect(page.locator('#weather')).toHaveText(/^Portland, OR: -?\d+(\.\d+)? °C$/);
  await expect(page.locator('#error')).toBeEmpty();

  // MSAL.js renews with its refresh token (refresh_token grant, client_info, claims) once its
  // cached access token is gone.
  const dropped = await page.evaluate(() => {
    const keys = Object.keys(sessionStorage).filter((k) => k.includes('|accesstoken|'));
    keys.forEach((k) => sessionStorage.removeItem(k));
    return keys.length;
  });
  expect(dropped).toBe(1);
  await page.locator('#weather').evaluate((e) => { e.textContent = ''; });
  const renewal = page.waitForResponse((r) => r.url().startsWith(`${IDP}/${TENANT}/oauth2/v2.0/token`)
    && new URLSearchParams(r.request().postData() ?? '').get('grant_type') === 'refresh_token');
  const secondCall = page.waitForResponse((r) => r.url().startsWith(`${API}/api/weather/`) && r.request().method() === 'GET');
  await page.getByRole('button', { name: 'Get weather' }).click();
  expect((await renewal).status()).toBe(200);
  expect((await secondCall).status()).toBe(200);
  await expect(page.locator('#weather')).toHaveText(/^Portland, OR: -?\d+(\.\d+)? °C$/);
  await expect(page.locator('#error')).toBeEmpty();

  // Sign out: a top-level GET to the logout endpoint with logout_hint, straight back to the app.
  const logoutRequest = page.waitForRequest((r) => r.url().startsWith(`${IDP}/${TENANT}/oauth2/v2.0/logout`));
  await page.getByRole('button', { name: 'Sign out' }).click();
  const logout = await logoutRequest;
  expect(logout.method()).toBe('GET');
  const lq = new URL(logout.url()).searchParams;
  expect(lq.get('post_logout_redirect_uri')).toBe(APP);
  expect(lq.get('logout_hint')).toBeTruthy();
  expect(lq.has('id_token_hint')).toBe(false);
  const back = await logout.response();
  expect(back.status()).toBe(302);
  const location = new URL(back.headers().location);
  expect(location.origin + location.pathname).toBe(APP);
  // Entra hands MSAL.js's logout `state` back on the redirect, as OIDC RP-Initiated Logout says.
  expect(location.searchParams.get('state')).toBe(lq.get('state'));
  await page.waitForURL((u) => u.origin + u.pathname === APP);
  await expect(page.locator('#status')).toHaveText('Signed out.');
  await expect(page.getByRole('button', { name: 'Sign in', exact: true })).toBeVisible();
  expect(requests.filter((r) => r.url.includes('/oauth2/v2.0/logout')).map((r) => r.method)).toEqual(['GET']);
  expect(requests.filter((r) => JWT_IN_URL.test(r.url)).map((r) => r.url)).toEqual([]);

  // The provider session really ended: signing in again shows the sign-in form.
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL((u) => u.origin === IDP);
  await expect(page.getByLabel('Username')).toBeVisible();
  await expect(page.getByLabel('Password')).toBeVisible();
});
