// Trunk's post_build hook (release only): minifies wasm-bindgen's JS glue with esbuild and
// updates its Subresource Integrity hash in index.html, then writes the Content-Security-Policy
// and the host configuration (scripts/csp.mjs, scripts/host-configs.mjs). Runs in Trunk's
// staging folder, before dist/ is replaced.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { transformSync } from 'esbuild';
import { writePolicies } from './csp.mjs';

if (process.env.TRUNK_PROFILE && process.env.TRUNK_PROFILE !== 'release') process.exit(0);
const dir = process.argv[2] ?? process.env.TRUNK_STAGING_DIR ?? 'dist';
const htmlPath = join(dir, 'index.html');
let html = readFileSync(htmlPath, 'utf8');

for (const name of readdirSync(dir).filter((f) => f.endsWith('.js'))) {
  const path = join(dir, name);
  const before = readFileSync(path, 'utf8');
  // Exports keep their names (the loader imports `init` and the bindings by name).
  const { code } = transformSync(before, { minify: true, format: 'esm', target: 'es2020' });
  writeFileSync(path, code);
  const sri = (text) => `sha384-${createHash('sha384').update(text, 'utf8').digest('base64')}`;
  const old = sri(before);
  if (html.includes(old)) html = html.replaceAll(old, sri(code));
  console.log(`post-build: ${name} ${before.length} -> ${code.length} bytes`);
}
writeFileSync(htmlPath, html);
writePolicies(dir);
