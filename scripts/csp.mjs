// Computes the Content-Security-Policy for a built dist/ and writes it where it applies:
// - a <meta http-equiv="Content-Security-Policy"> as the first element of index.html's <head>;
// - dist/csp-header.txt: the same policy plus the directives a <meta> can't carry
//   (frame-ancestors), for the host's response header (see README, "Security headers").
// Inline scripts that Trunk emits are allowed by their SHA-256 hash, never 'unsafe-inline'.
// connect-src is limited to this site, the authority's origin and the API's origin, read from
// config.json: re-run this script after replacing config.json in a deployed dist/.
//
// Usage: node scripts/csp.mjs [distDir]   (also runs as Trunk's post_build hook in release)
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

if (process.env.TRUNK_PROFILE && process.env.TRUNK_PROFILE !== 'release') process.exit(0);
const dir = process.argv[2] ?? process.env.TRUNK_STAGING_DIR ?? 'dist';
const htmlPath = join(dir, 'index.html');
let html = readFileSync(htmlPath, 'utf8');
const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
const origin = (url) => new URL(url).origin;

// Drop a policy from an earlier run, so the script can run again after a config change.
html = html.replace(/\s*<meta http-equiv="Content-Security-Policy"[^>]*>/, '');

const hashes = [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)].map(
  (m) => `'sha256-${createHash('sha256').update(m[1], 'utf8').digest('base64')}'`,
);
const authority = origin(config.authority);
const api = origin(config.api.base_url);
const connect = [...new Set(["'self'", authority, api])].join(' ');
const directives = [
  "default-src 'self'",
  `script-src 'self' 'wasm-unsafe-eval' ${hashes.join(' ')}`.trim(),
  "style-src 'self'",
  "img-src 'self' data:",
  `connect-src ${connect}`,
  "object-src 'none'",
  "frame-src 'none'",
  "base-uri 'self'",
  `form-action ${authority}`,
];
const meta = directives.join('; ');
const header = [...directives, "frame-ancestors 'none'"].join('; ');

const tag = `<meta http-equiv="Content-Security-Policy" content="${meta}" />`;
html = /<meta charset="utf-8" \/>/.test(html)
  ? html.replace(/<meta charset="utf-8" \/>/, (m) => `${m}\n    ${tag}`)
  : html.replace(/<head>/, `<head>\n    ${tag}`);
writeFileSync(htmlPath, html);
writeFileSync(join(dir, 'csp-header.txt'), `${header}\n`);
console.log(`csp: ${hashes.length} inline script hash(es); connect-src ${connect}`);
