// Staying signed in (issue 3): silent renewal, single-flight refresh, tabs that share a
// session, the 24-hour refresh budget, WWW-Authenticate challenges and incremental consent.
// Each spec resets the sandbox and sets the token lifetimes it needs.
import {
  test, expect, signOut, signIn, submitCredentials, storageOf, holdsTokens, apiNextFailure,
  idpAdmin, apiAdmin, watchTokenRequests, duplicateTab, resetSandbox, SPA, IDP, USERS, TENANT,
  CLIENT_ID, waitOut, lookUp, region, addReportDecliningConsent,
} from '../fixtures.mjs';

test.beforeEach(({ request }) => resetSandbox(request));
test.afterAll(({ request }) => resetSandbox(request));


test('an expired access token is renewed silently, once, for three calls at once', async ({ page, request }) => {
  await idpAdmin(request, 'config', { access_ttl: 3 });
  await signIn(page);
  await page.goto('/weather');
  const seen = watchTokenRequests(page);
  await page.getByLabel('City').fill('Oslo');
  await waitOut(3500); // the access token has now expired
  // Three lookups start in the same moment (the form submitted three times).
  await page.evaluate(() => {
    const form = document.querySelector('form');
    form.requestSubmit();
    form.requestSubmit();
    form.requestSubmit();
  });
  await expect(region(page)).toBeVisible();
  await expect.poll(() => seen.api.length).toBe(3);
  expect(seen.refresh_token, 'one refresh request for three concurrent calls').toBe(1);
  expect(new Set(seen.api.map((a) => a.auth)).size, 'all three used the renewed token').toBe(1);
  expect(seen.authorize, 'no redirect').toHaveLength(0);
  const stats = await idpAdmin(request, 'stats');
  expect(stats.refresh_reuse).toBe(0);
});

test('a valid cached token is used without any refresh', async ({ page }) => {
  await signIn(page);
  await page.goto('/weather');
  const seen = watchTokenRequests(page);
  await lookUp(page);
  await expect(region(page)).toBeVisible();
  await lookUp(page, 'Bergen');
  await expect(region(page)).toContainText('Bergen');
  expect(seen.refresh_token).toBe(0);
});

test('invalid_token once: one renewal, one retry, then the weather', async ({ page, request }) => {
  await signIn(page);
  await page.goto('/weather');
  const seen = watchTokenRequests(page);
  await apiNextFailure(request, { kind: 'invalid_token' });
  await lookUp(page);
  await expect(region(page)).toBeVisible();
  expect(seen.api).toHaveLength(2);
  expect(seen.refresh_token).toBe(1);
  expect(seen.api[0].auth).not.toBe(seen.api[1].auth);
});

test('two tabs of one session keep working past expiry and never replay a refresh token', async ({ page, context, request }) => {
  await idpAdmin(request, 'config', { access_ttl: 3 });
  await signIn(page);
  await page.goto('/weather');
  // Duplicate the tab: the browser copies sessionStorage into the new tab.
  const copy = (await storageOf(page)).session;
  const twin = await duplicateTab(context, copy, '/weather');
  await expect(twin.getByLabel('City')).toBeVisible();

  for (let round = 0; round < 2; round += 1) {
    await waitOut(3500);
    await lookUp(page, `Oslo${round}`);
    await expect(region(page)).toContainText(`oslo${round}`, { ignoreCase: true });
    await lookUp(twin, `Bergen${round}`);
    await expect(region(twin)).toContainText(`bergen${round}`, { ignoreCase: true });
    await waitOut(3500);
    await lookUp(twin, `Tromso${round}`);
    await expect(region(twin)).toContainText(`tromso${round}`, { ignoreCase: true });
    await lookUp(page, `Trondheim${round}`);
    await expect(region(page)).toContainText(`trondheim${round}`, { ignoreCase: true });
  }
  const stats = await idpAdmin(request, 'stats');
  expect(stats.refresh_reuse, 'the provider never saw a refresh token twice').toBe(0);
  expect(stats.token_requests.refresh_token).toBeGreaterThanOrEqual(2);
});

test('a tab duplicated from an old copy learns the current refresh token from its twin', async ({ page, context, request }) => {
  await idpAdmin(request, 'config', { access_ttl: 3 });
  await signIn(page);
  await page.goto('/weather');
  const oldCopy = (await storageOf(page)).session; // holds the first refresh token
  await waitOut(3500);
  await lookUp(page); // rotates the refresh token
  await expect(region(page)).toBeVisible();
  const twin = await duplicateTab(context, oldCopy, '/weather');
  const seen = watchTokenRequests(twin);
  await waitOut(3500);
  await lookUp(twin, 'Bergen');
  await expect(region(twin)).toContainText('bergen', { ignoreCase: true });
  expect(seen.authorize, 'no sign-in needed').toHaveLength(0);
  const stats = await idpAdmin(request, 'stats');
  expect(stats.refresh_reuse).toBe(0);
});

