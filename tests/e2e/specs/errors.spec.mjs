// What a person sees when something goes wrong: each a specific message, nothing stored.
import {
  test, expect, signIn, startSignIn, storageOf, holdsTokens, apiNextFailure, SPA, IDP,
} from '../fixtures.mjs';

test('Cancel at the provider shows access denied and stores no tokens', async ({ page }) => {
  await page.goto('/');
  await startSignIn(page);
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.waitForURL((u) => u.origin === SPA && u.pathname === '/auth/callback');
  const alert = page.getByRole('alert');
  await expect(alert).toContainText('Sign-in was cancelled or access was denied.');
  expect(page.url()).not.toMatch(/error=|state=/);
  await expect(page.getByRole('button', { name: 'Sign in again' })).toBeVisible();
  const stored = await storageOf(page);
  expect(holdsTokens(stored)).toBe(false);
  expect(Object.keys(stored.session).filter((k) => k.includes('pending'))).toEqual([]);
  // Sign in again starts a fresh sign-in.
  await page.getByRole('button', { name: 'Sign in again' }).click();
  await page.waitForURL((u) => u.origin === IDP);
});

test('an invalid country shows the API’s own message', async ({ page }) => {
  await signIn(page);
  await page.goto('/weather');
  await page.getByLabel('City').fill('Paris');
  await page.getByLabel('Country').fill('usa');
  await page.getByRole('button', { name: 'Get weather' }).click();
  await expect(page.getByRole('alert')).toHaveText(
    'Invalid country: usa. It must be a two letter abbreviation such as US or GB.',
  );
  await expect(page.getByRole('region', { name: 'Current weather' })).toHaveCount(0);
});

test('a city is required before anything is sent', async ({ page }) => {
  await signIn(page);
  await page.goto('/weather');
  let apiCalls = 0;
  page.on('request', (r) => { if (r.url().includes('/api/weather/')) apiCalls += 1; });
  await page.getByRole('button', { name: 'Get weather' }).click();
  await expect(page.getByRole('alert')).toHaveText('Enter a city.');
  expect(apiCalls).toBe(0);
});

test('a server error gets a plain message', async ({ page }) => {
  await signIn(page);
  await page.goto('/weather');
  await page.getByLabel('City').fill('error500');
  await page.getByRole('button', { name: 'Get weather' }).click();
  const alert = page.getByRole('alert');
  await expect(alert).toContainText('The weather service is having trouble. Try again in a moment.');
  // The status is a detail, behind a disclosure; a retry is offered.
  await expect(alert.getByText('HTTP status 500.')).toBeHidden();
  await alert.getByText('Details').click();
  await expect(alert.getByText('HTTP status 500.')).toBeVisible();
  await expect(alert.getByRole('button', { name: 'Try again' })).toBeVisible();
});

test('a token the API refuses even after renewal asks the user to sign in again', async ({ page, request }) => {
  await signIn(page);
  await page.goto('/weather');
  await apiNextFailure(request, { kind: 'invalid_token' });
  await apiNextFailure(request, { kind: 'invalid_token' });
  let apiCalls = 0;
  page.on('request', (r) => { if (r.url().includes('/api/weather/')) apiCalls += 1; });
  await page.getByLabel('City').fill('Oslo');
  await page.getByLabel('Country').fill('NO');
  await page.getByRole('button', { name: 'Get weather' }).click();
  await expect(page.getByRole('alert')).toContainText('refused your sign-in twice');
  await expect(page.getByRole('button', { name: 'Sign in again' })).toBeVisible();
  expect(apiCalls, 'one call and exactly one retry').toBe(2);
});

test('a callback this tab did not start is refused with a message', async ({ page }) => {
  await page.goto('/auth/callback?code=forged-code&state=forged-state');
  await expect(page.getByRole('alert')).toContainText("doesn't belong to a sign-in started in this tab");
  expect(page.url()).toBe(`${SPA}/auth/callback`);
  expect(holdsTokens(await storageOf(page))).toBe(false);
});

test('a callback with the wrong state is refused and the code is never redeemed', async ({ page }) => {
  let tokenCalls = 0;
  page.on('request', (r) => { if (r.url().includes('/oauth2/v2.0/token')) tokenCalls += 1; });
  await page.goto('/');
  await startSignIn(page);
  // Come back with a code and a state of someone else's choosing.
  await page.goto('/auth/callback?code=attacker-code&state=attacker-state');
  await expect(page.getByRole('alert')).toContainText('state mismatch');
  expect(tokenCalls).toBe(0);
  expect(holdsTokens(await storageOf(page))).toBe(false);
});

test('an invalid config.json names the field at fault', async ({ page }) => {
  await page.route('**/config.json', (route) =>
    route.fulfill({ contentType: 'application/json', body: JSON.stringify({ authority: 'https://login.microsoftonline.com/x/v2.0' }) }),
  );
  await page.goto('/');
  await expect(page.getByRole('heading', { name: "Nimbus can't start" })).toBeVisible();
  await expect(page.getByRole('alert')).toContainText('config.json: "client_id" is missing');
});

test('a config.json that is not JSON says so', async ({ page }) => {
  await page.route('**/config.json', (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><p>hi' }));
  await page.goto('/weather');
  await expect(page.getByRole('alert')).toContainText('config.json is not valid JSON');
});
