// Side-by-side benchmark (numbers, not assertions, except that every sign-in must make exactly one
// token request): four clients of the same https sandbox (identity provider on
// https://localhost:5443, weather API on http://localhost:5558), in ONE Chromium process, N
// interleaved rounds (A, B, C, D, A, B, C, D, ...), each round of each client in a fresh browser
// context (cold cache, no session), with the HTTP cache disabled (CDP Network.setCacheDisabled)
// on top of the app servers' `Cache-Control: no-store`:
//
//   Nimbus            dist/ on http://localhost:8081 (tests/e2e/config.8081.json)
//   msal-browser      target/bench-pages/msal-browser on http://localhost:8082
//   oidc-client-ts    target/bench-pages/oidc-client-ts on http://localhost:8083
//   React+msal-react  target/bench-pages/msal-react on http://localhost:8084
//
// One round of one client: cold load of `/` -> click "Sign in" -> the provider's form (alice) ->
// back on the redirect URI -> the user's name on screen -> the "Weather" link -> City "Portland",
// State "OR" -> "Get weather" -> the temperature in the "Current weather" region.
// Every time is taken in the browser: an init script (page.addInitScript) installs a
// MutationObserver that records performance.now() when each marker first appears in the DOM, and
// a capturing click listener records the click's event.timeStamp. Playwright only drives and waits
// (by awaiting a promise the init script resolves, not by polling):
//   cold load -> Sign in:     0 (navigation start of `/`) -> a visible <button> "Sign in"
//   callback -> signed in:    fetchStart of the redirect-URI document (its navigation entry: the
//                             moment the browser starts fetching it, after the provider's
//                             redirects) -> the user's name ("Alice Example") visible
//   Get weather -> temp:      the click's event.timeStamp -> the region "Current weather" showing
//                             a temperature ("12.3 °C")
//   main-thread CPU:          CDP Performance.getMetrics with timeDomain "threadTicks" (thread CPU
//                             time), TaskDuration (and ScriptDuration) of the page's renderer main
//                             thread: the difference between before the navigation to `/` and the
//                             moment "Sign in" is visible and the load event has fired. Work on
//                             other threads (streaming/tier-up wasm and off-thread JS compilation,
//                             the network service, the GPU/compositor) is not in it; so, over the
//                             same window:
//   all-process CPU:          CDP SystemInfo.getProcessInfo: the CPU time (all threads, 10 ms
//                             resolution) of every Chromium process (browser, renderers, GPU,
//                             network service), after minus before (processes started in between
//                             count from 0). It includes the browser's work for the driver's own
//                             CDP traffic, the same for every client.
//   first load bytes:         every html/js/wasm/css response of the app's origin during the cold
//                             load, raw (body bytes), gzip -9 and brotli -q 11 of those bodies (the
//                             commands scripts/size runs, on the bodies as fetched), and what went
//                             over the wire (Resource Timing transferSize: uncompressed + headers)
//   requests:                 every request the page made in the round, by kind
// One unmeasured warm-up round per client runs first (it also checks the accessible names).
//
//   node tests/bench/side-by-side.mjs [ROUNDS]     (default 20; scripts/bench starts the servers)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';

import { chromium } from '@playwright/test';

const ROUNDS = Number(process.argv[2] ?? 20);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1 || ROUNDS > 200) {
  console.error('usage: node tests/bench/side-by-side.mjs [ROUNDS]   (1 to 200, default 20)');
  process.exit(2);
}
const STEP_MS = 20_000; // any one wait
const ROUND_MS = 60_000; // one round of one client, everything included
const RUN_MS = 120_000 + (ROUNDS + 1) * 4 * 30_000; // the whole run; it stops by itself after that

const IDP = 'https://localhost:5443';
const API = 'http://localhost:5558';
const USER = { username: 'alice', password: 'alice-password', name: 'Alice Example' };
const CLIENTS = [
  { name: 'Nimbus', origin: 'http://localhost:8081', redirect: '/auth/callback' },
  { name: 'msal-browser', origin: 'http://localhost:8082', redirect: '/' },
  { name: 'oidc-client-ts', origin: 'http://localhost:8083', redirect: '/auth/callback' },
  { name: 'React+msal-react', origin: 'http://localhost:8084', redirect: '/' },
];
const root = new URL('../../', import.meta.url);

