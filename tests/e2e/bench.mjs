// Benchmark (numbers, not assertions): sign-in cost as a user meets it, against the sandbox.
// For N rounds: click "Sign in" at the provider, then measure from the moment the browser lands
// on /auth/callback to the signed-in page rendered, and from a weather submit to the result on
// screen; count every request of one sign-in by kind. Run with scripts/bench.
import { chromium } from '@playwright/test';

const SPA = 'http://localhost:8080';
const rounds = Number(process.argv[2] ?? 10);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
const callbackToSignedIn = [];
const submitToWeather = [];
let counts;
for (let i = 0; i < rounds; i += 1) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const seen = {};
  let landed = 0;
  page.on('request', (r) => {
    const u = new URL(r.url());
    const kind = u.pathname.endsWith('/token') ? `token ${new URLSearchParams(r.postData() ?? '').get('grant_type')}`
      : u.pathname.endsWith('/openid-configuration') ? 'discovery'
      : u.pathname.endsWith('/keys') ? 'jwks'
      : u.pathname.startsWith('/api/') ? 'api'
      : u.pathname.endsWith('/authorize') ? 'authorize'
      : u.origin === SPA && r.resourceType() !== 'document' ? `app ${r.resourceType()}` : null;
    if (kind) seen[kind] = (seen[kind] ?? 0) + 1;
    if (u.origin === SPA && u.pathname === '/auth/callback' && r.resourceType() === 'document') landed = performance.now();
  });
  await page.goto(`${SPA}/weather`);
  await page.waitForURL((u) => u.origin !== SPA);
  await page.getByLabel('Username').fill('alice');
  await page.getByLabel('Password').fill('alice-password');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByLabel('City').waitFor();
  callbackToSignedIn.push(performance.now() - landed);
  await page.getByLabel('City').fill(`Bench${i}`);
  const t0 = performance.now();
  await page.getByRole('button', { name: 'Get weather' }).click();
  await page.getByRole('region', { name: 'Current weather' }).waitFor();
  submitToWeather.push(performance.now() - t0);
  counts = seen;
  await context.close();
}
await browser.close();
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return `median ${s[Math.floor(s.length / 2)].toFixed(0)} ms, min ${s[0].toFixed(0)} ms, max ${s[s.length - 1].toFixed(0)} ms`;
};
console.log(`rounds: ${rounds}`);
console.log(`landing on /auth/callback -> signed in on /weather: ${stats(callbackToSignedIn)}`);
console.log(`"Get weather" -> current weather on screen: ${stats(submitToWeather)}`);
console.log(`requests in one sign-in and one lookup: ${JSON.stringify(counts)}`);
