// Host configuration for a built dist/, generated from the build itself: the hashed file names
// Trunk wrote, the strict Content-Security-Policy for dist/config.json (scripts/csp.mjs), the
// base path in index.html's <base href> and the app's routes (src/app.rs). scripts/csp.mjs
// calls writeHostConfigs after every policy change, so `node scripts/csp.mjs dist [--base /x/]`
// regenerates all of it after config.json is replaced or the app moves to another path.
//
//   nginx.conf                 a snippet to `include` inside a `server { }` block
//   staticwebapp.config.json   Azure Static Web Apps (navigation fallback, headers, caching)
//   _headers, _redirects       Netlify and Cloudflare Pages
//   404.html                   GitHub Pages (which sets no headers: the <meta> policy applies)
//
// Caching: the hashed .js/.wasm/.css never change under their name, so they are `immutable`
// for a year; index.html, config.json and every app route are `no-cache` (revalidated on every
// visit), so a deploy or a new config.json is seen at once.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const IMMUTABLE = 'public, max-age=31536000, immutable';
export const NO_CACHE = 'no-cache';
export const HSTS = 'max-age=31536000';

/** Trunk's content-hashed outputs: `name-<hash>.js`, `name-<hash>_bg.wasm`, `name-<hash>.css`,
 *  the favicon `favicon-<hash>.svg` (a 64-bit hash in hex, without leading zeros). */
export const HASHED = /-[0-9a-f]{8,16}(_bg)?\.(js|wasm|css|svg)$/;

/** The security headers every response carries (HSTS only where the host serves https). */
export function securityHeaders(csp) {
  return {
    'Content-Security-Policy': csp,
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
    'Cross-Origin-Opener-Policy': 'same-origin',
  };
}

/** A base path as index.html's <base href> must hold it: `/` or `/a/b/`, nothing to escape. */
export function checkBase(base) {
  if (typeof base !== 'string' || !/^\/([A-Za-z0-9._~-]+\/)*$/.test(base) || /\/\.{1,2}\//.test(base)) {
    throw new Error(`base path ${JSON.stringify(base)}: expected "/" or a path such as "/nimbus/" (letters, digits, . _ ~ -; starting and ending with "/")`);
  }
  return base;
}

/** The base path index.html declares. */
export function baseOf(html) {
  const m = html.match(/<base href="([^"]*)"/);
  if (!m) throw new Error('index.html has no <base href="...">');
  return checkBase(m[1]);
}

