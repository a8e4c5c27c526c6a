// Serves the release build (dist/) the way a static host would: files as they are, and
// index.html for any other path (single-page app fallback). Loopback only, IPv4 and IPv6.
// Usage: node tests/e2e/serve-dist.mjs [distDir] [port] [--config FILE]
//   --config FILE  serve FILE as /config.json (the same build deployed for another tenant or
//                  client), with the header policy regenerated for it, as the README's one-line
//                  command does for a host that sends the policy as a header.
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';
import { policies } from '../../scripts/csp.mjs';

const args = process.argv.slice(2);
const flag = args.indexOf('--config');
const configFile = flag >= 0 ? args.splice(flag, 2)[1] : null;
const root = resolve(args[0] ?? 'dist');
const port = Number(args[1] ?? process.env.SPA_PORT ?? 8080);
const configBody = configFile ? await readFile(configFile) : null;
// The response headers a production host should send (README, "Security headers").
const csp = configBody
  ? policies(await readFile(join(root, 'index.html'), 'utf8'), JSON.parse(configBody)).header
  : await readFile(join(root, 'csp-header.txt'), 'utf8').then((t) => t.trim()).catch(() => null);
const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
};

async function handler(req, res) {
  const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  let file = normalize(join(root, path));
  // Never outside dist/: anything else is an app route.
  let info = file.startsWith(root) ? await stat(file).catch(() => null) : null;
  if (!info || info.isDirectory() || !extname(file)) {
    file = join(root, 'index.html');
    info = await stat(file).catch(() => null);
  }
  if (!info) {
    res.writeHead(404).end('not found');
    return;
  }
  const body = configBody && file === join(root, 'config.json') ? configBody : await readFile(file);
  res.writeHead(200, {
    'Content-Type': types[extname(file)] ?? 'application/octet-stream',
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    ...(csp && extname(file) === '.html' ? { 'Content-Security-Policy': csp } : {}),
  });
  res.end(body);
}

let listening = 0;
for (const host of ['127.0.0.1', '::1']) {
  const server = createServer((req, res) => handler(req, res).catch(() => res.writeHead(500).end()));
  server.listen(port, host, () => {
    listening += 1;
    if (listening === 2) console.log(`spa ready on http://localhost:${port}`);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
  process.on('SIGINT', () => server.close(() => process.exit(0)));
}
