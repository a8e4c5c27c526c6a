// dist/ behind a real web server: Debian's nginx serving a copy of the build with the nginx.conf
// the build ships (scripts/sandbox.sh sandbox_start_nginx), at the site root (project "nginx")
// and under /nimbus/ (project "nginx-subpath"). The response headers, the single-page fallback,
// real 404s for missing files, and what a returning visitor downloads.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test, expect } from '../fixtures.mjs';

const IMMUTABLE = 'public, max-age=31536000, immutable';
const directives = (policy) => policy.split(';').map((d) => d.trim()).filter(Boolean);
const named = (policy, name) => directives(policy).find((d) => d.split(' ')[0] === name);

/** The deployed copy's own files (what nginx serves), from scripts/sandbox.sh's layout. */
function deployed(nginxSite, spaBase, name) {
  const url = new URL(`../../../target/nginx/${nginxSite}/www${spaBase}${name}`, import.meta.url);
  return readFileSync(fileURLToPath(url), 'utf8');
}

/** Every file index.html loads from this site, as absolute URLs. */
function assetsOf(html, app) {
  const refs = [...html.matchAll(/(?:href|src)="([^"]+)"|from '([^']+)'|module_or_path: '([^']+)'/g)]
    .map((m) => m[1] ?? m[2] ?? m[3])
    .filter((r) => /\.(js|wasm|css|svg)$/.test(r));
  return [...new Set(refs.map((r) => new URL(r, app).href))];
}

test.beforeEach(({ nginxSite }) => {
  expect(nginxSite, 'runs in the nginx projects only').toBeTruthy();
});

test('the shipped nginx.conf sends the strict policy and the security headers', async ({ page, app, spaBase, nginxSite }) => {
  const response = await page.goto('./');
  expect(response.status()).toBe(200);
  await expect(page.getByRole('button', { name: 'Sign in', exact: true })).toBeVisible();
  const headers = response.headers();
  const metas = await page.evaluate(() =>
    [...document.querySelectorAll('meta[http-equiv="Content-Security-Policy"]')].map((m) => m.content));
  expect(metas).toHaveLength(2);
  // The header is the <meta> policy with connect-src narrowed to what config.json names (the
  // policy the app adds at start-up), plus what a <meta> can't carry: frame-ancestors.
  const header = headers['content-security-policy'];
  expect(header, 'a Content-Security-Policy header').toBeTruthy();
  const expected = [
    ...directives(metas[0]).map((d) => (d.startsWith('connect-src ') ? metas[1] : d)),
    "frame-ancestors 'none'",
  ].join('; ');
  expect(header).toBe(expected);
  expect(named(header, 'connect-src')).toBe("connect-src 'self' http://localhost:5556 http://localhost:5557");
  // The header nginx sends is the one the deployed copy's csp-header.txt holds.
  expect(header).toBe(deployed(nginxSite, spaBase, 'csp-header.txt').trim());
  expect(headers['referrer-policy']).toBe('no-referrer');
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['cross-origin-opener-policy']).toBe('same-origin');
  // Plain http: no HSTS (the shipped config sends it over https only).
  expect(headers['strict-transport-security']).toBeUndefined();
  // The base the app runs under is the one index.html declares.
  expect(await page.evaluate(() => document.baseURI)).toBe(app);
});

test('cache rules: hashed files immutable for a year, index.html and config.json revalidated', async ({ request, app }) => {
  const index = await request.get(app);
  expect(index.status()).toBe(200);
  expect(index.headers()['cache-control']).toBe('no-cache');
  const html = await index.text();
  const assets = assetsOf(html, app);
  // The glue, the wasm and the stylesheet, each under its content hash.
  expect(assets.filter((a) => /-[0-9a-f]{8,16}\.js$/.test(a)).length).toBeGreaterThanOrEqual(1);
  expect(assets.filter((a) => /-[0-9a-f]{8,16}_bg\.wasm$/.test(a))).toHaveLength(1);
  expect(assets.filter((a) => /-[0-9a-f]{8,16}\.css$/.test(a))).toHaveLength(1);
  for (const url of assets) {
    expect(url.startsWith(app), `${url} lies under the app's base`).toBe(true);
    const r = await request.get(url);
    expect(r.status(), url).toBe(200);
    expect(r.headers()['cache-control'], url).toBe(IMMUTABLE);
    expect(r.headers()['content-security-policy'], url).toBeTruthy();
    if (url.endsWith('.wasm')) expect(r.headers()['content-type']).toBe('application/wasm');
  }
  const config = await request.get(`${app}config.json`);
  expect(config.status()).toBe(200);
  expect(config.headers()['cache-control']).toBe('no-cache');
  expect(config.headers()['content-type']).toMatch(/^application\/json/);
  expect((await config.json()).client_id).toBe('5e8a1c3f-2b7d-4f90-a6c4-8d1e3b5f7a29');
  // Revalidation works: nginx answers a conditional request for index.html with 304.
  const etag = index.headers()['etag'];
  expect(etag).toBeTruthy();
  const again = await request.get(app, { headers: { 'If-None-Match': etag } });
  expect(again.status()).toBe(304);
});

