// One build, any tenant: the same dist/ is served on :8080 with the shipped config.json and on
// :8081 with tests/e2e/config.8081.json (the https sandbox, another client id, another API). The
// journey spec runs against both; this spec checks the policies each deployment runs under, and
// what the app says when a host's header policy was made for another config.json.
import { readFileSync } from 'node:fs';
import { test, expect, signIn, SPA } from '../fixtures.mjs';

const SECOND = 'http://localhost:8081';
const secondConfig = JSON.parse(readFileSync(new URL('../config.8081.json', import.meta.url), 'utf8'));
const shippedConfig = JSON.parse(readFileSync(new URL('../../../public/config.json', import.meta.url), 'utf8'));

/** The policies in force on the page: the header's, then every <meta>'s, in order. */
async function policiesOf(page, origin) {
  const response = await page.goto(`${origin}/`);
  await expect(page.getByRole('button', { name: 'Sign in', exact: true })).toBeVisible();
  const metas = await page.evaluate(() =>
    [...document.querySelectorAll('meta[http-equiv="Content-Security-Policy"]')].map((m) => m.content));
  return { header: response.headers()['content-security-policy'] ?? null, metas };
}

const directive = (policy, name) => policy.split(';').map((d) => d.trim()).find((d) => d.startsWith(`${name} `));

test('each deployment of the one build connects only to its own config.json origins', async ({ page }) => {
  const first = await policiesOf(page, SPA);
  const second = await policiesOf(page, SECOND);
  // The same index.html: one base policy that fits any config, no 'unsafe-inline' anywhere.
  expect(first.metas[0]).toBe(second.metas[0]);
  expect(directive(first.metas[0], 'connect-src')).toBe("connect-src 'self' https: http://localhost:* http://127.0.0.1:*");
  expect(directive(first.metas[0], 'form-action')).toBe("form-action 'none'");
  for (const p of [...first.metas, ...second.metas, first.header, second.header]) expect(p).not.toContain('unsafe-inline');
  // At start-up each adds the policy its config.json implies.
  expect(first.metas[1]).toBe("connect-src 'self' http://localhost:5556 http://localhost:5557");
  expect(second.metas[1]).toBe("connect-src 'self' https://localhost:5443 http://localhost:5558");
  expect(first.metas).toHaveLength(2);
  expect(second.metas).toHaveLength(2);
  // The header a host sends (dist/csp-header.txt, or regenerated for the other config.json).
  expect(directive(first.header, 'connect-src')).toBe(first.metas[1]);
  expect(directive(second.header, 'connect-src')).toBe(second.metas[1]);
  expect(directive(first.header, 'frame-ancestors')).toBe("frame-ancestors 'none'");
});

test('config.json is fetched once, as the page starts, and the preloaded answer is the one used', async ({ page }) => {
  const fetched = [];
  const warnings = [];
  page.on('request', (r) => { if (new URL(r.url()).pathname === '/config.json') fetched.push(r.resourceType()); });
  // Chromium warns when a preloaded answer goes unused (and the file is fetched twice).
  page.on('console', (m) => { if (/config\.json|not used/i.test(m.text())) warnings.push(m.text()); });
  await page.goto('/');
  await expect(page.getByRole('button', { name: 'Sign in', exact: true })).toBeVisible();
  expect(fetched).toHaveLength(1);
  expect(warnings).toEqual([]);
});

test.describe('policies that refuse', () => {
  test.use({ expectedConsole: ['CSP violation: connect-src', "violates the document's Content Security Policy", 'Content Security Policy directive: "connect-src'] });

  test('the start-up policy narrows connect-src to the config.json origins, beyond any header', async ({ page }) => {
    // The header on :8080 allows the sandbox's provider (5556) and API (5557). A config.json that
    // names only 5556 (for both) must leave 5557 unreachable: the app's own policy refuses it.
    const narrower = { ...shippedConfig, api: { ...shippedConfig.api, base_url: 'http://localhost:5556' } };
    await page.route(`${SPA}/config.json`, (route) => route.fulfill({ json: narrower }));
    const { header, metas } = await policiesOf(page, SPA);
    expect(directive(header, 'connect-src')).toBe("connect-src 'self' http://localhost:5556 http://localhost:5557");
    expect(metas[1]).toBe("connect-src 'self' http://localhost:5556");
    const outcome = await page.evaluate(async () => {
      // no-cors: the answer is opaque, but the request is sent unless a policy refuses it.
      const probe = (url) => fetch(url, { mode: 'no-cors' }).then(() => 'sent', () => 'blocked');
      return { named: await probe('http://localhost:5556/__sandbox/stats'), other: await probe('http://localhost:5557/__sandbox/stats') };
    });
    expect(outcome).toEqual({ named: 'sent', other: 'blocked' });
  });

  test('a header policy made for another config.json: the app says so and names the fix', async ({ page }) => {
    // dist/ on :8080 still sends the header for the shipped config; config.json now names the
    // https sandbox, as after swapping the file without regenerating the header.
    await page.route(`${SPA}/config.json`, (route) => route.fulfill({ json: secondConfig }));
    let reached = 0;
    page.on('request', (r) => { if (r.url().startsWith('https://localhost:5443/')) reached += 1; });
    await page.goto('/');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    const alert = page.getByRole('alert');
    await expect(alert).toContainText(
      "This site's Content-Security-Policy doesn't allow connections to https://localhost:5443, the identity provider named in config.json",
    );
    await expect(alert).toContainText('node scripts/csp.mjs dist');
    await expect(alert).not.toContainText('CORS');
    expect(reached).toBe(0);
    expect(new URL(page.url()).origin).toBe(SPA);
  });

  test('a header policy that leaves out the API: the weather page says so', async ({ page }) => {
    const moved = { ...shippedConfig, api: { ...shippedConfig.api, base_url: 'http://localhost:5558' } };
    await page.route(`${SPA}/config.json`, (route) => route.fulfill({ json: moved }));
    await signIn(page);
    await page.goto('/weather');
    await page.getByLabel('City').fill('Portland');
    await page.getByRole('button', { name: 'Get weather' }).click();
    const alert = page.getByRole('alert');
    await expect(alert).toContainText("doesn't allow connections to http://localhost:5558, the weather API named in config.json");
    await expect(alert).not.toContainText('CORS');
  });
});