/** The app's routes (src/app.rs `path!("...")`), below the base; `/` is index.html itself. */
export function appRoutes() {
  const source = new URL('../src/app.rs', import.meta.url);
  if (!existsSync(source)) throw new Error(`${source.pathname} is missing: run this from the Nimbus repository`);
  const routes = [...readFileSync(source, 'utf8').matchAll(/path!\("([^"]+)"\)/g)].map((m) => m[1]);
  if (!routes.includes('/auth/callback')) throw new Error('src/app.rs: found no /auth/callback route');
  return routes.filter((r) => r !== '/');
}

/** The build's hashed files, sorted. */
export function hashedFiles(dir) {
  return readdirSync(dir).filter((f) => HASHED.test(f)).sort();
}

const GENERATED = (comment) =>
  `${comment} Generated from this build by scripts/csp.mjs: regenerate with \`node scripts/csp.mjs dist\`\n` +
  `${comment} after replacing config.json (add \`--base /path/\` to move the app); don't edit by hand.\n`;

/** nginx: a server-block snippet. The server's `root` holds the build at `<root><base>`. */
export function nginxConf({ base, csp, hashed }) {
  const headers = (cache) =>
    [
      ...Object.entries(securityHeaders(csp)).map(([k, v]) => `add_header ${k} "${v}" always;`),
      'add_header Strict-Transport-Security $nimbus_hsts always;',
      `add_header Cache-Control "${cache}" always;`,
    ];
  const block = (head, lines) => [`${head} {`, ...lines.map((l) => (l ? `    ${l}` : l)), '}'];
  const inner = block;
  const out = [
    GENERATED('#'),
    `# Nimbus at ${base}: \`include\` this file inside a \`server { }\` block whose \`root\` is the`,
    base === '/' ? '# folder holding these files.' : `# folder above ${base.slice(1)} (these files at <root>${base}).`,
    '# Every response carries the security headers; HSTS only over https (on a TLS-terminating',
    '# proxy in front, set it there). Debian\'s /etc/nginx/mime.types maps .wasm to application/wasm.',
    '',
    'set $nimbus_hsts "";',
    `if ($scheme = https) { set $nimbus_hsts "${HSTS}"; }`,
    'gzip on;',
    'gzip_types text/css text/javascript application/javascript application/json application/wasm;',
    '',
  ];
  // A relative Location (absolute_redirect off): right behind a proxy or on another port too.
  if (base !== '/') out.push(`location = ${base.slice(0, -1)} { absolute_redirect off; return 301 ${base}; }`, '');
  out.push(
    ...block(`location ${base}`, [
      '# App routes (no file extension): the single-page app, revalidated on every visit.',
      `try_files $uri ${base}index.html;`,
      ...headers(NO_CACHE),
      '',
      ...inner(`location = ${base}index.html`, headers(NO_CACHE)),
      ...inner(`location = ${base}config.json`, ['try_files $uri =404;', ...headers(NO_CACHE)]),
      '# Content-hashed build outputs: never change under their name.',
      ...hashed.flatMap((f) => inner(`location = ${base}${f}`, ['try_files $uri =404;', ...headers(IMMUTABLE)])),
      '# Anything else that names a file is that file or a 404, never the app.',
      ...inner('location ~ \\.[A-Za-z0-9]+$', ['try_files $uri =404;', ...headers(NO_CACHE)]),
    ]),
  );
  return `${out.join('\n')}\n`;
}

/** Azure Static Web Apps: staticwebapp.config.json (always https). */
export function staticWebAppConfig({ base, csp, hashed }) {
  return `${JSON.stringify(
    {
      $comment: `Generated from this build by scripts/csp.mjs (node scripts/csp.mjs dist): the app at ${base}.`,
      navigationFallback: {
        rewrite: `${base}index.html`,
        exclude: [`${base}*.{js,wasm,css,json,txt,conf,html}`],
      },
      routes: [
        ...hashed.map((f) => ({ route: `${base}${f}`, headers: { 'Cache-Control': IMMUTABLE } })),
        { route: `${base}*`, headers: { 'Cache-Control': NO_CACHE } },
      ],
      globalHeaders: { ...securityHeaders(csp), 'Strict-Transport-Security': HSTS },
      mimeTypes: { '.wasm': 'application/wasm', '.json': 'application/json' },
    },
    null,
    2,
  )}\n`;
}

/** Netlify / Cloudflare Pages: _headers. Rules that match one path add up, so Cache-Control
 *  is set only by the rule naming the file. */
export function headersFile({ base, csp, hashed, routes }) {
  const rule = (path, headers) => [path, ...Object.entries(headers).map(([k, v]) => `  ${k}: ${v}`)].join('\n');
  return `${[
    GENERATED('#').trimEnd(),
    rule(`${base}*`, { ...securityHeaders(csp), 'Strict-Transport-Security': HSTS }),
    ...[base, `${base}index.html`, `${base}config.json`, ...routes.map((r) => `${base}${r.slice(1)}`)].map((p) =>
      rule(p, { 'Cache-Control': NO_CACHE })),
    ...hashed.map((f) => rule(`${base}${f}`, { 'Cache-Control': IMMUTABLE })),
  ].join('\n')}\n`;
}

/** Netlify / Cloudflare Pages: _redirects. The app's routes by name (Cloudflare applies a rule
 *  even where a file exists, so no catch-all that would swallow the .wasm). */
export function redirectsFile({ base, routes }) {
  return `${[
    GENERATED('#').trimEnd(),
    ...(base === '/' ? [] : [`${base.slice(0, -1)}  ${base}  301`]),
    ...routes.map((r) => `${base}${r.slice(1)}  ${base}index.html  200`),
  ].join('\n')}\n`;
}

/** Writes every host file into dir for its index.html (with its policy meta) and header policy. */
export function writeHostConfigs(dir, { html, csp }) {
  const base = baseOf(html);
  const ctx = { base, csp, hashed: hashedFiles(dir), routes: appRoutes() };
  const files = {
    'nginx.conf': nginxConf(ctx),
    'staticwebapp.config.json': staticWebAppConfig(ctx),
    _headers: headersFile(ctx),
    _redirects: redirectsFile(ctx),
    // GitHub Pages answers any unknown path with 404.html (status 404): the app itself, which
    // then shows the route (or its own "not found").
    '404.html': html,
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  console.log(`host configs: ${Object.keys(files).join(', ')} for base ${base}, ${ctx.hashed.length} hashed file(s)`);
}
