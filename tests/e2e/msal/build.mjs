// Builds the MSAL.js sample page: bundles main.mjs (with the unmodified @azure/msal-browser from
// node_modules) into target/msal-page/main.js with esbuild, and copies index.html next to it.
//   node tests/e2e/msal/build.mjs
// Serve it with: node tests/e2e/serve-dist.mjs target/msal-page 8082
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(here, '../../../target/msal-page');

await mkdir(out, { recursive: true });
await build({
  entryPoints: [join(here, 'main.mjs')],
  outfile: join(out, 'main.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  sourcemap: true,
  logLevel: 'warning',
});
await copyFile(join(here, 'index.html'), join(out, 'index.html'));
console.log(`msal page built in ${out}`);
