// The hostile suite (issue 4): a hostile identity provider, a hostile API and hostile inputs
// try everything. Each case asserts the specific message is shown, no token is stored, the API
// is never called with a token from that attempt, and nothing panics (the fixture).
import {
  test, expect, signOut, startSignIn, submitCredentials, signIn, storageOf, holdsTokens, apiNextFailure,
  idpAdmin, apiAdmin, watchTokenRequests, resetSandbox, SPA, IDP, API, TENANT, waitOut,
} from '../fixtures.mjs';

test.beforeEach(({ request }) => resetSandbox(request));
test.afterAll(({ request }) => resetSandbox(request));

/** Signs in against an armed provider and expects the attempt to be refused with `message`. */
async function expectRefusedSignIn(page, message, { timeout } = {}) {
  const seen = watchTokenRequests(page);
  await page.goto('/');
  await startSignIn(page);
  await submitCredentials(page);
  await page.waitForURL((u) => u.origin === SPA && u.pathname === '/auth/callback');
  await expect(page.getByRole('alert')).toContainText(message, { timeout });
  await assertNothingKept(page, seen);
  return seen;
}

async function assertNothingKept(page, seen) {
  expect(holdsTokens(await storageOf(page)), 'no token stored').toBe(false);
  expect(seen.api, 'the API was never called').toHaveLength(0);
  expect(page.url()).not.toMatch(/code=|state=/);
  await expect(page.getByRole('button', { name: 'Sign in again' })).toBeVisible();
}

const arm = (request, target, mode) => idpAdmin(request, 'hostile', { target, mode });

// ---------------------------------------------------------------------------------------------
// 1. The authorization response

test.describe('authorization response', () => {
  const cases = [
    ['strip_state', 'missing its state parameter'],
    ['duplicate_state', 'repeats the parameter "state"'],
    ['duplicate_code', 'repeats the parameter "code"'],
    ['code_and_error', 'carries both a code and an error'],
    ['wrong_iss', 'comes from a different issuer'],
    ['missing_iss', "doesn't name its issuer"],
  ];
  for (const [mode, message] of cases) {
    test(`authorize ${mode} is refused`, async ({ page, request }) => {
      await arm(request, 'authorize', mode);
      const seen = await expectRefusedSignIn(page, message);
      expect(seen.authorization_code, 'the code is never redeemed').toBe(0);
    });
  }

  test('an unknown state is refused', async ({ page }) => {
    const seen = watchTokenRequests(page);
    await page.goto('/');
    await startSignIn(page);
    await page.goto('/auth/callback?code=abc&state=not-ours&iss=' + encodeURIComponent(`${IDP}/${TENANT}/v2.0`));
    await expect(page.getByRole('alert')).toContainText('state mismatch');
    await assertNothingKept(page, seen);
    expect(seen.authorization_code).toBe(0);
  });

  test('a replayed callback URL after success is refused and redeems nothing', async ({ page }) => {
    let callbackUrl;
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame() && f.url().includes('/auth/callback?')) callbackUrl ??= f.url();
    });
    await signIn(page);
    expect(callbackUrl).toContain('code=');
    const seen = watchTokenRequests(page);
    await page.goto(callbackUrl); // a bookmark, the back button, a reload of the old URL
    await expect(page.getByRole('alert')).toContainText("doesn't belong to a sign-in started in this tab");
    expect(seen.authorization_code).toBe(0);
    expect(page.url()).toBe(`${SPA}/auth/callback`);
  });

  test('a callback for a sign-in started in another tab is refused', async ({ page, context }) => {
    // Tab A starts a sign-in; its callback URL is taken to tab B (A's own redemption is held
    // back, so the code is still fresh when B gets it).
    let callbackUrl;
    page.on('request', (r) => { if (r.url().startsWith(`${SPA}/auth/callback?`)) callbackUrl ??= r.url(); });
    await page.route(/\/oauth2\/v2\.0\/token$/, (route) => route.abort());
    await page.goto('/');
    await startSignIn(page);
    await submitCredentials(page);
    await expect.poll(() => callbackUrl).toContain('code=');
    const other = await context.newPage();
    const seen = watchTokenRequests(other);
    await other.goto(callbackUrl);
    await expect(other.getByRole('alert')).toContainText("doesn't belong to a sign-in started in this tab");
    await assertNothingKept(other, seen);
    expect(seen.authorization_code).toBe(0);
  });

  test('an expired pending sign-in is refused', async ({ page }) => {
    // An hour passes at the provider: age the pending sign-in before the callback reads it.
    await page.addInitScript(() => {
      if (location.pathname !== '/auth/callback') return;
      const p = JSON.parse(sessionStorage.getItem('nimbus.pending'));
      p.created_at -= 3600;
      sessionStorage.setItem('nimbus.pending', JSON.stringify(p));
    });
    const seen = await expectRefusedSignIn(page, 'took too long');
    expect(seen.authorization_code).toBe(0);
  });

  test('a hostile error_description with markup is shown as text', async ({ page, request }) => {
    await arm(request, 'authorize', 'error_markup');
    await page.goto('/');
    await startSignIn(page);
    await submitCredentials(page);
    await page.waitForURL(`${SPA}/auth/callback`);
    const alert = page.getByRole('alert');
    await expect(alert).toContainText('Sign-in was cancelled or access was denied.');
    await expect(alert).toContainText('<script>alert(1)</script><b>bold</b>');
    await expect(alert.locator('script, b')).toHaveCount(0);
  });

  test('a very long error_description is cut short', async ({ page, request }) => {
    await arm(request, 'authorize', 'error_long');
    await page.goto('/');
    await startSignIn(page);
    await submitCredentials(page);
    await page.waitForURL(`${SPA}/auth/callback`);
    const text = await page.getByRole('alert').innerText();
    expect(text).toContain('Sign-in was cancelled or access was denied.');
    expect(text.length, 'the 5,000-character description is not shown whole').toBeLessThan(700);
  });

  test('an error_description in a broken encoding is refused as malformed', async ({ page, request }) => {
    await arm(request, 'authorize', 'error_odd_encoding');
    await page.goto('/');
    await startSignIn(page);
    await submitCredentials(page);
    await page.waitForURL(`${SPA}/auth/callback`);
    await expect(page.getByRole('alert')).toContainText('The sign-in response is malformed.');
  });
});

