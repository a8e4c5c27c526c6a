// Takes the README's screenshots (tests/e2e/screenshots.mjs) with the e2e settings.
import base from './playwright.config.mjs';

export default {
  ...base,
  testDir: '.',
  testMatch: 'screenshots.mjs',
  projects: [base.projects[0]],
};
