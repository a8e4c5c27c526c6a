// The interface everyone can use: axe-core finds nothing in any state, light or dark; the
// whole journey works from the keyboard with focus where it should be; nothing scrolls sideways
// at phone widths; the range bar puts its marks where the numbers say.
//
// axe-core is evaluated in the page through the DevTools protocol (page.evaluate), which the
// page's Content-Security-Policy doesn't govern: the app's policy stays exactly as shipped.
import { createRequire } from 'node:module';

import {
  test, expect, signIn, signOut, apiNextFailure, resetSandbox, SPA, IDP, API, USERS, weatherFor,
  addReportDecliningConsent,
} from '../fixtures.mjs';

const axeSource = createRequire(import.meta.url)('axe-core').source;
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];

test.beforeEach(({ request }) => resetSandbox(request));
test.afterAll(({ request }) => resetSandbox(request));

/** Runs axe on the page as it is, in the light and the dark colour scheme; returns a summary. */
async function axeBothSchemes(page, state) {
  const found = [];
  for (const colorScheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme });
    if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(axeSource);
    const result = await page.evaluate((tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags } }), TAGS);
    for (const v of result.violations) {
      found.push(`${state} (${colorScheme}): ${v.id} — ${v.help}\n    ${v.nodes.map((n) => n.target.join(' ')).join('\n    ')}`);
    }
    const line = `${state} (${colorScheme}): ${result.violations.length} violations, ${result.passes.length} rules passed, ${result.incomplete.length} need review`;
    test.info().annotations.push({ type: 'axe', description: line });
    console.log(`[axe] ${line}`);
  }
  await page.emulateMedia({ colorScheme: 'light' });
  return found;
}

test('axe finds no violations in any state, light or dark', async ({ page, request }) => {
  test.setTimeout(180_000);
  const violations = [];
  const check = async (state) => violations.push(...(await axeBothSchemes(page, state)));

  // Config error: a config.json the app can't use.
  await page.route(`${SPA}/config.json`, (route) => route.fulfill({ json: { client_id: 'x' } }));
  await page.goto('/');
  await expect(page.getByRole('heading', { name: "Nimbus can't start" })).toBeVisible();
  await check('config error');
  await page.unroute(`${SPA}/config.json`);

  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Nimbus weather' })).toBeVisible();
  await check('signed out');

  await page.goto('/no/such/page');
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  await check('not found');

  await signIn(page);
  await expect(page.getByRole('heading', { name: /Welcome/ })).toBeVisible();
  await check('signed in');

  await page.locator('.account-button').click();
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
  await check('account menu open');
  await page.keyboard.press('Escape');

  await page.getByRole('link', { name: 'Weather', exact: true }).click();
  await expect(page.getByLabel('City')).toBeVisible();
  await check('weather: empty');

  await page.getByRole('button', { name: 'Get weather' }).click();
  await expect(page.getByRole('alert')).toHaveText('Enter a city.');
  await check('weather: form error');

  await apiNextFailure(request, { kind: 'delay', seconds: 4 });
  await page.getByLabel('City').fill('Denver');
  await page.getByRole('button', { name: 'Get weather' }).click();
  await expect(page.locator('.skeleton')).toBeVisible();
  await check('weather: loading');
  await expect(page.getByRole('region', { name: 'Current weather' })).toBeVisible({ timeout: 20_000 });
  await check('weather: result');

  await page.getByLabel('City').fill('error500');
  await page.getByRole('button', { name: 'Get weather' }).click();
  await expect(page.getByRole('alert')).toContainText('having trouble');
  await page.getByRole('alert').getByText('Details').click();
  await check('weather: error (details open)');

  await page.getByRole('link', { name: 'Reports', exact: true }).click();
  await expect(page.getByText('No reports yet.')).toBeVisible();
  await check('reports: empty');

  await addReportDecliningConsent(page);
  await expect(page.getByRole('alert')).toContainText('You declined the permission');
  await check('reports: consent declined');

  await page.getByRole('button', { name: 'Add report' }).click();
  await page.waitForURL((u) => u.origin === IDP);
  await page.getByRole('button', { name: 'Accept' }).click();
  await page.waitForURL(`${SPA}/reports`);
  await expect(page.getByRole('list', { name: 'Reports list' }).getByRole('listitem')).toHaveCount(1);
  await expect(page.getByText('Your report was added.')).toBeVisible();
  await check('reports: list, form and confirmation');

  expect(violations, violations.join('\n')).toEqual([]);
});