// ---------------------------------------------------------------------------------------------
// 2. The token response

test.describe('token response', () => {
  const cases = [
    ['html_body', 'the token response is unusable (the body is not a JSON object)'],
    ['truncated_json', 'the token response is unusable (the body is not a JSON object)'],
    ['missing_access_token', 'the token response is unusable (no access_token)'],
    ['token_type_mac', 'a token type other than Bearer'],
    ['missing_expires_in', 'missing or invalid expires_in'],
    ['absurd_expires_in', 'missing or invalid expires_in'],
    ['status_400', 'The token endpoint answered HTTP 400'],
    ['status_500', 'The token endpoint answered HTTP 500'],
    ['status_429', 'The token endpoint answered HTTP 429'],
    ['no_cors', '"Single-page application" platform'],
  ];
  for (const [mode, message] of cases) {
    test(`token ${mode} is refused and the code is posted once`, async ({ page, request }) => {
      await arm(request, 'token', mode);
      const seen = await expectRefusedSignIn(page, message);
      expect(seen.authorization_code, 'never re-post a code').toBe(1);
    });
  }

  test('a token response that never comes times out', async ({ page, request }) => {
    test.setTimeout(60_000);
    await arm(request, 'token', 'hang');
    const seen = await expectRefusedSignIn(page, 'no answer in time', { timeout: 30_000 });
    expect(seen.authorization_code).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------
// 3. The ID token

test.describe('ID token', () => {
  const cases = [
    ['bad_signature', "The ID token's signature is not valid"],
    ['alg_none', "signing algorithm this app doesn't accept (none)"],
    ['hs256_public_key', "signing algorithm this app doesn't accept (HS256)"],
    ['unknown_kid', "signed with a key the identity provider doesn't publish"],
    ['missing_kid_multi', "doesn't say which of the provider's keys signed it"],
    ['wrong_iss', 'issued by an unexpected issuer'],
    ['wrong_aud', 'not issued for this app'],
    ['extra_aud', 'also addressed to other apps'],
    ['wrong_nonce', 'nonce mismatch'],
    ['missing_nonce', 'nonce mismatch'],
    ['expired', 'has already expired'],
    ['future_iat', 'issued in the future'],
    ['missing_sub', 'no sub claim'],
    ['malformed_segments', 'The ID token is malformed'],
  ];
  for (const [mode, message] of cases) {
    test(`id_token ${mode} is refused`, async ({ page, request }) => {
      await arm(request, 'id_token', mode);
      await expectRefusedSignIn(page, message);
    });
  }

  test('an unknown kid refetches the keys once, then fails', async ({ page, request }) => {
    await arm(request, 'id_token', 'unknown_kid');
    let keyFetches = 0;
    page.on('request', (r) => { if (r.url().includes('/discovery/v2.0/keys')) keyFetches += 1; });
    await expectRefusedSignIn(page, "signed with a key the identity provider doesn't publish");
    expect(keyFetches).toBe(2);
  });

  test('rotated keys are picked up by refetching the JWKS', async ({ page, request }) => {
    // Fetch and cache the old key set first, then rotate.
    await signIn(page);
    await signOut(page);
    await page.waitForURL(`${SPA}/`);
    await arm(request, 'jwks', 'rotate');
    await startSignIn(page);
    await submitCredentials(page);
    await page.waitForURL(`${SPA}/`);
    await expect(page.getByRole('heading', { name: /Welcome/ })).toBeVisible();
  });
});

test.describe('refreshed ID token', () => {
  for (const [mode, message] of [
    ['wrong_iss', 'renewed the session for a different user or app'],
    ['wrong_aud', 'renewed the session for a different user or app'],
    ['missing_sub', 'renewed the session for a different user or app'],
    ['expired', 'has already expired'],
    ['bad_signature', "signature is not valid"],
  ]) {
    test(`a refresh answer whose ID token has ${mode} is not used`, async ({ page, request }) => {
      await idpAdmin(request, 'config', { access_ttl: 3 });
      await signIn(page);
      await page.goto('/weather');
      const seen = watchTokenRequests(page);
      await waitOut(3500);
      await arm(request, 'refresh_id_token', mode);
      await page.getByLabel('City').fill('Oslo');
      await page.getByRole('button', { name: 'Get weather' }).click();
      await expect(page.getByRole('alert')).toContainText(message);
      expect(seen.refresh_token).toBe(1);
      expect(seen.api, 'the API never got the new access token').toHaveLength(0);
      const stored = Object.entries((await storageOf(page)).session).find(([k]) => k.startsWith('nimbus.session.'));
      expect(JSON.parse(stored[1]).refresh_token, 'the spent refresh token is forgotten').toBeNull();
    });
  }
});

// ---------------------------------------------------------------------------------------------
// 4. Discovery and keys

test.describe('discovery and keys', () => {
  for (const [mode, message] of [
    ['issuer_mismatch', "metadata names issuer"],
    ['malformed_json', 'metadata is unusable'],
    ['unreachable', "Couldn't reach the sign-in service"],
  ]) {
    test(`discovery ${mode} stops sign-in before it starts`, async ({ page, request }) => {
      await request.post(`${IDP}/__sandbox/hostile`, { data: { target: 'discovery', mode } });
      const seen = watchTokenRequests(page);
      await page.goto('/');
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await expect(page.getByRole('alert')).toContainText(message);
      expect(new URL(page.url()).origin).toBe(SPA);
      expect(seen.authorize).toHaveLength(0);
      expect(holdsTokens(await storageOf(page))).toBe(false);
    });
  }

  test('a JWKS without a usable key stops sign-in', async ({ page, request }) => {
    await arm(request, 'jwks', 'no_usable_key');
    await expectRefusedSignIn(page, 'publishes no key this app can verify signatures with');
  });
});

// ---------------------------------------------------------------------------------------------
// 5. Open redirects: the return path after sign-in

test.describe('return path', () => {
  // Paths a link could send a signed-out user to before they click "Sign in".
  const entryPoints = [
    '//evil.example/',
    '/\\evil.example/',
    '/%2F%2Fevil.example/',
    '/%5Cevil.example',
    '/javascript:alert(1)',
    '/%09/evil.example',
    '/%0a/evil.example',
    '/@evil.example',
    '/%2e%2e%2f%2e%2e%2fevil',
  ];
  for (const entry of entryPoints) {
    test(`signing in from ${entry} lands on this site`, async ({ page }) => {
      await page.goto(`${SPA}${entry}`);
      await startSignIn(page);
      await submitCredentials(page);
      await page.waitForURL((u) => u.origin === SPA && u.pathname !== '/auth/callback');
      const url = new URL(page.url());
      expect(url.origin).toBe(SPA);
      expect(url.pathname).toBe('/');
    });
  }

  // A tampered pending sign-in (storage is attacker-reachable only by script on this origin,
  // but the value is checked again when used).
  for (const evil of ['https://evil.example/', '//evil.example', 'javascript:alert(1)', ' /weather', '/\\evil', 'http:/evil']) {
    test(`a stored return path ${JSON.stringify(evil)} lands on /`, async ({ page }) => {
      await page.addInitScript((value) => {
        if (location.pathname !== '/auth/callback') return;
        const p = JSON.parse(sessionStorage.getItem('nimbus.pending'));
        p.return_to = value;
        sessionStorage.setItem('nimbus.pending', JSON.stringify(p));
      }, evil);
      await page.goto('/');
      await startSignIn(page);
      await submitCredentials(page);
      await page.waitForURL(`${SPA}/`);
      await expect(page.getByRole('heading', { name: /Welcome/ })).toBeVisible();
    });
  }
});

// ---------------------------------------------------------------------------------------------
// 6. A hostile API

test.describe('API answers', () => {
  test.beforeEach(async ({ page }) => {
    await signIn(page);
    await page.goto('/weather');
  });

  const lookUp = async (page, city = 'Oslo') => {
    await page.getByLabel('City').fill(city);
    await page.getByRole('button', { name: 'Get weather' }).click();
  };

  test('a redirect to another origin is refused and the token is not sent there', async ({ page, request }) => {
    await apiNextFailure(request, { kind: 'redirect', to: 'http://127.0.0.1:5557/__sandbox/sink/stolen', status: 307 });
    await lookUp(page);
    await expect(page.getByRole('alert')).toContainText("Couldn't reach the weather service");
    const log = await apiAdmin(request, 'sink-log');
    expect(log.records.filter((r) => r.authorization)).toHaveLength(0);
  });

  for (const [name, body] of [
    ['malformed JSON', '{"temp": 1,'],
    ['markup instead of numbers', '{"temp":"<img src=x onerror=alert(1)>","feels_like":1,"temp_min":1,"temp_max":1,"pressure":1,"humidity":1}'],
    ['huge numbers', '{"temp":1e400,"feels_like":1,"temp_min":1,"temp_max":1,"pressure":1,"humidity":1}'],
    ['nulls', '{"temp":null,"feels_like":null,"temp_min":null,"temp_max":null,"pressure":null,"humidity":null}'],
    ['missing fields', '{"temp":20}'],
    ['an HTML page', '<!doctype html><h1>Login</h1>'],
  ]) {
    test(`${name} give a message, not a panic`, async ({ page, request }) => {
      await apiNextFailure(request, { kind: 'body', status: 200, content_type: 'application/json', body });
      await lookUp(page);
      await expect(page.getByRole('alert')).toContainText("sent an answer this app can't read");
      await expect(page.locator('img')).toHaveCount(0);
    });
  }

  test('an insufficient_scope challenge for another resource is not turned into a consent request', async ({ page, request }) => {
    const seen = watchTokenRequests(page);
    await apiNextFailure(request, {
      kind: 'status', status: 403, body: 'forbidden',
      headers: { 'WWW-Authenticate': 'Bearer error="insufficient_scope", scope="https://graph.microsoft.com/Mail.ReadWrite"' },
    });
    await lookUp(page);
    await expect(page.getByRole('alert')).toContainText("You don't have permission for this.");
    expect(seen.authorize, 'no redirect to ask for a foreign scope').toHaveLength(0);
    expect(new URL(page.url()).origin).toBe(SPA);
  });

  test('markup in report fields renders as text', async ({ page, request }) => {
    const evil = '<img src=x onerror="window.__pwned=1"><b>bold</b>';
    await apiNextFailure(request, {
      kind: 'body', status: 200, content_type: 'application/json',
      body: JSON.stringify([{ id: '1', description: evil, location: { city: '<i>c</i>', state: null, country: 'US' }, created_date: '2026-01-01T00:00:00' }]),
    });
    await page.getByRole('link', { name: 'Reports', exact: true }).click();
    const list = page.getByRole('list', { name: 'Reports list' });
    await expect(list).toContainText(evil);
    await expect(list.locator('img, b, i')).toHaveCount(0);
    expect(await page.evaluate(() => window.__pwned)).toBeUndefined();
  });

  test('a city of "." or ".." is refused before sending: URLs would treat it as a dot-segment', async ({ page }) => {
    let apiCalls = 0;
    page.on('request', (r) => { if (r.url().startsWith(`${API}/api/`)) apiCalls += 1; });
    for (const city of ['..', '.', ' .. ']) {
      await lookUp(page, city);
      await expect(page.getByRole('alert')).toHaveText("That isn't a city name.");
    }
    expect(apiCalls).toBe(0);
  });

  const hostileCities = [
    '<script>alert(1)</script>',
    'a/b/c',
    '...',
    '../../admin',
    'what?x=1#frag',
    '🌧️ Zürich',
    'x'.repeat(1000),
  ];
  for (const city of hostileCities) {
    test(`the city ${JSON.stringify(city.slice(0, 30))} is sent as one encoded path segment`, async ({ page }) => {
      const responsePromise = page.waitForResponse((r) => r.url().startsWith(`${API}/api/weather/`));
      await lookUp(page, city);
      const response = await responsePromise;
      const url = new URL(response.url());
      const segment = url.pathname.slice('/api/weather/'.length);
      expect(segment).not.toContain('/');
      expect(decodeURIComponent(segment)).toBe(city);
      expect(url.search).toBe('?country=US&units=metric');
      expect(response.status()).toBe(200);
      await expect(page.getByRole('region', { name: 'Current weather' })).toBeVisible();
    });
  }
});

// ---------------------------------------------------------------------------------------------
// 7. Leak audit

test('no token, code or verifier leaks anywhere during the journey or after sign-out', async ({ page, context }) => {
  const urls = [];
  const referers = [];
  const consoleLines = [];
  page.on('request', (r) => {
    urls.push(r.url());
    const ref = r.headers()['referer'];
    if (ref) referers.push(ref);
  });
  page.on('console', (m) => consoleLines.push(m.text()));
  // Test instrumentation (not the app): keep the verifier the app stored, to look for it later.
  await page.addInitScript(() => {
    const p = sessionStorage.getItem('nimbus.pending');
    if (p) localStorage.setItem('__test_seen_pending', p);
  });
  const history = [];
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) history.push(f.url()); });

  await signIn(page);
  await page.goto('/weather');
  await page.getByLabel('City').fill('Oslo');
  await page.getByRole('button', { name: 'Get weather' }).click();
  await expect(page.getByRole('region', { name: 'Current weather' })).toBeVisible();

  const session = (await storageOf(page)).session;
  const stored = JSON.parse(Object.entries(session).find(([k]) => k.startsWith('nimbus.session.'))[1]);
  const pending = JSON.parse(await page.evaluate(() => localStorage.getItem('__test_seen_pending')));
  const code = new URL(history.find((u) => u.includes('/auth/callback?'))).searchParams.get('code');
  // state and nonce travel to the provider by design; tokens and the verifier never do.
  const secrets = {
    access: stored.access_tokens[0].token,
    refresh: stored.refresh_token,
    id: stored.id_token,
    verifier: pending.verifier,
  };
  for (const [name, value] of Object.entries(secrets)) expect(value, name).toBeTruthy();

  const check = async (when) => {
    const local = await page.evaluate(() => Object.entries(localStorage).filter(([k]) => !k.startsWith('__test')));
    const cookies = await context.cookies(SPA);
    const referrer = await page.evaluate(() => document.referrer);
    const places = {
      'request URLs': urls.join('\n'),
      'Referer headers': referers.join('\n'),
      'console output': consoleLines.join('\n'),
      'localStorage': JSON.stringify(local),
      'cookies': JSON.stringify(cookies),
      'document.referrer': referrer,
      'current URL': page.url(),
    };
    for (const [place, text] of Object.entries(places)) {
      for (const [name, value] of Object.entries(secrets)) {
        expect(text.includes(value), `${name} found in ${place} (${when})`).toBe(false);
      }
    }
    // The code travels once, in the provider's redirect to the callback, and nowhere else.
    const withCode = urls.filter((u) => u.includes(code));
    expect(withCode.every((u) => u.startsWith(`${SPA}/auth/callback?`)), `code only in the callback URL (${when})`).toBe(true);
    expect(referers.filter((r) => /code=|state=/.test(r)), `no code or state in Referer (${when})`).toEqual([]);
  };
  await check('signed in');
  expect(history.filter((u) => u.startsWith(SPA) && u.includes('code=')), 'one callback navigation').toHaveLength(1);

  await signOut(page);
  await page.waitForURL(`${SPA}/`);
  await check('signed out');
  const after = (await storageOf(page)).session;
  expect(holdsTokens({ session: after })).toBe(false);
});

// ---------------------------------------------------------------------------------------------
// Storage faults

test('sessionStorage that refuses writes gives a clear message', async ({ page }) => {
  await page.addInitScript(() => {
    Storage.prototype.setItem = function () {
      throw new DOMException('full', 'QuotaExceededError');
    };
  });
  await page.goto('/');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByRole('alert')).toContainText("This browser won't let the app keep your session");
  expect(new URL(page.url()).origin).toBe(SPA);
});

