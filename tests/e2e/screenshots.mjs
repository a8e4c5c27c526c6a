// The README's screenshots (light, dark, mobile), taken from the running sandbox:
//   npx playwright test -c tests/e2e/screenshots.config.mjs   (with the sandbox up, as scripts/dev)
// Not part of scripts/test: it writes files into the repository.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { test, expect, signIn, weatherFor } from './fixtures.mjs';

test('screenshots for the README', async ({ page }) => {
  const dir = fileURLToPath(new URL('./screenshots/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  await signIn(page);
  await page.goto('/weather');
  await page.setViewportSize({ width: 900, height: 760 });
  await weatherFor(page, 'Portland', 'OR', 'imperial');
  await expect(page.getByRole('region', { name: 'Current weather' })).toBeVisible();
  await page.locator('#city').blur();
  await page.screenshot({ path: path.join(dir, 'weather-light.png') });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: path.join(dir, 'weather-dark.png') });
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto('/reports');
  await page.getByLabel('Description').fill('Sunny and warm');
  await expect(page.getByRole('heading', { name: 'Reports', exact: true })).toBeVisible();
  await page.screenshot({ path: path.join(dir, 'reports-mobile.png'), fullPage: true });
  await page.goto('/weather');
  await weatherFor(page, 'Portland', 'OR', 'imperial');
  await page.locator('.account-button').click();
  await page.screenshot({ path: path.join(dir, 'weather-mobile-menu.png') });
});