test('signing out in one tab signs out the other without a reload', async ({ page, context }) => {
  await signIn(page);
  await page.goto('/weather');
  const copy = (await storageOf(page)).session;
  const twin = await duplicateTab(context, copy, '/weather');
  await expect(twin.getByText(USERS.alice.name).first()).toBeVisible();
  let reloaded = false;
  twin.on('framenavigated', (f) => { if (f === twin.mainFrame()) reloaded = true; });
  await signOut(page);
  await expect(twin.getByRole('button', { name: 'Sign in', exact: true })).toBeVisible();
  await expect(twin.getByText("You're signed out")).toBeVisible();
  expect(reloaded).toBe(false);
  expect(holdsTokens(await storageOf(twin))).toBe(false);
});

test('a refresh still under way when another tab signs out stores nothing', async ({ page, context, request }) => {
  await idpAdmin(request, 'config', { access_ttl: 3 });
  await signIn(page);
  await page.goto('/weather');
  const twin = await duplicateTab(context, (await storageOf(page)).session, '/weather');
  // The twin's refresh answer is held back long enough for the sign-out to happen first.
  let held = 0;
  let answered = 0;
  twin.on('requestfinished', (r) => { if (/\/oauth2\/v2\.0\/token$/.test(r.url())) answered += 1; });
  await twin.route(/\/oauth2\/v2\.0\/token$/, async (route) => {
    held += 1;
    await waitOut(2500);
    await route.continue();
  });
  await waitOut(3500);
  await lookUp(twin);
  await expect.poll(() => held).toBe(1);
  await signOut(page);
  await expect(twin.getByRole('button', { name: 'Sign in', exact: true })).toBeVisible();
  await expect.poll(() => answered, { timeout: 20_000 }).toBe(1); // the held refresh has answered
  await waitOut(500); // and the tab has had its turn to (not) store it
  expect(holdsTokens(await storageOf(twin)), 'the late refresh stored nothing').toBe(false);
  await expect(twin.getByRole('button', { name: 'Sign in', exact: true })).toBeVisible();
});

test('a failed silent renewal keeps the report the user typed', async ({ page, request }) => {
  await idpAdmin(request, 'config', { access_ttl: 2, refresh_ttl: 4 });
  await signIn(page);
  await page.goto('/reports');
  await expect(page.getByText('No reports yet.')).toBeVisible();
  await waitOut(4500);
  await idpAdmin(request, 'end-sessions', {});
  await page.getByLabel('Description').fill('Thunder at noon');
  await page.getByLabel('City').fill('Denver');
  await page.getByRole('button', { name: 'Add report' }).click();
  await expect(page.getByRole('alert')).toContainText("couldn't be renewed without you");
  await page.getByRole('button', { name: 'Sign in again' }).click();
  await submitCredentials(page);
  await page.waitForURL(`${SPA}/reports`);
  await expect(page.getByLabel('Description')).toHaveValue('Thunder at noon');
  await expect(page.getByLabel('City')).toHaveValue('Denver');
  await expect(page.getByRole('alert')).toContainText('Your session ended before this was sent');
});

test('the session shows how long it has left', async ({ page }) => {
  await signIn(page);
  await page.locator('.account-button').click();
  await expect(page.getByText(/Session ends in 23 h 59 min|Session ends in 24 h/)).toBeVisible();
});

test('an expired refresh token: one silent redirect, then a Sign in again prompt, no loop', async ({ page, request }) => {
  await idpAdmin(request, 'config', { access_ttl: 2, refresh_ttl: 4 });
  await signIn(page);
  await page.goto('/weather');
  const seen = watchTokenRequests(page);
  await waitOut(4500);
  await idpAdmin(request, 'end-sessions', {});
  await lookUp(page);
  await expect(page.getByRole('alert')).toContainText("Your session has ended and couldn't be renewed without you");
  await expect(page.getByRole('button', { name: 'Sign in again' })).toBeVisible();
  expect(seen.refresh_token, 'the refresh was tried once').toBe(1);
  expect(seen.authorize.map((q) => q.get('prompt'))).toEqual(['none']);
  await waitOut(1500);
  expect(seen.authorize, 'and nothing more happened on its own').toHaveLength(1);
  // The prompt returns to the page the user was on.
  await page.getByRole('button', { name: 'Sign in again' }).click();
  await page.waitForURL((u) => u.origin === IDP);
  await submitCredentials(page);
  await page.waitForURL(`${SPA}/weather`);
});