test('corrupt, truncated or foreign session entries give a clean signed-out state', async ({ page }) => {
  await signIn(page);
  const key = Object.keys((await storageOf(page)).session).find((k) => k.startsWith('nimbus.session.'));
  for (const junk of ['{"family":', 'null', '[]', '{"account":{"name":1}}', '\u0000\u0001', 'x'.repeat(10000)]) {
    await page.evaluate(([k, v]) => sessionStorage.setItem(k, v), [key, junk]);
    await page.reload();
    await expect(page.getByRole('button', { name: 'Sign in', exact: true })).toBeVisible();
  }
  await page.evaluate(() => sessionStorage.setItem('nimbus.pending', '{"state":'));
  await page.goto('/auth/callback?code=x&state=y');
  await expect(page.getByRole('alert')).toContainText("doesn't belong to a sign-in started in this tab");
});

test.describe('content security policy', () => {
  test.use({ expectedConsole: ['CSP violation: connect-src', "violates the document's Content Security Policy", 'Content Security Policy directive: "connect-src'] });

test('a CSP violation would be caught by this suite', async ({ page }) => {
  // The page really runs under the strict policy: a request to an origin outside connect-src
  // is refused by the browser before it leaves.
  await page.goto('/');
  const outcome = await page.evaluate(async () => {
    const seen = new Promise((resolve) =>
      document.addEventListener('securitypolicyviolation', (e) => resolve(e.violatedDirective), { once: true }));
    const fetched = await fetch('http://127.0.0.1:5557/__sandbox/sink/csp').then(() => 'sent', () => 'blocked');
    return { fetched, directive: await seen };
  });
  expect(outcome).toEqual({ fetched: 'blocked', directive: 'connect-src' });
});
});
