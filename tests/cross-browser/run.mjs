#!/usr/bin/env node
// Cross-browser end-to-end run (issue 10): the journey and staying-signed-in flows in Firefox ESR
// (WebDriver BiDi) and WebKitGTK (classic WebDriver), against the release build and the sandbox.
//
// Expects the sandbox already running, as scripts/test starts it: the identity provider, the
// weather API, and the release build on http://localhost:8080 (tests/cross-browser/with-sandbox.sh
// starts all three around a run). Reads the deployment's config.json from $NIMBUS_DIST
// (default dist) for the provider, API and client id.
//
// Usage: node tests/cross-browser/run.mjs [--engine firefox|webkit]... [--flow journey|stay-signed-in|refused-signature]...
//   XB_TIMEOUT_SCALE=2  doubles every deadline; FIREFOX_PATH, WEBKIT_DRIVER_PATH,
//   XB_WEBKIT_DRIVER_PORT (default 8090) override the defaults.
// Exits non-zero when any step fails, an engine can't start, or a page logged a Rust panic, an
// uncaught error or a CSP violation.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { ENGINES, TIMEOUT, badConsole } from './drivers.mjs';
import { FLOWS, sandbox } from './flows.mjs';

const { values } = parseArgs({
  options: {
    engine: { type: 'string', multiple: true },
    flow: { type: 'string', multiple: true },
  },
});
const engineNames = values.engine ?? Object.keys(ENGINES);
const flowNames = values.flow ?? Object.keys(FLOWS);
for (const e of engineNames) if (!ENGINES[e]) throw new Error(`unknown engine ${e}; engines: ${Object.keys(ENGINES).join(', ')}`);
for (const f of flowNames) if (!FLOWS[f]) throw new Error(`unknown flow ${f}; flows: ${Object.keys(FLOWS).join(', ')}`);

const dist = process.env.NIMBUS_DIST ?? 'dist';
const config = JSON.parse(readFileSync(join(dist, 'config.json'), 'utf8'));
const env = {
  spa: process.env.XB_SPA_ORIGIN ?? 'http://localhost:8080',
  idp: new URL(config.authority).origin,
  api: new URL(config.api.base_url).origin,
  clientId: config.client_id,
};

const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;
const log = (line) => process.stdout.write(`${line}\n`);

/** Rejects after `ms` unless `promise` settles first. */
function within(ms, what, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${secs(ms)}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function preflight() {
  const probes = [
    [`${env.spa}/config.json`, 'the release build'],
    [`${env.idp}${new URL(config.authority).pathname}/.well-known/openid-configuration`, 'the identity provider'],
    [`${env.api}/__sandbox/stats`, 'the weather API'],
  ];
  for (const [url, what] of probes) {
    const ok = await fetch(url).then((r) => r.ok, () => false);
    if (!ok) throw new Error(`${what} does not answer at ${url}: start the sandbox first (tests/cross-browser/with-sandbox.sh does)`);
  }
}

const results = [];

async function runEngine(name) {
  const Engine = ENGINES[name];
  const missing = Engine.available();
  if (missing) {
    results.push({ engine: name, flow: '(start)', ok: false, ms: 0, error: missing });
    log(`[${name}] cannot run: ${missing}`);
    return;
  }
  const engine = new Engine();
  const t0 = Date.now();
  try {
    await within(TIMEOUT.launch, `starting ${name}`, engine.start());
  } catch (err) {
    results.push({ engine: name, flow: '(start)', ok: false, ms: Date.now() - t0, error: err.message });
    log(`[${name}] could not start: ${err.message}`);
    await engine.stop();
    return;
  }
  log(`[${name}] ${engine.version} started in ${secs(Date.now() - t0)}`);
  try {
    for (const flowName of flowNames) {
      const sessions = [];
      const newSession = async () => {
        const s = await within(TIMEOUT.launch, 'opening a browser session', engine.newSession());
        sessions.push(s);
        return s;
      };
      const step = async (title, fn) => {
        const s0 = Date.now();
        try {
          await fn();
          log(`[${name}] ${flowName} › ${title} ✓ (${secs(Date.now() - s0)})`);
        } catch (err) {
          log(`[${name}] ${flowName} › ${title} ✗ (${secs(Date.now() - s0)})`);
          throw err;
        }
      };
      const f0 = Date.now();
      let error;
      try {
        await FLOWS[flowName]({ engine, newSession, env, step });
      } catch (err) {
        error = err.stack ?? String(err);
      } finally {
        for (const s of sessions) await s.close();
      }
      const lines = sessions.flatMap((s) => s.console);
      const bad = badConsole(lines);
      if (bad.length) error = `${error ? `${error}\n` : ''}the page logged a panic, an uncaught error or a CSP violation:\n  ${bad.join('\n  ')}`;
      const ms = Date.now() - f0;
      results.push({ engine: name, flow: flowName, ok: !error, ms, error, consoleLines: lines.length });
      log(`[${name}] ${flowName} ${error ? 'FAILED' : 'passed'} in ${secs(ms)} (${lines.length} console lines checked)`);
      if (error) log(error.split('\n').map((l) => `    ${l}`).join('\n'));
    }
  } finally {
    await engine.stop();
  }
}

const started = Date.now();
await preflight();
log(`cross-browser: ${engineNames.join(', ')} × ${flowNames.join(', ')} against ${env.spa} (provider ${env.idp}, API ${env.api})`);
for (const name of engineNames) await runEngine(name);
await sandbox(env).reset(); // default lifetimes, no armed misbehaviour, for whatever runs next

log('\nsummary');
for (const r of results) log(`  ${r.ok ? 'ok  ' : 'FAIL'} ${r.engine.padEnd(8)} ${r.flow.padEnd(16)} ${secs(r.ms)}${r.ok ? '' : `  ${r.error.split('\n')[0]}`}`);
log(`  total ${secs(Date.now() - started)}`);
process.exit(results.every((r) => r.ok) && results.length > 0 ? 0 : 1);
