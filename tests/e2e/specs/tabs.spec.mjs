// Tabs and tokens (issue 10): what crosses the BroadcastChannel between the app's tabs, heard by
// a same-origin page that isn't the app, and what the app does with a token the provider granted
// without the scope the call needs.
import {
  test, expect, signIn, storageOf, idpAdmin, watchTokenRequests, duplicateTab, resetSandbox, SPA,
  USERS, waitOut, lookUp, region, signOut,
} from '../fixtures.mjs';

test.beforeEach(({ request }) => resetSandbox(request));
test.afterAll(({ request }) => resetSandbox(request));

/** The app's session entry in a tab's sessionStorage, parsed (undefined when signed out). */
async function sessionOf(page, clientId) {
  const raw = (await storageOf(page)).session[`nimbus.session.${clientId}`];
  return raw === undefined ? undefined : JSON.parse(raw);
}

/** Every secret value a stored session holds: tokens and the family's channel key. */
function secretsOf(session) {
  if (!session) return [];
  return [
    session.refresh_token, session.id_token, session.channel_key,
    ...(session.access_tokens ?? []).map((t) => t.token),
  ].filter((v) => typeof v === 'string' && v.length >= 8);
}

/** A same-origin page that is not the app (no app script, none of its sessionStorage), listening
 *  on the app's channel and able to post to it, as any script of this origin could. */
async function openSpy(context, channelName) {
  const spy = await context.newPage();
  await spy.route(`${SPA}/__spy`, (route) => route.fulfill({
    status: 200, contentType: 'text/html', body: '<!DOCTYPE html><title>same-origin listener</title>',
  }));
  await spy.goto(`${SPA}/__spy`);
  await spy.evaluate((name) => {
    window.heard = [];
    window.channel = new BroadcastChannel(name);
    window.channel.onmessage = (e) => window.heard.push(typeof e.data === 'string' ? e.data : JSON.stringify(e.data));
  }, channelName);
  return {
    page: spy,
    heard: () => spy.evaluate(() => window.heard.slice()),
    post: (message) => spy.evaluate((m) => window.channel.postMessage(m), message),
  };
}

test('no token crosses the channel: a same-origin listener hears signals and ciphertext only, through sign-in, refreshes in two tabs, a "Need" and sign-out', async ({ page, context, request, clientId }) => {
  test.setTimeout(90_000); // two rounds of 3 s token lifetimes in two tabs, on a busy machine
  const spy = await openSpy(context, `nimbus.${clientId}`);
  await idpAdmin(request, 'config', { access_ttl: 3 });
  await signIn(page);
  await page.goto('/weather');
  const secrets = new Set();
  const collect = async (...tabs) => {
    for (const tab of tabs) for (const s of secretsOf(await sessionOf(tab, clientId))) secrets.add(s);
  };
  await collect(page);
  const twin = await duplicateTab(context, (await storageOf(page)).session, '/weather');
  await expect(twin.getByLabel('City')).toBeVisible();

  for (let round = 0; round < 2; round += 1) {
    await waitOut(3500); // both tabs' access tokens have expired
    await lookUp(page, `Oslo${round}`);
    await expect(region(page)).toContainText(`oslo${round}`, { ignoreCase: true });
    await collect(page, twin);
    await lookUp(twin, `Bergen${round}`);
    await expect(region(twin)).toContainText(`bergen${round}`, { ignoreCase: true });
    await collect(page, twin);
    await waitOut(3500);
    await lookUp(twin, `Tromso${round}`);
    await expect(region(twin)).toContainText(`tromso${round}`, { ignoreCase: true });
    await collect(page, twin);
  }
  // The two tabs did share rotations (no replay), so the channel carried sessions.
  const stats = await idpAdmin(request, 'stats');
  expect(stats.refresh_reuse).toBe(0);
  const rotations = (await spy.heard()).filter((m) => JSON.parse(m).t === 'Rotated');
  expect(rotations.length, 'rotations were announced').toBeGreaterThan(0);

  // The listener learns the family from what it heard and asks for the session, as a stale
  // tab of that family would: a tab answers, and the answer is sealed (checked below).
  const first = JSON.parse(rotations[0]);
  const family = first.family ?? first.session?.family; // (the latter: the channel's old form)
  const before = (await spy.heard()).length;
  await spy.post(JSON.stringify({ t: 'Need', family, generation: 0 }));
  await expect.poll(async () => (await spy.heard()).slice(before).filter((m) => JSON.parse(m).t === 'Rotated').length,
    { message: 'a tab answered the Need' }).toBeGreaterThan(0);
  await collect(page, twin);

  await signOut(page);
  await expect(twin.getByRole('button', { name: 'Sign in', exact: true })).toBeVisible();
  await expect.poll(async () => (await spy.heard()).some((m) => JSON.parse(m).t === 'SignOut')).toBe(true);

  const heard = await spy.heard();
  expect(secrets.size, 'tokens were collected to compare with').toBeGreaterThanOrEqual(6);
  for (const message of heard) {
    for (const secret of secrets) expect(message.includes(secret), `a stored secret in ${message.slice(0, 80)}…`).toBe(false);
    expect(message, 'nothing JWT-shaped').not.toMatch(/eyJ[\w-]*\.[\w-]*\./);
    expect(message).not.toMatch(/refresh_token|access_token|id_token|channel_key/);
    // Only the message forms the app sends: signals, and sessions as ciphertext.
    const m = JSON.parse(message);
    expect(['Rotated', 'Need', 'SignOut']).toContain(m.t);
    if (m.t === 'Rotated') expect(Object.keys(m).sort()).toEqual(['family', 'generation', 'sealed', 't']);
  }
});

