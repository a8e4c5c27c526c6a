// The whole journey a person takes, against the real sandbox provider and API. Runs in every
// deployment project: the shipped config.json (http sandbox), the same dist/ under another
// config.json (https sandbox, another client id, another API origin), and behind nginx at the
// site root and under /nimbus/ (`app` is the deployment's home URL, base path included).
import {
  test, expect, signIn, signOut, startSignIn, submitCredentials, storageOf, holdsTokens, USERS,
} from '../fixtures.mjs';

test('sign in, see the weather for a city, sign out', async ({ page, app, spaOrigin, idpOrigin, apiOrigin, clientId }) => {
  const requests = [];
  page.on('request', (r) => requests.push({ url: r.url(), headers: r.headers(), method: r.method(), postData: r.postData() }));

  await page.goto('./');
  await expect(page.getByRole('heading', { name: 'Nimbus weather' })).toBeVisible();
  await startSignIn(page);

  // The authorization request (the provider then moves on to its own sign-in page): code flow,
  // PKCE S256, fresh state and nonce, query response mode, the API's read scope.
  const authReq = requests.find((r) => new URL(r.url).pathname.endsWith('/oauth2/v2.0/authorize'));
  expect(authReq, 'a full-page redirect to the authorize endpoint').toBeTruthy();
  const q = new URL(authReq.url).searchParams;
  expect(q.get('response_type')).toBe('code');
  expect(q.get('code_challenge_method')).toBe('S256');
  expect(q.get('code_challenge')).toMatch(/^[\w-]{43}$/);
  expect(q.get('state')).toMatch(/^[\w-]{43}$/);
  expect(q.get('nonce')).toMatch(/^[\w-]{43}$/);
  expect(q.get('response_mode')).toBe('query');
  // Client capability cp1 (continuous access evaluation), as MSAL.js declares it.
  expect(JSON.parse(q.get('claims'))).toEqual({ access_token: { xms_cc: { values: ['cp1'] } } });
  expect(q.get('scope').split(' ')).toEqual(
    expect.arrayContaining(['openid', 'profile', 'offline_access', expect.stringMatching(/^api:\/\/.+\/weather\.read$/)]),
  );

  await submitCredentials(page, USERS.alice);
  await page.waitForURL(app);
  await expect(page.getByText('Alice Example').first()).toBeVisible();
  await expect(page.getByRole('heading', { name: /Welcome, Alice Example/ })).toBeVisible();

  // code and state are gone from the address bar.
  expect(page.url()).not.toMatch(/code=|state=/);
  // Exactly one code redemption, form-encoded, without a client secret.
  const tokenPosts = requests.filter((r) => r.url.endsWith('/oauth2/v2.0/token') && r.method === 'POST');
  expect(tokenPosts).toHaveLength(1);

  // Tokens live in sessionStorage, never localStorage.
  const stored = await storageOf(page);
  expect(holdsTokens({ session: stored.session })).toBe(true);
  expect(stored.local).toEqual({});

  await page.getByRole('link', { name: 'Weather', exact: true }).click();
  await expect(page).toHaveURL(`${app}weather`);
  await page.getByLabel('City').fill('Portland');
  await page.getByLabel('State').fill('OR');
  await expect(page.getByLabel('Country')).toHaveValue('US');
  await page.getByLabel('Units').selectOption('imperial');

  const responsePromise = page.waitForResponse((r) => r.url().startsWith(`${apiOrigin}/api/weather/`));
  await page.getByRole('button', { name: 'Get weather' }).click();
  const response = await responsePromise;
  expect(response.status()).toBe(200);
  const sent = response.request();
  expect(sent.url()).toBe(`${apiOrigin}/api/weather/Portland?country=US&units=imperial&state=OR`);
  expect(sent.headers()['authorization']).toMatch(/^Bearer eyJ/);
  const body = await response.json();

  const region = page.getByRole('region', { name: 'Current weather' });
  await expect(region).toBeVisible();
  await expect(region).toContainText(`${body.temp.toFixed(1)} °F`);
  await expect(region).toContainText(`${body.feels_like.toFixed(1)} °F`);
  await expect(region.getByRole('heading', { level: 2 })).toHaveText('Portland, OR, US');
  await expect(region).toContainText(`Low ${body.temp_min.toFixed(1)} °F`);
  await expect(region).toContainText(`High ${body.temp_max.toFixed(1)} °F`);
  await expect(region).toContainText(/As of \d/);
  await expect(region).toContainText(`${body.pressure.toFixed(0)} hPa`);
  await expect(region).toContainText(`${body.humidity.toFixed(0)} %`);

  // Sign out: tokens gone from this tab, the provider's session ended.
  await signOut(page);
  await page.waitForURL(app);
  await expect(page.getByRole('button', { name: 'Sign in', exact: true })).toBeVisible();
  const after = await storageOf(page);
  expect(holdsTokens(after)).toBe(false);
  // Sign-out as Entra documents it: a top-level GET naming the client and, through the ID token's
  // login_hint claim, the account — no token in any URL, ever.
  const logout = requests.find((r) => r.url.includes('/oauth2/v2.0/logout'));
  expect(logout.method).toBe('GET');
  const lq = new URL(logout.url).searchParams;
  expect(lq.get('post_logout_redirect_uri')).toBe(app);
  expect(lq.get('client_id')).toBe(clientId);
  expect(lq.get('logout_hint')).toBeTruthy();
  expect(lq.get('id_token_hint')).toBeNull();
  for (const r of requests) expect(r.url, 'no JWT in any URL').not.toMatch(/eyJ[\w-]*\.[\w-]+\./);

  // The provider asks for credentials again: its session really ended.
  await startSignIn(page);
  await expect(page.getByLabel('Password')).toBeVisible();
  expect(new URL(page.url()).origin).toBe(idpOrigin);
});