test('a refused refresh token is forgotten: never sent again, however often the user retries', async ({ page, request }) => {
  // Well within the 24-hour budget, somebody else redeems this tab's refresh token first (the
  // provider then refuses it — invalid_grant — and revokes the grant), and the provider session
  // ends, so the silent sign-in can't help either.
  await idpAdmin(request, 'config', { access_ttl: 2 });
  await signIn(page);
  await page.goto('/weather');
  const seen = watchTokenRequests(page);
  const entry = Object.entries((await storageOf(page)).session).find(([k]) => k.startsWith('nimbus.session.'));
  const stolen = JSON.parse(entry[1]).refresh_token;
  const other = await request.post(`${IDP}/${TENANT}/oauth2/v2.0/token`, {
    headers: { Origin: SPA },
    form: { grant_type: 'refresh_token', client_id: CLIENT_ID, refresh_token: stolen },
  });
  expect(other.status()).toBe(200);
  await waitOut(2500);
  await idpAdmin(request, 'end-sessions', {});
  await lookUp(page);
  await expect(page.getByRole('alert')).toContainText("Your session has ended and couldn't be renewed without you");
  expect(seen.refresh_token).toBe(1);
  // The user goes back to the weather page and tries again, twice.
  for (const city of ['Oslo', 'Rome']) {
    await page.getByRole('link', { name: 'Weather', exact: true }).click();
    await lookUp(page, city);
    await expect(page.getByRole('alert')).toBeVisible();
  }
  await waitOut(500);
  expect(seen.refresh_token, 'the refused refresh token was never sent again').toBe(1);
  expect(seen.api.filter((c) => c.auth.startsWith('Bearer ')), 'no expired token went to the API').toHaveLength(0);
});

test('without Web Locks a tab never redeems its refresh token: a silent sign-in renews instead', async ({ page, request }) => {
  // No lock, no refresh: without one, two tabs holding one refresh token could redeem it at once.
  await page.addInitScript(() =>
    Object.defineProperty(Navigator.prototype, 'locks', { get: () => undefined, configurable: true }));
  await idpAdmin(request, 'config', { access_ttl: 2 });
  await signIn(page);
  await page.goto('/weather');
  const seen = watchTokenRequests(page);
  await waitOut(2500);
  await lookUp(page, 'Lisbon', 'PT');
  await expect(region(page)).toContainText('lisbon', { ignoreCase: true });
  expect(seen.refresh_token, 'no refresh without the lock').toBe(0);
  expect(seen.authorize.map((q) => q.get('prompt'))).toEqual(['none']);
});

test('an expired refresh token with a live provider session renews silently and finishes the lookup', async ({ page, request }) => {
  await idpAdmin(request, 'config', { access_ttl: 2, refresh_ttl: 4 });
  await signIn(page);
  await page.goto('/weather');
  const seen = watchTokenRequests(page);
  await waitOut(4500);
  await lookUp(page, 'Lisbon', 'PT');
  await expect(region(page)).toContainText('lisbon', { ignoreCase: true });
  expect(seen.authorize.map((q) => q.get('prompt'))).toEqual(['none']);
});

test('insufficient_claims: one re-authorization with the claims, then the weather', async ({ page, request }) => {
  await signIn(page);
  await page.goto('/weather');
  const seen = watchTokenRequests(page);
  const claims = JSON.stringify({ access_token: { acrs: { essential: true, value: 'c1' } } });
  await apiNextFailure(request, { kind: 'insufficient_claims', claims: Buffer.from(claims).toString('base64') });
  await lookUp(page, 'Madrid', 'ES');
  await expect(region(page)).toContainText('madrid', { ignoreCase: true });
  expect(seen.authorize).toHaveLength(1);
  // The challenge's claims, with the client capability merged in (as MSAL.js does).
  expect(JSON.parse(seen.authorize[0].get('claims'))).toEqual({
    access_token: { acrs: { essential: true, value: 'c1' }, xms_cc: { values: ['cp1'] } },
  });
  expect(page.url()).toBe(`${SPA}/weather`);
});