test('the journey by keyboard alone, with focus where it should land', async ({ page }) => {
  test.setTimeout(120_000);
  const focused = () => page.evaluate(() => {
    const e = document.activeElement;
    return { tag: e?.tagName.toLowerCase(), text: (e?.getAttribute('aria-label') ?? e?.textContent ?? '').trim(), id: e?.id ?? '' };
  });
  /** Presses Tab (or Shift+Tab) until `want` matches the focused element; fails if it never does. */
  const tabTo = async (want, { back = false, max = 25 } = {}) => {
    for (let i = 0; i < max; i += 1) {
      const f = await focused();
      if (want(f)) return f;
      await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    }
    throw new Error(`focus never reached the element (last: ${JSON.stringify(await focused())})`);
  };

  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Nimbus weather' })).toBeVisible();
  // The first Tab reaches the skip link, which moves focus to the page's heading.
  await page.keyboard.press('Tab');
  expect(await focused()).toMatchObject({ tag: 'a', text: 'Skip to content' });
  await expect(page.getByRole('link', { name: 'Skip to content' })).toBeVisible();
  await page.keyboard.press('Enter');
  expect(await focused()).toMatchObject({ tag: 'h1', text: 'Nimbus weather' });

  // Sign in: Enter on the header's button; the provider's form by keyboard too.
  await tabTo((f) => f.tag === 'button' && f.text === 'Sign in', { back: true });
  await page.keyboard.press('Enter');
  await page.waitForURL((u) => u.origin === IDP);
  await tabTo((f) => f.tag === 'input', { max: 10 });
  await page.keyboard.type(USERS.alice.username);
  await page.keyboard.press('Tab');
  await page.keyboard.type(USERS.alice.password);
  await page.keyboard.press('Enter');
  await page.waitForURL(`${SPA}/`);
  await expect(page.getByRole('heading', { name: /Welcome/ })).toBeVisible();

  // The nav link to Weather; focus moves to the new page's heading and the title names it.
  await tabTo((f) => f.tag === 'a' && f.text === 'Weather');
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(`${SPA}/weather`);
  await expect(page).toHaveTitle('Weather · Nimbus');
  await expect.poll(focused).toMatchObject({ tag: 'h1', text: 'Weather' });

  // The form: Tab from the heading reaches City first; Enter submits; focus stays on the button
  // and the result is announced in the polite live region.
  await page.keyboard.press('Tab');
  expect(await focused()).toMatchObject({ tag: 'input', id: 'city' });
  await page.keyboard.type('Portland');
  await page.keyboard.press('Tab');
  await page.keyboard.type('OR');
  await tabTo((f) => f.tag === 'button' && f.text === 'Get weather');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('region', { name: 'Current weather' })).toBeVisible();
  expect(await focused()).toMatchObject({ tag: 'button', text: 'Get weather' });
  await expect(page.locator('.sr-only[role="status"]')).toHaveText(/^Weather for Portland, OR, US: -?\d+\.\d °C, feels like -?\d+\.\d °C\.$/);

  // Reports: back up to the nav with Shift+Tab; add a report with Space on the button.
  await tabTo((f) => f.tag === 'a' && f.text === 'Reports', { back: true });
  await page.keyboard.press('Enter');
  await expect(page).toHaveTitle('Reports · Nimbus');
  await expect.poll(focused).toMatchObject({ tag: 'h1', text: 'Reports' });
  await tabTo((f) => f.id === 'description');
  await page.keyboard.type('Clear skies');
  await page.keyboard.press('Tab');
  await page.keyboard.type('Portland');
  await tabTo((f) => f.tag === 'button' && f.text === 'Add report');
  await page.keyboard.press('Space');
  // The write permission is asked for on first use: consent by keyboard.
  await page.waitForURL((u) => u.origin === IDP);
  await tabTo((f) => f.tag === 'button' && f.text === 'Accept', { max: 15 });
  await page.keyboard.press('Enter');
  await page.waitForURL(`${SPA}/reports`);
  await expect(page.getByText('Your report was added.')).toBeVisible();
  // Back from the provider's consent page, focus starts at the confirmation.
  await expect.poll(focused).toMatchObject({ text: 'Your report was added. Thank you!' });
  await expect(page.locator('.report-card.new')).toContainText('Clear skies');

  // The account menu: Enter opens it, Escape closes it and focus returns to its button;
  // Space opens it again, Tab reaches Sign out, Enter signs out.
  const menuButton = page.locator('.account-button');
  await tabTo((f) => f.tag === 'button' && f.text.includes(USERS.alice.name), { back: true, max: 40 });
  await page.keyboard.press('Enter');
  await expect(menuButton).toHaveAttribute('aria-expanded', 'true');
  await expect(page.getByText(/Session ends in/)).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(menuButton).toHaveAttribute('aria-expanded', 'false');
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeHidden();
  expect((await focused()).text).toContain(USERS.alice.name);
  await page.keyboard.press('Space');
  await expect(menuButton).toHaveAttribute('aria-expanded', 'true');
  await tabTo((f) => f.tag === 'button' && f.text === 'Sign out');
  await page.keyboard.press('Enter');
  await page.waitForURL(`${SPA}/`);
  await expect(page.getByRole('button', { name: 'Sign in', exact: true })).toBeVisible();
});

