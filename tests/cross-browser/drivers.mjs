// The two engines behind one small interface, so every flow runs unchanged in both:
//   Firefox ESR through WebDriver BiDi (puppeteer-core, browser: 'firefox');
//   WebKitGTK through classic WebDriver (selenium-webdriver + WebKitWebDriver, MiniBrowser).
// A session is one isolated profile (fresh sessionStorage, localStorage and cookies); a tab is
// one page of it. Every wait polls a condition in the page with a deadline sized for a busy
// 2-core machine; none is a bare sleep.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

import { callSource, findElement, harvestConsole } from './dom.mjs';

export const FIREFOX_PATH = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';
export const WEBKIT_DRIVER_PATH = process.env.WEBKIT_DRIVER_PATH ?? '/usr/bin/WebKitWebDriver';
export const WEBKIT_DRIVER_PORT = Number(process.env.XB_WEBKIT_DRIVER_PORT ?? 8090);

/** Deadlines (ms). XB_TIMEOUT_SCALE stretches them all for an even slower machine. */
const SCALE = Number(process.env.XB_TIMEOUT_SCALE ?? 1);
export const TIMEOUT = {
  launch: 120_000 * SCALE, // browser start, cold, with other agents busy
  step: 45_000 * SCALE, // a navigation, a sign-in round trip, an element or text appearing
  poll: 100,
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class StepTimeout extends Error {}

/** Where the console probe's fetch goes (flows.mjs probeConsole): outside connect-src. */
export const PROBE_ORIGIN = 'http://127.0.0.1:8099';
export const isProbeLine = (line) => line.includes('xb-console-probe') || line.includes(PROBE_ORIGIN);

/** Console lines that fail a flow (as tests/e2e/fixtures.mjs decides for Chromium). */
export function badConsole(lines) {
  return lines.filter((l) => !isProbeLine(l)).filter(
    (l) => l.includes('panicked at') || l.startsWith('pageerror:') || l.includes('RuntimeError')
      || l.includes('CSP violation') || l.includes('Content Security Policy') || l.includes('Content-Security-Policy'),
  );
}

export class PageFailure extends Error {}

/** Polls `probe` (async, returns a value) until `accept(value)`; throws with `what` and the last
 *  value. With `consoleLines`, stops early once the page has logged a panic or uncaught error. */
export async function until(what, probe, accept = Boolean, timeout = TIMEOUT.step, consoleLines = null) {
  const deadline = Date.now() + timeout;
  let last;
  let lastError;
  for (;;) {
    const bad = consoleLines ? badConsole(consoleLines) : [];
    if (bad.length) throw new PageFailure(`stopped waiting for ${what}: the page logged ${bad[0]}`);
    try {
      last = await probe();
      lastError = undefined;
      if (accept(last)) return last;
    } catch (err) {
      lastError = err; // e.g. the page navigated while the probe ran: try again
    }
    if (Date.now() > deadline) {
      const detail = lastError ? `last error: ${lastError.message}` : `last value: ${JSON.stringify(last)?.slice(0, 400)}`;
      throw new StepTimeout(`timed out after ${Math.round(timeout / 1000)} s waiting for ${what} (${detail})`);
    }
    await sleep(TIMEOUT.poll);
  }
}

/** Common tab behaviour on top of three primitives: call(fn, args), handle(fn, args), url(). */
class Tab {
  constructor(session) {
    this.session = session;
    this.console = session.console;
  }

  /** Runs in-page function `fn` (see dom.mjs) with JSON-able `args`; returns its JSON-able result. */
  async eval(fn, ...args) {
    return this.call(fn, args);
  }

  async waitForElement(q, what = JSON.stringify(q), timeout = TIMEOUT.step) {
    return until(`${what} to be visible`, () => this.handle(findElement, [q]), Boolean, timeout, this.console);
  }

  async waitForUrl(what, accept, timeout = TIMEOUT.step) {
    return until(`URL: ${what}`, async () => new URL(await this.url()), accept, timeout, this.console);
  }

  /** Finds `q` and runs `action(element)`; finds it again if the page re-rendered it in between
   *  (a detached or stale element), up to three times. */
  async act(q, what, action) {
    for (let attempt = 1; ; attempt += 1) {
      const el = await this.waitForElement(q, what);
      try {
        return await action(el);
      } catch (err) {
        if (attempt >= 3 || !/detached|stale|not attached|no such element|not connected/i.test(`${err.name} ${err.message}`)) throw err;
      } finally {
        el.dispose?.().catch(() => {});
      }
    }
  }

  /** Waits until in-page `fn(...args)` returns something `accept` takes. */
  async waitFor(what, fn, args = [], accept = Boolean, timeout = TIMEOUT.step) {
    return until(what, () => this.call(fn, args), accept, timeout, this.console);
  }
}

// ---- Firefox ESR (WebDriver BiDi via puppeteer-core) ---------------------------------------------

class FirefoxTab extends Tab {
  constructor(session, page) {
    super(session);
    this.page = page;
    /** Every request this tab made: { method, url, headers } (BiDi network events). */
    this.requests = [];
    page.on('request', (r) => this.requests.push({ method: r.method(), url: r.url(), headers: r.headers() }));
    page.on('console', (m) => this.console.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => this.console.push(`pageerror: ${e.message}`));
    page.setDefaultTimeout(TIMEOUT.step);
    page.setDefaultNavigationTimeout(TIMEOUT.step);
  }

  async init() {
    // Every CSP violation becomes a console error, from the document's first script on.
    await this.page.evaluateOnNewDocument(() => {
      document.addEventListener('securitypolicyviolation', (e) =>
        console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI}`));
    });
    return this;
  }

  call(fn, args) {
    return this.page.evaluate(callSource(fn, args));
  }

  async handle(fn, args) {
    const h = await this.page.evaluateHandle(callSource(fn, args));
    const el = h.asElement();
    if (!el) await h.dispose();
    return el;
  }

  async url() {
    return this.page.url();
  }

  async goto(url) {
    await this.toFront();
    await this.page.goto(url, { waitUntil: 'load' });
  }

  async reload() {
    await this.toFront();
    await this.page.reload({ waitUntil: 'load' });
  }

  /** A person clicks and types in the tab in front. (Input into a background tab also works in
   *  Firefox, but each click then waits ~8 s for a frame the hidden tab doesn't render.) */
  async toFront() {
    if (this.session.front !== this) {
      await this.page.bringToFront();
      this.session.front = this;
    }
  }

  async click(q, what) {
    await this.toFront();
    await this.act(q, what, (el) => el.click());
  }

  async fill(q, value, what) {
    await this.toFront();
    await this.act(q, what, async (el) => {
      await el.focus();
      await el.evaluate((e) => e.select()); // typing replaces what the field held
      await el.type(value);
    });
  }

  async select(q, value, what) {
    await this.toFront();
    await this.act(q, what, (el) => el.select(value));
  }

  async close() {
    await this.page.close().catch(() => {});
  }
}

class FirefoxSession {
  constructor(engine, context) {
    this.engine = engine;
    this.context = context;
    this.console = [];
  }

  async newTab() {
    const tab = await new FirefoxTab(this, await this.context.newPage()).init();
    this.front = tab; // a new tab opens in front
    return tab;
  }

  async close() {
    await this.context.close().catch(() => {});
  }
}

export class FirefoxEngine {
  name = 'firefox';

  hasNetworkLog = true;

  static available() {
    return existsSync(FIREFOX_PATH) ? null : `${FIREFOX_PATH} not found (apt-get install firefox-esr)`;
  }

  async start() {
    const { default: puppeteer } = await import('puppeteer-core');
    this.browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: FIREFOX_PATH,
      headless: true,
      timeout: TIMEOUT.launch,
      protocolTimeout: TIMEOUT.launch,
      extraPrefsFirefox: {
        // Quiet: no background network chatter a loopback-only machine can't answer.
        'app.update.enabled': false,
        'browser.safebrowsing.malware.enabled': false,
        'browser.safebrowsing.phishing.enabled': false,
        'network.captive-portal-service.enabled': false,
      },
    });
    this.version = await this.browser.version();
    return this;
  }

  async newSession() {
    return new FirefoxSession(this, await this.browser.createBrowserContext());
  }

  async stop() {
    await this.browser?.close().catch(() => {});
  }
}

// ---- WebKitGTK (classic WebDriver via selenium-webdriver + WebKitWebDriver) ---------------------

class WebKitTab extends Tab {
  constructor(session, handle) {
    super(session);
    this.windowHandle = handle;
    this.driver = session.driver;
  }

  /** One WebDriver session drives all of its tabs: switch to this one first. */
  async focus() {
    if (this.session.current !== this.windowHandle) {
      await this.driver.switchTo().window(this.windowHandle);
      this.session.current = this.windowHandle;
    }
  }

  /** No preload scripts in classic WebDriver: collect what the page logged since the last look. */
  async collect() {
    try {
      const lines = await this.driver.executeScript(`return ${callSource(harvestConsole, [])}`);
      if (Array.isArray(lines)) this.console.push(...lines);
    } catch {
      // between documents: nothing to collect
    }
  }

  async call(fn, args) {
    await this.focus();
    await this.collect();
    return this.driver.executeScript(`return ${callSource(fn, args)}`);
  }

  async handle(fn, args) {
    return this.call(fn, args);
  }

  async url() {
    await this.focus();
    return this.driver.getCurrentUrl();
  }

  async goto(url) {
    await this.focus();
    await this.collect();
    await this.driver.get(url);
    await this.collect();
  }

  async reload() {
    await this.focus();
    await this.collect();
    await this.driver.navigate().refresh();
    await this.collect();
  }

  async click(q, what) {
    await this.act(q, what, async (el) => {
      await this.collect();
      await el.click();
    });
  }

  async fill(q, value, what) {
    await this.act(q, what, async (el) => {
      await el.clear();
      await el.sendKeys(value);
    });
  }

  async select(q, value, what) {
    const { By } = await import('selenium-webdriver');
    await this.act(q, what, (el) => el.findElement(By.css(`option[value="${value}"]`)).click());
  }

  async close() {
    await this.focus();
    await this.collect();
    await this.driver.close();
    this.session.current = null;
    const [next] = await this.driver.getAllWindowHandles();
    if (next) {
      await this.driver.switchTo().window(next);
      this.session.current = next;
    }
  }
}

class WebKitSession {
  constructor(engine, driver) {
    this.engine = engine;
    this.driver = driver;
    this.console = [];
    this.current = null;
    this.tabs = [];
  }

  async newTab() {
    if (this.tabs.length > 0) await this.driver.switchTo().newWindow('tab');
    const handle = await this.driver.getWindowHandle();
    this.current = handle;
    const tab = new WebKitTab(this, handle);
    this.tabs.push(tab);
    return tab;
  }

  async close() {
    // What the open tabs logged since the last look, before they go.
    const open = new Set(await this.driver.getAllWindowHandles().catch(() => []));
    for (const tab of this.tabs) if (open.has(tab.windowHandle)) await tab.focus().then(() => tab.collect()).catch(() => {});
    await this.driver.quit().catch(() => {});
  }
}

export class WebKitEngine {
  name = 'webkit';

  hasNetworkLog = false; // classic WebDriver has no network events

  static available() {
    return existsSync(WEBKIT_DRIVER_PATH) ? null : `${WEBKIT_DRIVER_PATH} not found (apt-get install webkit2gtk-driver)`;
  }

  async start() {
    // WebKitGTK's MiniBrowser has no headless mode: it needs an X display. Without one the
    // driver's new-session request never answers (MiniBrowser exits with "cannot open display").
    this.display = process.env.DISPLAY;
    if (!this.display) this.display = await this.startXvfb();
    this.driverProcess = spawn(WEBKIT_DRIVER_PATH, [`--port=${WEBKIT_DRIVER_PORT}`], {
      env: { ...process.env, DISPLAY: this.display },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.driverLog = [];
    const keep = (d) => this.driverLog.push(...d.toString().split('\n').filter(Boolean));
    this.driverProcess.stdout.on('data', keep);
    this.driverProcess.stderr.on('data', keep);
    const exited = new Promise((r) => this.driverProcess.once('exit', (code) => r(code)));
    await until(
      `WebKitWebDriver to answer on port ${WEBKIT_DRIVER_PORT}`,
      async () => {
        if (this.driverProcess.exitCode !== null) throw new Error(`WebKitWebDriver exited: ${this.driverLog.join(' | ')}`);
        const r = await fetch(`http://127.0.0.1:${WEBKIT_DRIVER_PORT}/status`);
        return (await r.json()).value?.ready;
      },
      Boolean,
      TIMEOUT.launch,
    ).catch(async (err) => {
      this.driverProcess.kill();
      await exited;
      throw err;
    });
    const session = await this.newSession();
    this.version = `MiniBrowser/WebKitGTK ${(await session.driver.getCapabilities()).get('browserVersion')}`;
    await session.close();
    return this;
  }

  async startXvfb() {
    if (!existsSync('/usr/bin/Xvfb')) {
      throw new Error('no DISPLAY and no /usr/bin/Xvfb: WebKitGTK (MiniBrowser) needs an X display (apt-get install xvfb)');
    }
    this.xvfb = spawn('/usr/bin/Xvfb', ['-displayfd', '1', '-nolisten', 'tcp', '-screen', '0', '1280x900x24'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    this.xvfb.stderr.on('data', (d) => { err += d; });
    const number = await new Promise((resolve, reject) => {
      let out = '';
      this.xvfb.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve(out.trim());
      });
      this.xvfb.once('exit', (code) => reject(new Error(`Xvfb exited (${code}): ${err.trim()}`)));
      setTimeout(() => reject(new Error(`Xvfb gave no display number within 30 s: ${err.trim()}`)), 30_000 * SCALE);
    });
    return `:${number}`;
  }

  async newSession() {
    const { Builder, Capabilities } = await import('selenium-webdriver');
    const caps = new Capabilities();
    caps.set('browserName', 'MiniBrowser');
    caps.set('webkitgtk:browserOptions', { args: ['--automation'] });
    caps.set('timeouts', { script: TIMEOUT.step, pageLoad: TIMEOUT.step, implicit: 0 });
    const driver = await new Builder()
      .usingServer(`http://127.0.0.1:${WEBKIT_DRIVER_PORT}`)
      .withCapabilities(caps)
      .build();
    await driver.manage().window().setRect({ width: 1280, height: 900 }).catch(() => {});
    return new WebKitSession(this, driver);
  }

  async stop() {
    for (const p of [this.driverProcess, this.xvfb]) {
      if (p && p.exitCode === null) {
        const gone = new Promise((r) => p.once('exit', r));
        p.kill();
        await Promise.race([gone, sleep(5000)]);
      }
    }
  }
}

export const ENGINES = { firefox: FirefoxEngine, webkit: WebKitEngine };