const deadline = setTimeout(() => {
  console.error(`bench: stopped: the run took longer than its limit of ${RUN_MS / 1000} s`);
  shutdown(2);
}, RUN_MS);
let browser;
async function shutdown(code) {
  clearTimeout(deadline);
  await Promise.race([browser?.close(), new Promise((r) => setTimeout(r, 5000))]).catch(() => {});
  process.exit(code);
}
process.on('SIGINT', () => shutdown(130));
process.on('SIGTERM', () => shutdown(143));

// ---------------------------------------------------------------------------------------------
// In the page (every document of the round, the provider's too): the markers.

function probe({ name }) {
  const TEMP = /-?\d+(\.\d+)?\s°C/;
  const marks = {};
  const waiters = {};
  const mark = (k, t = performance.now()) => {
    if (k in marks) return;
    marks[k] = t;
    for (const f of waiters[k] ?? []) f(t);
    delete waiters[k];
  };
  Object.defineProperty(window, '__bench', {
    value: { marks, when: (k) => (k in marks ? marks[k] : new Promise((r) => (waiters[k] ??= []).push(r))) },
  });
  const visible = (el) => !!el && el.isConnected && el.checkVisibility();
  const check = () => {
    if (!('signIn' in marks)) {
      for (const b of document.getElementsByTagName('button')) {
        if (b.textContent.trim() === 'Sign in' && visible(b)) { mark('signIn'); break; }
      }
    }
    const body = document.body;
    if (!body) return;
    if (!('signedIn' in marks) && body.textContent.includes(name)) {
      const w = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
      for (let n = w.nextNode(); n; n = w.nextNode()) {
        if (n.data.includes(name) && visible(n.parentElement)) { mark('signedIn'); break; }
      }
    }
    if (!('city' in marks)) {
      for (const l of document.getElementsByTagName('label')) {
        if (l.textContent.trim() === 'City' && visible(l.control)) { mark('city'); break; }
      }
    }
    if (!('weather' in marks)) {
      const r = document.querySelector('[aria-label="Current weather"]');
      if (r && TEMP.test(r.textContent) && visible(r)) mark('weather');
    }
  };
  new MutationObserver(check).observe(document, {
    childList: true, subtree: true, characterData: true, attributes: true, attributeFilter: ['hidden', 'style', 'class'],
  });
  document.addEventListener('click', (e) => {
    const b = e.target.closest?.('button');
    if (b && b.textContent.trim() === 'Get weather') marks.click = e.timeStamp;
  }, true);
}

