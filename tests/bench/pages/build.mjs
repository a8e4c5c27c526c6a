// Builds the benchmark's peer pages into target/bench-pages/<name>/ (index.html, main.js and
// Nimbus's own stylesheet copied from dist/): esbuild, bundled, minified, production mode
// (process.env.NODE_ENV = "production"), no source maps: what each would ship.
//   node tests/bench/pages/build.mjs [DIST]   (after `trunk build --release`: DIST/*.css, default dist)
// Serve one with: node tests/e2e/serve-dist.mjs target/bench-pages/<name> <port>
import { copyFile, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const out = join(root, 'target/bench-pages');

/** name: [entry point, title, port (for the message only)] */
export const PAGES = {
  'msal-browser': ['msal-browser/main.mjs', 'Nimbus (msal-browser)', 8082],
  'oidc-client-ts': ['oidc-client-ts/main.mjs', 'Nimbus (oidc-client-ts)', 8083],
  'msal-react': ['msal-react/main.jsx', 'Nimbus (React + msal-react)', 8084],
};

const dist = resolve(root, process.argv[2] ?? 'dist');
const css = (await readdir(dist).catch(() => [])).filter((f) => f.endsWith('.css'));
if (css.length !== 1) {
  console.error(`expected exactly one stylesheet in ${dist} (run trunk build --release first), found ${css.length}`);
  process.exit(1);
}

// The same head as Nimbus's index.html; absolute paths, since the SPA fallback serves this page
// at /weather and /auth/callback too. React renders into #root, the others into <body>.
const page = (title, react) => `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="referrer" content="no-referrer" />
    <meta name="color-scheme" content="light dark" />
    <title>${title}</title>
    <link rel="stylesheet" href="/${css[0]}" />
    <script type="module" src="/main.js"></script>
  </head>
  <body>${react ? '<div id="root"><p class="loading" role="status">Loading…</p></div>' : '<p class="loading" role="status">Loading…</p>'}</body>
</html>
`;

for (const [name, [entry, title, port]] of Object.entries(PAGES)) {
  const dir = join(out, name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await build({
    entryPoints: [join(here, entry)],
    outfile: join(dir, 'main.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    legalComments: 'none',
    logLevel: 'warning',
  });
  await writeFile(join(dir, 'index.html'), page(title, name === 'msal-react'));
  await copyFile(join(dist, css[0]), join(dir, css[0]));
  console.log(`bench page ${name} built in ${dir} (serve on ${port})`);
}
