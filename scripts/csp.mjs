// Computes the Content-Security-Policy for a built dist/ and writes it where it applies:
// - index.html gets the *base* policy as a <meta http-equiv="Content-Security-Policy">: it fits
//   any config.json (connect-src allows https origins and loopback), so one build serves any
//   tenant. At start-up the app adds a second policy derived from config.json
//   (`connect-src 'self' <authority origin> <API origin>`); policies intersect, so from then on
//   only those origins can be reached.
// - dist/csp-header.txt: the *strict* policy for the config.json in dist/ — connect-src limited to
//   this site, the authority and the API — plus what a <meta> can't carry (frame-ancestors), for
//   hosts that send the policy as a response header. After replacing config.json, regenerate it
//   with `node scripts/csp.mjs dist` (a stale header makes the app say exactly that).
// - the host configuration that sends that header (scripts/host-configs.mjs: nginx.conf,
//   staticwebapp.config.json, _headers, _redirects, 404.html), regenerated on every run.
// Inline scripts that Trunk emits are allowed by their SHA-256 hash, never 'unsafe-inline'.
//
// Any base path: the build refers to its files relative to <base href> (made so here), and the
// app reads its base from document.baseURI at run time, so moving it is a rewrite of that one
// tag plus the host files: `node scripts/csp.mjs dist --base /nimbus/` (no rebuild).
//
// Usage: node scripts/csp.mjs [distDir] [--base /path/]   (also Trunk's post_build hook in release)
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { checkBase, writeHostConfigs } from './host-configs.mjs';

const META_TAG = /\s*<meta http-equiv="Content-Security-Policy"[^>]*>/;

/** The policies for a built index.html (without a policy meta) and a config.json object. */
export function policies(html, config) {
  const hashes = [...html.replace(META_TAG, '').matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)].map(
    (m) => `'sha256-${createHash('sha256').update(m[1], 'utf8').digest('base64')}'`,
  );
  const origin = (url) => new URL(url).origin;
  const connect = [...new Set(["'self'", origin(config.authority), origin(config.api.base_url)])].join(' ');
  const directives = (connectSrc) => [
    "default-src 'self'",
    `script-src 'self' 'wasm-unsafe-eval' ${hashes.join(' ')}`.trim(),
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src ${connectSrc}`,
    "object-src 'none'",
    "frame-src 'none'",
    "base-uri 'self'",
    // Sign-in and sign-out are top-level navigations, not form posts: no form goes anywhere.
    "form-action 'none'",
  ];
  // config.json allows plain http only for loopback hosts.
  const base = directives("'self' https: http://localhost:* http://127.0.0.1:*").join('; ');
  const header = [...directives(connect), "frame-ancestors 'none'"].join('; ');
  return { base, header, connect, hashes };
}

/** Makes index.html's references to the build's own files relative to <base href> (Trunk writes
 *  them from public_url, `/`), so that <base href> alone says where the app lives. */
export function relativeAssets(html, names) {
  let out = html;
  for (const name of names) {
    for (const q of ['"', "'"]) out = out.replaceAll(`${q}/${name}${q}`, `${q}./${name}${q}`);
  }
  return out;
}

/** Points index.html's <base href> at `base`. */
export function withBase(html, base) {
  checkBase(base);
  if (!/<base href="[^"]*" ?\/?>/.test(html)) throw new Error('index.html has no <base href="...">');
  return html.replace(/<base href="[^"]*"( ?\/?)>/, `<base href="${base}"$1>`);
}

/** Writes the base policy into dist/index.html, the strict header into dist/csp-header.txt and
 *  the host configuration beside them; with `base`, moves the app there first. */
export function writePolicies(dir, { base: moveTo } = {}) {
  const htmlPath = join(dir, 'index.html');
  // Drop a policy from an earlier run, so the script can run again after a config change.
  let html = readFileSync(htmlPath, 'utf8').replace(META_TAG, '');
  html = relativeAssets(html, readdirSync(dir).filter((f) => /\.(js|wasm|css|svg)$/.test(f)));
  if (moveTo !== undefined) html = withBase(html, moveTo);
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  const { base, header, connect, hashes } = policies(html, config);
  const tag = `<meta http-equiv="Content-Security-Policy" content="${base}" />`;
  html = /<meta charset="utf-8" \/>/.test(html)
    ? html.replace(/<meta charset="utf-8" \/>/, (m) => `${m}\n    ${tag}`)
    : html.replace(/<head>/, `<head>\n    ${tag}`);
  // Never ship a page without its policy (e.g. if a minifier dropped the tags looked for).
  if (!html.includes(tag)) throw new Error(`csp: found no place for the policy in ${htmlPath}`);
  writeFileSync(htmlPath, html);
  writeFileSync(join(dir, 'csp-header.txt'), `${header}\n`);
  console.log(`csp: ${hashes.length} inline script hash(es); header connect-src ${connect}`);
  writeHostConfigs(dir, { html, csp: header });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.env.TRUNK_PROFILE && process.env.TRUNK_PROFILE !== 'release') process.exit(0);
  const args = process.argv.slice(2);
  const flag = args.indexOf('--base');
  const base = flag >= 0 ? args.splice(flag, 2)[1] : undefined;
  if (flag >= 0 && base === undefined) throw new Error('--base needs a path, e.g. --base /nimbus/');
  writePolicies(args[0] ?? process.env.TRUNK_STAGING_DIR ?? 'dist', { base });
}
