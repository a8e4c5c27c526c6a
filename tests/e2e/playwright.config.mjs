// End-to-end specs in Debian's Chromium against the release build and the local sandbox.
// scripts/test starts, before running these:
//   project "http":  the identity provider (http://localhost:5556), the weather API (5557) and
//                    dist/ on http://localhost:8080 -- every spec except msal.spec.mjs;
//   project "https": the identity provider over TLS (https://localhost:5443), its weather API
//                    (5558), dist/ deployed again on http://localhost:8081 with its own
//                    config.json and app registration, and the MSAL.js sample on
//                    http://localhost:8082 -- the journey and msal specs;
//   projects "nginx" and "nginx-subpath": the same dist/ behind Debian's nginx with the
//                    nginx.conf it ships, at http://localhost:8085/ and at
//                    http://localhost:8086/nimbus/ (the http sandbox, client "Nimbus behind
//                    nginx") -- the journey and nginx specs.
// Chromium trusts the sandbox's self-signed certificate, and only it, through
// --ignore-certificate-errors-spki-list (its SPKI hash, which scripts/setup writes to
// tests/sandbox/.tls/spki.txt); certificate errors stay errors for everything else.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { defineConfig } from '@playwright/test';

const NGINX_CLIENT_ID = '5e8a1c3f-2b7d-4f90-a6c4-8d1e3b5f7a29';

const spkiFile = fileURLToPath(new URL('../sandbox/.tls/spki.txt', import.meta.url));
let spki;
try {
  spki = readFileSync(spkiFile, 'utf8').trim();
} catch (err) {
  throw new Error(`${spkiFile} is missing (${err.code}): run scripts/setup, which makes the sandbox's TLS certificate.`);
}
if (!/^[A-Za-z0-9+/]{43}=$/.test(spki)) {
  throw new Error(`${spkiFile} does not hold a base64 SHA-256 SPKI hash: delete tests/sandbox/.tls/ and run scripts/setup.`);
}

export default defineConfig({
  testDir: './specs',
  outputDir: '../../target/playwright-results',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: true,
  // Budgets for a busy two-core machine: a test signs in and does a handful of actions (a few
  // seconds when idle; each wasm page load can take seconds under load), and each expectation
  // waits for one app action (a redirect chain, a token request, an API call). Clock time a
  // test waits out on purpose (token lifetimes) is added to its own budget (fixtures waitOut).
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  use: {
    headless: true,
    trace: 'off',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--ignore-certificate-errors-spki-list=${spki}`,
      ],
    },
  },
  projects: [
    {
      name: 'http',
      testIgnore: /(msal|nginx)\.spec\.mjs$/,
      use: { baseURL: 'http://localhost:8080' },
    },
    {
      name: 'https',
      testMatch: /(journey|msal)\.spec\.mjs$/,
      use: {
        baseURL: 'http://localhost:8081',
        spaOrigin: 'http://localhost:8081',
        idpOrigin: 'https://localhost:5443',
        apiOrigin: 'http://localhost:5558',
        clientId: '7d2c9b41-3e8f-4a6d-b5c0-9f1e2d3c4b5a',
      },
    },
    {
      name: 'nginx',
      testMatch: /(journey|nginx)\.spec\.mjs$/,
      use: {
        baseURL: 'http://localhost:8085/',
        spaOrigin: 'http://localhost:8085',
        clientId: NGINX_CLIENT_ID,
        nginxSite: 'root',
      },
    },
    {
      name: 'nginx-subpath',
      testMatch: /(journey|nginx)\.spec\.mjs$/,
      use: {
        // Playwright resolves page.goto('./x') against this: http://localhost:8086/nimbus/x.
        baseURL: 'http://localhost:8086/nimbus/',
        spaOrigin: 'http://localhost:8086',
        spaBase: '/nimbus/',
        clientId: NGINX_CLIENT_ID,
        nginxSite: 'subpath',
      },
    },
  ],
});