/** The time (performance.now() of the current document) at which marker `k` appeared. */
async function markOf(page, k) {
  const until = Date.now() + STEP_MS;
  for (;;) {
    try {
      return await Promise.race([
        page.evaluate((key) => window.__bench.when(key), k),
        new Promise((_, reject) => setTimeout(() => reject(new Error(`no "${k}" within ${STEP_MS} ms`)), Math.max(0, until - Date.now()))),
      ]);
    } catch (e) {
      // The document was replaced while waiting: wait in the new one.
      if (Date.now() < until && /context was destroyed|navigat|__bench/i.test(e.message)) {
        await page.waitForLoadState('domcontentloaded').catch(() => {});
        continue;
      }
      throw e;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Requests by kind.

function kindOf(request, origin) {
  const u = new URL(request.url());
  if (u.origin === IDP) {
    if (u.pathname.endsWith('/.well-known/openid-configuration')) return 'discovery';
    if (u.pathname.endsWith('/discovery/v2.0/keys')) return 'jwks';
    // The request the client makes; the provider's own resume after its sign-in form
    // (`/authorize/{uid}`) is one of its pages.
    if (u.pathname.endsWith('/oauth2/v2.0/authorize')) return 'authorize';
    if (u.pathname.endsWith('/oauth2/v2.0/token')) {
      return `token ${new URLSearchParams(request.postData() ?? '').get('grant_type')}`;
    }
    if (u.pathname.endsWith('/oauth2/v2.0/logout')) return 'logout';
    return 'provider pages';
  }
  if (u.origin === API) return 'api';
  if (u.origin === origin) return request.resourceType() === 'document' ? 'app documents' : 'app files';
  return `other ${u.origin}`;
}

const FILE_KIND = { '.html': 'html', '.js': 'js', '.mjs': 'js', '.wasm': 'wasm', '.css': 'css' };
function fileKind(url, type) {
  if (type === 'document') return 'html';
  const ext = new URL(url).pathname.match(/\.[a-z]+$/)?.[0];
  return FILE_KIND[ext] ?? 'other';
}

// gzip -9 and brotli -q 11, as scripts/size runs them (on a file of the same name).
const compressedCache = new Map();
function compressed(url, body) {
  const key = createHash('sha256').update(body).digest('hex');
  if (!compressedCache.has(key)) {
    const dir = mkdtempSync(join(tmpdir(), 'nimbus-bench-'));
    try {
      const file = join(dir, new URL(url).pathname.split('/').pop() || 'index.html');
      writeFileSync(file, body);
      const size = (cmd, args) => {
        const r = spawnSync(cmd, [...args, file], { maxBuffer: 1 << 28 });
        if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
        return r.stdout.length;
      };
      compressedCache.set(key, { gzip: size('gzip', ['-9', '-c']), brotli: size('brotli', ['-c', '-q', '11']) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return compressedCache.get(key);
}

// ---------------------------------------------------------------------------------------------
// One round of one client.

async function oneRound(client, { warmUp }) {
  // Let the previous round's processes wind down before this one is measured.
  await new Promise((r) => setTimeout(r, 300));
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const result = { client: client.name, errors: [] };
  let timer;
  const overtime = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`round over ${ROUND_MS / 1000} s`)), ROUND_MS);
  });
  try {
    await Promise.race([overtime, steps(context, client, result, warmUp)]);
  } catch (e) {
    result.failed = e.message.split('\n')[0];
  } finally {
    clearTimeout(timer);
    await context.close().catch(() => {});
  }
  return result;
}

async function steps(context, client, result, warmUp) {
  context.setDefaultTimeout(STEP_MS);
  context.setDefaultNavigationTimeout(STEP_MS);
  await context.addInitScript(probe, { name: USER.name });
  const page = await context.newPage();
  page.on('pageerror', (e) => result.errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') result.errors.push(m.text()); });
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await cdp.send('Performance.enable', { timeDomain: 'threadTicks' });
  const metrics = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));

  let phase = 'load';
  const requests = [];
  page.on('request', (r) => requests.push({ phase, kind: kindOf(r, client.origin) }));
  // The app's responses of the cold load; their bodies are read once it is measured.
  const responses = [];
  page.on('response', (res) => {
    if (phase === 'load' && new URL(res.url()).origin === client.origin) responses.push(res);
  });

  // Cold load of `/`.
  const before = await metrics();
  const procBefore = await processCpu();
  await page.goto(`${client.origin}/`, { waitUntil: 'load' });
  result.coldSignIn = await markOf(page, 'signIn');
  const after = await metrics();
  const procAfter = await processCpu();
  result.cpuAll = [...procAfter].reduce((sum, [pid, t]) => sum + t - (procBefore.get(pid) ?? 0), 0) * 1000;
  result.cpuTask = (after.TaskDuration - before.TaskDuration) * 1000;
  result.cpuScript = (after.ScriptDuration - before.ScriptDuration) * 1000;
  result.cpuBefore = before.TaskDuration * 1000;
  const wire = await page.evaluate((origin) => [
    ...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource'),
  ].filter((e) => new URL(e.name).origin === origin).map((e) => ({ url: e.name, transfer: e.transferSize })), client.origin);
  const files = await Promise.all(responses.map(async (res) => ({
    url: res.url(), kind: fileKind(res.url(), res.request().resourceType()), body: await res.body(),
    cacheControl: res.headers()['cache-control'],
  })));
  result.files = files.map((f) => ({
    url: new URL(f.url).pathname, kind: f.kind, raw: f.body.length, cacheControl: f.cacheControl,
    transfer: wire.find((w) => w.url === f.url)?.transfer ?? 0,
    ...(f.kind === 'other' ? {} : compressed(f.url, f.body)),
  }));

  if (warmUp) {
    await page.getByRole('heading', { level: 1 }).waitFor();
  }

  // Sign in at the provider, back on the redirect URI.
  phase = 'signin';
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL((u) => u.origin === IDP);
  await page.getByLabel('Username').fill(USER.username);
  await page.getByLabel('Password').fill(USER.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL((u) => u.origin === client.origin, { waitUntil: 'commit' });
  const signedIn = await markOf(page, 'signedIn');
  const nav = await page.evaluate(() => performance.getEntriesByType('navigation')[0].toJSON());
  const landed = new URL(nav.name);
  if (landed.origin !== client.origin || landed.pathname !== client.redirect) {
    throw new Error(`signed in on ${landed.origin}${landed.pathname}, not on the redirect URI ${client.redirect}`);
  }
  result.callback = signedIn - nav.fetchStart;
  if (process.env.BENCH_DEBUG) {
    const t = (k) => Math.round(nav[k]);
    console.error(`  ${client.name} callback document ${landed.pathname}: fetchStart ${t('fetchStart')}, requestStart ${t('requestStart')}, `
      + `responseEnd ${t('responseEnd')}, domContentLoaded ${t('domContentLoadedEventEnd')}, signed in ${Math.round(signedIn)} ms after navigation start; redirectCount ${nav.redirectCount}`);
  }

  // The weather page, one lookup.
  phase = 'lookup';
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Weather', exact: true }).click();
  await markOf(page, 'city');
  if (warmUp) {
    for (const label of ['City', 'State', 'Country', 'Units']) await page.getByLabel(label, { exact: true }).waitFor();
  }
  await page.getByLabel('City', { exact: true }).fill('Portland');
  await page.getByLabel('State', { exact: true }).fill('OR');
  await page.getByRole('button', { name: 'Get weather', exact: true }).click();
  const shown = await markOf(page, 'weather');
  const clicked = await page.evaluate(() => window.__bench.marks.click);
  result.weather = shown - clicked;
  result.shown = (await page.getByRole('region', { name: 'Current weather' }).textContent()).match(/-?\d+(\.\d+)?\s°C/)[0];

  result.requests = {};
  for (const r of requests) result.requests[r.kind] = (result.requests[r.kind] ?? 0) + 1;
  const tokens = requests.filter((r) => r.kind.startsWith('token '));
  result.tokenOk = tokens.length === 1 && tokens[0].kind === 'token authorization_code';
}

// ---------------------------------------------------------------------------------------------
// Statistics and the table.

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const kb = (n) => (n / 1024).toFixed(1);
const ms = (n) => n.toFixed(0);

function timeCell(xs, nimbusMedian) {
  if (!xs.length) return 'n/a';
  const m = median(xs);
  const range = `${ms(Math.min(...xs))}–${ms(Math.max(...xs))}`;
  const ratio = nimbusMedian ? ` · **${(m / nimbusMedian).toFixed(2)}×**` : '';
  return `${ms(m)} (${range})${ratio}`;
}

function machine(browserVersion) {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = cpuinfo.match(/^model name\s*:\s*(.+)$/m)?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown';
  const nproc = spawnSync('nproc').stdout?.toString().trim() ?? String(cpus().length);
  const kernel = spawnSync('uname', ['-sr']).stdout?.toString().trim();
  const version = (pkg) => {
    try {
      return JSON.parse(readFileSync(new URL(`node_modules/${pkg}/package.json`, root), 'utf8')).version;
    } catch {
      return '?';
    }
  };
  const git = (...args) => spawnSync('git', args, { cwd: root }).stdout?.toString().trim();
  const dirty = git('status', '--porcelain', '--', 'src', 'Cargo.toml', 'Cargo.lock', 'index.html', 'style', 'public');
  const lock = readFileSync(new URL('Cargo.lock', root), 'utf8');
  const crate = (name) => lock.match(new RegExp(`name = "${name}"\\nversion = "([^"]+)"`))?.[1] ?? '?';
  return [
    `date: ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}`,
    `machine: ${nproc} CPUs (nproc), ${model}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${kernel}`,
    `browser: Chromium ${browserVersion} (headless, /usr/bin/chromium), Node ${process.versions.node}`,
    `clients: Nimbus at ${git('rev-parse', '--short', 'HEAD') ?? '?'}${dirty ? ' + uncommitted changes to the app' : ''} `
      + `(Leptos ${crate('leptos')}, wasm-bindgen ${crate('wasm-bindgen')}), @azure/msal-browser ${version('@azure/msal-browser')}, `
      + `oidc-client-ts ${version('oidc-client-ts')}, React ${version('react')} + react-router ${version('react-router')} + `
      + `@azure/msal-react ${version('@azure/msal-react')}`,
  ];
}

const SHORT = {
  discovery: 'disc', jwks: 'jwks', authorize: 'authz', 'token authorization_code': 'token(code)',
  'token refresh_token': 'token(refresh)', api: 'api', 'app documents': 'app docs', 'app files': 'app files',
  'provider pages': 'provider pages',
};
const KIND_ORDER = Object.keys(SHORT);
function requestCell(rounds) {
  const kinds = [...new Set(rounds.flatMap((r) => Object.keys(r.requests)))]
    .sort((a, b) => ((KIND_ORDER.indexOf(a) + 1 || 99) - (KIND_ORDER.indexOf(b) + 1 || 99)));
  return kinds.filter((k) => k !== 'provider pages').map((k) => {
    const counts = rounds.map((r) => r.requests[k] ?? 0);
    const lo = Math.min(...counts);
    const hi = Math.max(...counts);
    return `${SHORT[k] ?? k} ${lo === hi ? lo : `${lo}–${hi}`}`;
  }).join(', ');
}

// ---------------------------------------------------------------------------------------------

const spki = readFileSync(new URL('tests/sandbox/.tls/spki.txt', root), 'utf8').trim();
browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--ignore-certificate-errors-spki-list=${spki}`,
  ],
});
const started = Date.now();
const browserCdp = await browser.newBrowserCDPSession();
/** pid -> CPU seconds (all threads) of every Chromium process. */
async function processCpu() {
  const { processInfo } = await browserCdp.send('SystemInfo.getProcessInfo');
  return new Map(processInfo.map((p) => [p.id, p.cpuTime]));
}

console.error(`bench: warm-up round (unmeasured), then ${ROUNDS} rounds of ${CLIENTS.map((c) => c.name).join(', ')}`);
for (const client of CLIENTS) {
  const r = await oneRound(client, { warmUp: true });
  if (r.failed || !r.tokenOk) {
    console.error(`bench: ${client.name} does not work (warm-up): ${r.failed ?? `token requests ${JSON.stringify(r.requests)}`}`);
    if (r.errors.length) console.error(`  page errors: ${r.errors.join(' | ')}`);
    await shutdown(1);
  }
}

const results = Object.fromEntries(CLIENTS.map((c) => [c.name, []]));
for (let i = 1; i <= ROUNDS; i += 1) {
  const line = [];
  for (const client of CLIENTS) {
    const r = await oneRound(client, { warmUp: false });
    results[client.name].push(r);
    line.push(r.failed ? `${client.name} FAILED (${r.failed}${r.errors.length ? `; page said: ${r.errors.slice(0, 3).join(' | ')}` : ''})`
      : `${client.name} load ${ms(r.coldSignIn)} callback ${ms(r.callback)} weather ${ms(r.weather)} ms, cpu main ${ms(r.cpuTask)} all ${ms(r.cpuAll)} ms${r.tokenOk ? '' : ' TOKEN REQUESTS != 1'}`);
  }
  console.error(`round ${i}/${ROUNDS}: ${line.join('; ')}`);
}
const browserVersion = browser.version();
clearTimeout(deadline);
await browser.close();

// ---------------------------------------------------------------------------------------------
// Report.

const ok = (name) => results[name].filter((r) => !r.failed);
const nimbus = ok('Nimbus');
const nimbusMedian = (key) => (nimbus.length ? median(nimbus.map((r) => r[key])) : 0);
const firstLoad = (r) => {
  const f = r.files.filter((x) => x.kind !== 'other');
  const sum = (k) => f.reduce((a, x) => a + x[k], 0);
  return { raw: sum('raw'), gzip: sum('gzip'), brotli: sum('brotli'), transfer: sum('transfer') };
};
const nimbusBr = nimbus.length ? median(nimbus.map((r) => firstLoad(r).brotli)) : 0;

const out = [];
out.push(...machine(browserVersion));
out.push(`rounds: ${ROUNDS} (interleaved ${CLIENTS.map((c) => c.name).join(', ')}; one warm-up round each before, not counted), `
  + `${((Date.now() - started) / 1000).toFixed(0)} s`);
out.push('');
out.push('Times: median (min–max) in ms, then **peer/Nimbus** of the medians (≥ 1.00: Nimbus is faster/smaller).');
out.push('');
out.push('| client | first load KB: raw / gzip / brotli (wire) | cold load → "Sign in" | callback → signed in | "Get weather" → temperature | main-thread CPU, cold load | CPU of all Chromium processes, cold load | requests in the round (load, sign-in, lookup) | 1 token request |');
out.push('|---|---|---|---|---|---|---|---|---|');
for (const client of CLIENTS) {
  const rs = ok(client.name);
  const failed = results[client.name].length - rs.length;
  if (!rs.length) {
    out.push(`| ${client.name} | every round failed | | | | | | | |`);
    continue;
  }
  const fl = rs.map(firstLoad);
  const br = median(fl.map((x) => x.brotli));
  const bytes = `${kb(median(fl.map((x) => x.raw)))} / ${kb(median(fl.map((x) => x.gzip)))} / ${kb(br)} (${kb(median(fl.map((x) => x.transfer)))})`
    + (nimbusBr ? ` · **${(br / nimbusBr).toFixed(2)}×**` : '');
  const cpu = `${timeCell(rs.map((r) => r.cpuTask), nimbusMedian('cpuTask'))}; script ${ms(median(rs.map((r) => r.cpuScript)))}`;
  const cpuAll = timeCell(rs.map((r) => r.cpuAll), nimbusMedian('cpuAll'));
  const tokens = rs.every((r) => r.tokenOk) ? `yes, ${rs.length}/${rs.length}` : `**NO**: ${rs.filter((r) => r.tokenOk).length}/${rs.length}`;
  out.push(`| ${client.name}${failed ? ` (${failed} failed)` : ''} | ${bytes} | ${timeCell(rs.map((r) => r.coldSignIn), nimbusMedian('coldSignIn'))} `
    + `| ${timeCell(rs.map((r) => r.callback), nimbusMedian('callback'))} | ${timeCell(rs.map((r) => r.weather), nimbusMedian('weather'))} `
    + `| ${cpu} | ${cpuAll} | ${requestCell(rs)} | ${tokens} |`);
}
out.push('');
out.push('First-load files (raw / gzip -9 / brotli -q 11 bytes; wire = transferSize, headers included, no compression on the wire):');
for (const client of CLIENTS) {
  const r = ok(client.name)[0];
  if (!r) continue;
  out.push(`  ${client.name}: ${r.files.map((f) => `${f.url} [${f.kind}] ${f.raw}${f.kind === 'other' ? ' (not counted)' : ` / ${f.gzip} / ${f.brotli}`}, wire ${f.transfer}`).join('; ')}`);
  const caching = [...new Set(r.files.map((f) => f.cacheControl))];
  if (caching.length !== 1 || caching[0] !== 'no-store') out.push(`    Cache-Control seen: ${caching.join(', ')}`);
}
out.push('Requests: disc = discovery document, jwks = signing keys, authz = authorization requests (the provider\'s sign-in form '
  + 'and its resume are not listed), token(code) = token requests with grant_type=authorization_code, api = weather API calls, '
  + 'app docs / app files = documents / other files from the app\'s origin (each document loads its files again: no-store).');
const cpuBefore = Object.values(results).flat().filter((r) => !r.failed).map((r) => r.cpuBefore);
out.push('CPU, from before the navigation to `/` until "Sign in" is visible and the load event has fired: main thread = thread CPU time of '
  + 'the page\'s renderer main thread (Performance.getMetrics TaskDuration, timeDomain threadTicks; "script" = its ScriptDuration; '
  + `it read at most ${ms(Math.max(...cpuBefore))} ms before the navigation); all processes = CPU time of every Chromium process, `
  + 'all threads (SystemInfo.getProcessInfo, 10 ms resolution), off-main-thread compilation included.');
const errors = Object.values(results).flat().flatMap((r) => r.errors.map((e) => `${r.client}: ${e}`));
if (errors.length) out.push(`page errors: ${[...new Set(errors)].join(' | ')}`);
const temps = Object.fromEntries(CLIENTS.map((c) => [c.name, [...new Set(ok(c.name).map((r) => r.shown))].join(', ')]));
out.push(`temperature shown for Portland, OR: ${Object.entries(temps).map(([k, v]) => `${k} ${v}`).join('; ')}`);
console.log(out.join('\n'));

const allOk = CLIENTS.every((c) => results[c.name].every((r) => !r.failed && r.tokenOk));
if (!allOk) console.error('bench: some rounds failed or made other than exactly one token request (see the table)');
process.exit(allOk ? 0 : 1);