test('a session posted by a script that lacks the family key is never adopted', async ({ page, context, request, clientId }) => {
  const spy = await openSpy(context, `nimbus.${clientId}`);
  await idpAdmin(request, 'config', { access_ttl: 3 });
  await signIn(page);
  await page.goto('/weather');
  const own = await sessionOf(page, clientId);
  // The attacker's own session, posted in the clear (the channel's old form) and as a "seal"
  // made without the family's key, each claiming a newer generation of this family.
  const forged = { ...own, generation: own.generation + 5, refresh_token: 'forged-refresh-token', access_tokens: [] };
  delete forged.channel_key;
  await spy.post(JSON.stringify({ t: 'Rotated', session: forged }));
  await spy.post(JSON.stringify({
    t: 'Rotated', family: own.family, generation: own.generation + 6,
    sealed: { nonce: 'AAAAAAAAAAAAAAAA', data: Buffer.from(JSON.stringify(forged)).toString('base64url') },
  }));
  await waitOut(3500); // the access token runs out (and the tab has long handled both messages)
  const unchanged = await sessionOf(page, clientId);
  expect(unchanged.refresh_token, 'the forged session was not adopted').toBe(own.refresh_token);
  expect(unchanged.generation).toBe(own.generation);
  const seen = watchTokenRequests(page);
  await lookUp(page, 'Lisbon', 'PT');
  await expect(region(page)).toContainText('lisbon', { ignoreCase: true });
  const after = await sessionOf(page, clientId);
  expect(after.refresh_token).not.toBe('forged-refresh-token');
  expect(after.family).toBe(own.family);
  expect(after.generation, 'one real rotation, nothing adopted').toBe(own.generation + 1);
  expect(seen.refresh_token).toBe(1);
  expect((await idpAdmin(request, 'stats')).token_failures.refresh_token, 'no forged token was redeemed').toBe(0);
});

test('a token granted without the scope the call needs is never sent: one precise message per action, no loop', async ({ page, request }) => {
  await idpAdmin(request, 'config', { access_ttl: 3 });
  await signIn(page);
  await page.goto('/weather');
  const seen = watchTokenRequests(page);
  // From now on the provider grants refreshes without weather.read (as if an administrator had
  // withdrawn it); the access token from sign-in runs out.
  await idpAdmin(request, 'hostile', { target: 'scope', mode: 'without_read' });
  await waitOut(3500);
  await lookUp(page);
  const alert = page.getByRole('alert');
  await expect(alert).toContainText('without the permission this needs (weather.read), so nothing was sent');
  expect(seen.refresh_token, 'one refresh').toBe(1);
  expect(seen.api, 'no API call with that token').toHaveLength(0);
  // The user tries again: one more refresh, the same message, still nothing sent.
  await lookUp(page, 'Bergen');
  await expect.poll(() => seen.refresh_token).toBe(2);
  await expect(alert).toContainText('without the permission this needs (weather.read)');
  await waitOut(1500);
  expect(seen.refresh_token, 'nothing more on its own').toBe(2);
  expect(seen.api).toHaveLength(0);
  expect(seen.authorize, 'no redirect').toHaveLength(0);
  // Granted again: the next lookup refreshes once and gets the weather, no sign-in needed.
  await idpAdmin(request, 'hostile', { clear: true, target: 'scope' });
  await lookUp(page, 'Rome', 'IT');
  await expect(region(page)).toContainText('rome', { ignoreCase: true });
  expect(seen.refresh_token).toBe(3);
  expect(seen.api).toHaveLength(1);
  expect((await idpAdmin(request, 'stats')).refresh_reuse).toBe(0);
});