test('nothing scrolls sideways at 320 and 390 px', async ({ page }) => {
  test.setTimeout(120_000);
  const overflow = () => page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
  }));
  const wide = [];
  const measure = async (state) => {
    const { scroll, client } = await overflow();
    if (scroll > client) wide.push(`${state}: ${scroll} px wide in ${client} px`);
  };
  for (const width of [320, 390]) {
    await page.setViewportSize({ width, height: 800 });
    await page.goto('/');
    await expect(page.getByRole('heading', { name: 'Nimbus weather' })).toBeVisible();
    await measure(`${width} signed out`);
    await page.goto('/nowhere');
    await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
    await measure(`${width} not found`);
  }
  await signIn(page, USERS.bob);
  for (const width of [320, 390]) {
    await page.setViewportSize({ width, height: 800 });
    await page.goto('/');
    await expect(page.getByRole('heading', { name: /Welcome/ })).toBeVisible();
    await measure(`${width} signed in`);
    await page.locator('.account-button').click();
    await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
    await measure(`${width} account menu`);
    // The open panel itself stays inside the viewport.
    const panel = await page.locator('#account-panel').boundingBox();
    expect(panel.x).toBeGreaterThanOrEqual(0);
    expect(panel.x + panel.width).toBeLessThanOrEqual(width);
    await page.keyboard.press('Escape');
    await page.getByRole('link', { name: 'Weather', exact: true }).click();
    await weatherFor(page, 'Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch', '', 'imperial');
    await expect(page.getByRole('region', { name: 'Current weather' })).toBeVisible();
    await measure(`${width} weather result`);
    await page.getByLabel('City').fill('error500');
    await page.getByRole('button', { name: 'Get weather' }).click();
    await page.getByRole('alert').getByText('Details').click();
    await measure(`${width} weather error`);
    await page.getByRole('link', { name: 'Reports', exact: true }).click();
    await expect(page.getByRole('heading', { name: 'Reports', exact: true })).toBeVisible();
    await measure(`${width} reports`);
  }
  expect(wide, wide.join('\n')).toEqual([]);
});

test('the range bar puts each mark where its value lies, feels-like outside the range included', async ({ page }) => {
  await signIn(page);
  await page.goto('/weather');
  // Several cities: the sandbox's deterministic weather puts feels-like inside and outside
  // [min, max] for different ones.
  let outside = 0;
  for (const city of ['Portland', 'Oslo', 'Cairo', 'Reykjavik', 'Lima', 'Perth']) {
    const body = await weatherFor(page, city);
    const region = page.getByRole('region', { name: 'Current weather' });
    await expect(region.getByRole('heading', { level: 2 })).toHaveText(`${city}, US`);
    const bar = region.locator('.range-bar');
    const svg = bar.locator('svg');
    const attr = async (sel, name) => Number(await svg.locator(sel).getAttribute(name));
    const low = Math.min(body.temp_min, body.feels_like, body.temp);
    const high = Math.max(body.temp_max, body.feels_like, body.temp);
    // The scale: every value shown, padded by a tenth of the span (at least one degree).
    const span = Math.max(high - low, 1);
    const pad = span / 10;
    const centre = (low + high) / 2;
    const [from, to] = high - low < 1 ? [centre - span / 2 - pad, centre + span / 2 + pad] : [low - pad, high + pad];
    const x = (v) => ((v - from) / (to - from)) * 300;
    expect(await attr('.span', 'x')).toBeCloseTo(x(body.temp_min), 0);
    expect(await attr('.span', 'width')).toBeCloseTo(x(body.temp_max) - x(body.temp_min), 0);
    expect(await attr('.mark-now', 'cx')).toBeCloseTo(x(body.temp), 0);
    expect(await attr('.mark-feels', 'cx')).toBeCloseTo(x(body.feels_like), 0);
    if (body.feels_like < body.temp_min || body.feels_like > body.temp_max) outside += 1;
    await expect(bar).toHaveAttribute('role', 'img');
    await expect(bar).toHaveAttribute('aria-label', `Temperature range bar: low ${body.temp_min.toFixed(1)} °C, high ${body.temp_max.toFixed(1)} °C, now ${body.temp.toFixed(1)} °C, feels like ${body.feels_like.toFixed(1)} °C.`);
  }
  expect(outside, 'at least one city has feels-like outside [min, max]').toBeGreaterThan(0);
});