test('insufficient_claims twice: the second challenge stops and explains', async ({ page, request }) => {
  await signIn(page);
  await page.goto('/weather');
  const seen = watchTokenRequests(page);
  const claims = Buffer.from('{"access_token":{"acrs":{"essential":true,"value":"c1"}}}').toString('base64');
  await apiNextFailure(request, { kind: 'insufficient_claims', claims });
  await apiNextFailure(request, { kind: 'insufficient_claims', claims });
  await lookUp(page, 'Madrid', 'ES');
  await expect(page.getByRole('alert')).toContainText('stopped rather than try again in a loop');
  expect(seen.authorize).toHaveLength(1);
});

test('the first report asks for consent, then posts the typed report', async ({ page }) => {
  await signIn(page);
  await page.getByRole('link', { name: 'Reports', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Reports', exact: true })).toBeVisible();
  await expect(page.getByText('No reports yet.')).toBeVisible();
  await page.getByLabel('Description').fill('Hail the size of peas');
  await page.getByLabel('City').fill('Portland');
  await page.getByLabel('State').fill('OR');
  await page.getByRole('button', { name: 'Add report' }).click();
  // The provider's consent page for the write scope.
  await page.waitForURL((u) => u.origin === IDP);
  await expect(page.getByText(/weather\.write/)).toBeVisible();
  await page.getByRole('button', { name: 'Accept' }).click();
  await page.waitForURL(`${SPA}/reports`);
  const list = page.getByRole('list', { name: 'Reports list' });
  await expect(list).toContainText('Hail the size of peas');
  await expect(list).toContainText('Portland, OR, US');
  await expect(page.getByLabel('Description')).toHaveValue('');
  // The second report needs no consent.
  const seen = watchTokenRequests(page);
  await page.getByLabel('Description').fill('Sunny again');
  await page.getByLabel('City').fill('Salem');
  await page.getByRole('button', { name: 'Add report' }).click();
  await expect(list).toContainText('Sunny again');
  expect(seen.authorize).toHaveLength(0);
  const items = await list.getByRole('listitem').allTextContents();
  expect(items[0]).toContain('Sunny again');
});

test('without Web Locks the first report still asks for consent and is posted', async ({ page }) => {
  await page.addInitScript(() =>
    Object.defineProperty(Navigator.prototype, 'locks', { get: () => undefined, configurable: true }));
  await signIn(page);
  await page.getByRole('link', { name: 'Reports', exact: true }).click();
  await page.getByLabel('Description').fill('Fog by the river');
  await page.getByLabel('City').fill('Portland');
  const seen = watchTokenRequests(page);
  await page.getByRole('button', { name: 'Add report' }).click();
  await page.waitForURL((u) => u.origin === IDP);
  await expect(page.getByText(/weather\.write/)).toBeVisible();
  await page.getByRole('button', { name: 'Accept' }).click();
  await page.waitForURL(`${SPA}/reports`);
  await expect(page.getByRole('list', { name: 'Reports list' })).toContainText('Fog by the river');
  expect(seen.refresh_token, 'no refresh without the lock').toBe(0);
});

test('a draft another user left in the tab is never posted for the one signed in now', async ({ page }) => {
  await signIn(page, USERS.bob);
  const seen = watchTokenRequests(page);
  // Alice's report, kept in this tab across a round trip to the provider, never finished.
  const draft = { action: 'AddReport', description: 'Alice was here', city: 'Denver', state: 'CO', country: 'US' };
  await page.evaluate((d) => sessionStorage.setItem('nimbus.resume', JSON.stringify({
    data: JSON.stringify(d), declined: null, owner: `${location.origin.replace('8080', '5556')}/tenant/v2.0 alice-subject`,
  })), draft);
  await page.getByRole('link', { name: 'Reports', exact: true }).click();
  await expect(page.getByRole('alert')).toContainText('started by a different user');
  await expect(page.getByLabel('Description')).toHaveValue('Alice was here');
  await waitOut(500);
  expect(seen.api.filter((c) => c.method === 'POST'), 'nothing was posted').toHaveLength(0);
  expect(seen.authorize, 'no consent was asked for on her behalf').toHaveLength(0);
});

test('declining consent keeps the typed report and says so', async ({ page, request }) => {
  await signIn(page);
  await page.goto('/reports');
  await addReportDecliningConsent(page);
  await expect(page.getByRole('alert')).toContainText('You declined the permission');
  await expect(page.getByLabel('Description')).toHaveValue('Fog on the river');
  await expect(page.getByLabel('City')).toHaveValue('London');
  await expect(page.getByLabel('Country')).toHaveValue('GB');
  const reports = await apiAdmin(request, 'stats');
  expect(reports.by_status?.['201'] ?? 0).toBe(0);
});