test('a signed-out visit to /weather signs in and comes back to /weather', async ({ page, app, spaOrigin, idpOrigin, apiOrigin, clientId }) => {
  await page.goto('./weather');
  await page.waitForURL((u) => u.origin === idpOrigin);
  await submitCredentials(page, USERS.bob);
  await page.waitForURL(`${app}weather`);
  await expect(page.getByText('Bob Example').first()).toBeVisible();
  await expect(page.getByLabel('City')).toBeVisible();
});

test('reload on /weather stays signed in', async ({ page, app, spaOrigin, idpOrigin, apiOrigin, clientId }) => {
  await signIn(page);
  await page.goto('./weather');
  await expect(page.getByLabel('City')).toBeVisible();
  await page.reload();
  await expect(page.getByLabel('City')).toBeVisible();
  await expect(page.getByText('Alice Example').first()).toBeVisible();
  expect(new URL(page.url()).origin).toBe(spaOrigin);
  await page.getByLabel('City').fill('Lisbon');
  await page.getByLabel('Country').fill('PT');
  await page.getByRole('button', { name: 'Get weather' }).click();
  await expect(page.getByRole('region', { name: 'Current weather' })).toContainText('°C');
});

test('after the callback no code or state is left in the URL or history', async ({ page, app, spaOrigin, idpOrigin, apiOrigin, clientId }) => {
  const spaUrls = [];
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame()) spaUrls.push(f.url());
  });
  await page.goto('./weather');
  await submitCredentials(page);
  await page.waitForURL(`${app}weather`);
  expect(page.url()).toBe(`${app}weather`);
  // The callback URL did arrive with a code, and was replaced (not pushed) once read.
  expect(spaUrls.some((u) => u.startsWith(`${app}auth/callback?`) && u.includes('code='))).toBe(true);
  const historyUrls = await page.evaluate(() => [location.href, document.referrer]);
  for (const u of historyUrls) expect(u).not.toMatch(/code=|state=/);
  // Reloading the landing page never revisits the callback.
  await page.reload();
  expect(page.url()).toBe(`${app}weather`);
  await expect(page.getByLabel('City')).toBeVisible();
});