test('app routes get the app, missing files get a 404', async ({ request, app, spaOrigin, spaBase }) => {
  const index = await (await request.get(app)).text();
  for (const route of ['weather', 'reports', 'auth/callback?code=abc&state=xyz', 'no/such/page']) {
    const r = await request.get(`${app}${route}`, { maxRedirects: 0 });
    expect(r.status(), route).toBe(200);
    expect(r.headers()['content-type'], route).toMatch(/^text\/html/);
    expect(r.headers()['cache-control'], route).toBe('no-cache');
    expect(r.headers()['content-security-policy'], route).toBeTruthy();
    expect(await r.text(), route).toBe(index);
  }
  for (const file of ['nimbus-0123456789abcdef_bg.wasm', 'nimbus-0123456789abcdef.js', 'main-0123456789abcdef.css', 'favicon.ico', 'weather/x.wasm']) {
    const r = await request.get(`${app}${file}`, { maxRedirects: 0 });
    expect(r.status(), file).toBe(404);
    expect(await r.text(), file).not.toContain('<script type="module">');
    // Headers on errors too (`always`).
    expect(r.headers()['x-content-type-options'], file).toBe('nosniff');
  }
  if (spaBase !== '/') {
    // The base without its slash (leptos_router's home link) is sent to the folder.
    const bare = await request.get(`${spaOrigin}${spaBase.slice(0, -1)}`, { maxRedirects: 0 });
    expect(bare.status()).toBe(301);
    expect(bare.headers()['location']).toBe(spaBase);
    // Outside the base there is no app.
    const outside = await request.get(`${spaOrigin}/weather`, { maxRedirects: 0 });
    expect(outside.status()).toBe(404);
  }
});

test('a second visit with a warm HTTP cache downloads only index.html and config.json', async ({ page, app, spaOrigin }) => {
  const context = page.context();
  /** What a page fetched over the network from this site (not from the HTTP cache). */
  async function visit(p) {
    const cdp = await context.newCDPSession(p);
    const fromCache = new Set();
    const fetched = [];
    cdp.on('Network.requestServedFromCache', (e) => fromCache.add(e.requestId));
    cdp.on('Network.responseReceived', (e) => {
      if (new URL(e.response.url).origin !== spaOrigin) return;
      fetched.push({ id: e.requestId, url: e.response.url, disk: e.response.fromDiskCache, status: e.response.status });
    });
    await cdp.send('Network.enable');
    await p.goto('./');
    await expect(p.getByRole('button', { name: 'Sign in', exact: true })).toBeVisible();
    // The app has started (config.json read, its policy added): nothing left to load.
    await expect(p.locator('meta[http-equiv="Content-Security-Policy"]')).toHaveCount(2);
    await cdp.detach();
    return fetched.filter((f) => !f.disk && !fromCache.has(f.id)).map((f) => new URL(f.url).pathname).sort();
  }
  const base = new URL(app).pathname;
  const first = await visit(page);
  // The cold visit downloads everything (so the check below can see a download).
  expect(first.some((p) => p.endsWith('_bg.wasm')), first.join(', ')).toBe(true);
  expect(first.some((p) => p.endsWith('.css')), first.join(', ')).toBe(true);

  const second = await context.newPage();
  const again = await visit(second);
  expect(again).toEqual([base, `${base}config.json`].sort());
});

test('the other hosts\' files carry the same policy, headers and cache rules', async ({ request, app, spaBase, nginxSite }) => {
  // Generated from the same deployed copy as the nginx.conf served above (no hand copies):
  // the policy nginx sends, the hashed names index.html loads, the base path.
  const csp = (await request.get(app)).headers()['content-security-policy'];
  const html = deployed(nginxSite, spaBase, 'index.html');
  const hashed = assetsOf(html, app).map((u) => new URL(u).pathname);
  expect(hashed.length).toBeGreaterThanOrEqual(3);

  const headers = deployed(nginxSite, spaBase, '_headers');
  expect(headers).toContain(`${spaBase}*\n  Content-Security-Policy: ${csp}\n`);
  for (const h of ['Referrer-Policy: no-referrer', 'X-Content-Type-Options: nosniff', 'Cross-Origin-Opener-Policy: same-origin', 'Strict-Transport-Security: max-age=31536000']) {
    expect(headers).toContain(`  ${h}\n`);
  }
  for (const path of hashed) expect(headers).toContain(`${path}\n  Cache-Control: ${IMMUTABLE}\n`);
  for (const path of [spaBase, `${spaBase}index.html`, `${spaBase}config.json`]) expect(headers).toContain(`${path}\n  Cache-Control: no-cache\n`);

  const redirects = deployed(nginxSite, spaBase, '_redirects');
  for (const route of ['weather', 'reports', 'auth/callback']) expect(redirects).toContain(`${spaBase}${route}  ${spaBase}index.html  200\n`);
  expect(redirects, 'no catch-all that would answer for a missing .wasm').not.toMatch(/\*/);

  const swa = JSON.parse(deployed(nginxSite, spaBase, 'staticwebapp.config.json'));
  expect(swa.navigationFallback.rewrite).toBe(`${spaBase}index.html`);
  expect(swa.globalHeaders['Content-Security-Policy']).toBe(csp);
  expect(swa.globalHeaders['Cross-Origin-Opener-Policy']).toBe('same-origin');
  expect(swa.routes.filter((r) => r.headers['Cache-Control'] === IMMUTABLE).map((r) => r.route).sort()).toEqual([...hashed].sort());
  expect(swa.routes.at(-1)).toEqual({ route: `${spaBase}*`, headers: { 'Cache-Control': 'no-cache' } });

  // GitHub Pages: 404.html is the app itself.
  expect(deployed(nginxSite, spaBase, '404.html')).toBe(html);
});
