// Constants of the local Entra-shaped identity provider.
// The values in tests/sandbox/README.md are authoritative; this file mirrors them.
import { createHash } from 'node:crypto';

export const TENANT_ID = '3f8d0c2a-5b1e-4c7d-9a6f-2e4b8c1d7a90';
export const SPA_CLIENT_ID = '0b7e4f52-6c1a-4d3e-8f29-5a1c7b9e3d64';
export const SPA_CLIENT_NAME = 'Nimbus';
export const API_CLIENT_ID = 'c2a9e7d1-4b3f-4e8a-b6d5-1f7a3c9e2b80';
/** Resource indicator of the weather API (its Application ID URI). */
export const API_RESOURCE = `api://${API_CLIENT_ID}`;
export const API_SCOPES = {
  [`${API_RESOURCE}/weather.read`]: 'Read weather and reports',
  [`${API_RESOURCE}/weather.write`]: 'Create weather reports',
};
export const DAEMON_CLIENT_ID = 'e5d4c3b2-a190-4f8e-9d7c-6b5a4f3e2d1c';
export const DAEMON_CLIENT_SECRET = 'sandbox-daemon-secret';
/** Object id of the daemon's service principal (token `oid` and `sub`). Not in the README: fixed here. */
export const DAEMON_SP_OID = '9c8b7a6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
/** Application permissions (app roles) assigned to the daemon on the weather API. */
export const DAEMON_ROLES = ['weather.read'];

/** Delegated scopes granted without a consent page (as if an admin had consented for the tenant). */
export const PRECONSENTED_OIDC_SCOPES = ['openid', 'profile', 'offline_access'];
export const PRECONSENTED_API_SCOPES = [`${API_RESOURCE}/weather.read`];

export const PORT = Number(process.env.IDP_PORT || 5556);
/** https mode (IDP_HTTPS=1): TLS with the locally made certificate in tests/sandbox/.tls/. */
export const HTTPS = process.env.IDP_HTTPS === '1';
export const ORIGIN = `${HTTPS ? 'https' : 'http'}://localhost:${PORT}`;
export const ISSUER = `${ORIGIN}/${TENANT_ID}/v2.0`;
/** Where scripts/setup puts the sandbox's self-signed certificate (cert.pem, key.pem, spki.txt). */
export const TLS_DIR = process.env.SANDBOX_TLS_DIR
  ? new URL(`file://${process.env.SANDBOX_TLS_DIR.replace(/\/*$/, '/')}`)
  : new URL('../.tls/', import.meta.url);
export const TLS_CERT_FILE = new URL('cert.pem', TLS_DIR);
export const TLS_KEY_FILE = new URL('key.pem', TLS_DIR);

export const PATHS = {
  discovery: `/${TENANT_ID}/v2.0/.well-known/openid-configuration`,
  authorize: `/${TENANT_ID}/oauth2/v2.0/authorize`,
  token: `/${TENANT_ID}/oauth2/v2.0/token`,
  logout: `/${TENANT_ID}/oauth2/v2.0/logout`,
  keys: `/${TENANT_ID}/discovery/v2.0/keys`,
  /** Sign-in and consent pages: `${login}/{interaction uid}`. */
  login: `/${TENANT_ID}/login`,
};

/** Origins the Nimbus SPA may run on (token-endpoint CORS, redirect and post-logout URIs). */
export const SPA_ORIGINS = (process.env.SANDBOX_SPA_ORIGINS || 'http://localhost:8080')
  .split(',')
  .map((s) => s.trim().replace(/\/+$/, ''))
  .filter(Boolean);

/** A second deployment of Nimbus (its own app registration), on another origin. */
export const SPA2_CLIENT_ID = '7d2c9b41-3e8f-4a6d-b5c0-9f1e2d3c4b5a';
export const SPA2_CLIENT_NAME = 'Nimbus (second deployment)';
export const SPA2_ORIGIN = 'http://localhost:8081';
/** The same build behind nginx (scripts/sandbox.sh sandbox_start_nginx_*), one registration
 *  for two deployments: at the root of :8085 and under /nimbus/ on :8086. */
export const NGINX_CLIENT_ID = '5e8a1c3f-2b7d-4f90-a6c4-8d1e3b5f7a29';
export const NGINX_CLIENT_NAME = 'Nimbus behind nginx';
export const NGINX_APPS = ['http://localhost:8085/', 'http://localhost:8086/nimbus/'];
/** Microsoft's own MSAL.js (@azure/msal-browser), unmodified, as a second kind of client. */
export const MSAL_CLIENT_ID = 'a1f3c5e7-9b2d-4f6a-8c0e-2d4f6a8c0e13';
export const MSAL_CLIENT_NAME = 'MSAL.js sample';
export const MSAL_ORIGIN = 'http://localhost:8082';
/** Benchmark peers (tests/bench/, scripts/bench): the same app built on oidc-client-ts ... */
export const OIDC_TS_CLIENT_ID = 'c65a353c-3015-4c9a-b4b5-c75486f213b3';
export const OIDC_TS_CLIENT_NAME = 'oidc-client-ts bench page';
export const OIDC_TS_ORIGIN = 'http://localhost:8083';
/** ... and on React 19 + react-router + @azure/msal-react. */
export const MSAL_REACT_CLIENT_ID = 'a408b367-84a5-4fb6-b0b1-e7b848446083';
export const MSAL_REACT_CLIENT_NAME = 'React + MSAL React bench page';
export const MSAL_REACT_ORIGIN = 'http://localhost:8084';

/**
 * Every "Single-page application" registration: public (no secret), PKCE S256, token-endpoint
 * CORS for exactly its redirect URIs' origins, the same scopes and pre-consent.
 */
export const SPA_CLIENTS = [
  {
    client_id: SPA_CLIENT_ID,
    client_name: SPA_CLIENT_NAME,
    origins: SPA_ORIGINS,
    redirect_uris: SPA_ORIGINS.map((o) => `${o}/auth/callback`),
    post_logout_redirect_uris: SPA_ORIGINS.map((o) => `${o}/`),
  },
  {
    client_id: SPA2_CLIENT_ID,
    client_name: SPA2_CLIENT_NAME,
    origins: [SPA2_ORIGIN],
    redirect_uris: [`${SPA2_ORIGIN}/auth/callback`],
    post_logout_redirect_uris: [`${SPA2_ORIGIN}/`],
  },
  {
    client_id: NGINX_CLIENT_ID,
    client_name: NGINX_CLIENT_NAME,
    origins: NGINX_APPS.map((a) => new URL(a).origin),
    redirect_uris: NGINX_APPS.map((a) => `${a}auth/callback`),
    post_logout_redirect_uris: NGINX_APPS,
  },
  {
    client_id: MSAL_CLIENT_ID,
    client_name: MSAL_CLIENT_NAME,
    origins: [MSAL_ORIGIN],
    redirect_uris: [`${MSAL_ORIGIN}/`],
    post_logout_redirect_uris: [`${MSAL_ORIGIN}/`],
  },
  {
    client_id: OIDC_TS_CLIENT_ID,
    client_name: OIDC_TS_CLIENT_NAME,
    origins: [OIDC_TS_ORIGIN],
    redirect_uris: [`${OIDC_TS_ORIGIN}/auth/callback`],
    post_logout_redirect_uris: [`${OIDC_TS_ORIGIN}/`],
  },
  {
    client_id: MSAL_REACT_CLIENT_ID,
    client_name: MSAL_REACT_CLIENT_NAME,
    origins: [MSAL_REACT_ORIGIN],
    // MSAL's convention (Microsoft's react-router sample): the app's root is the redirect URI.
    redirect_uris: [`${MSAL_REACT_ORIGIN}/`],
    post_logout_redirect_uris: [`${MSAL_REACT_ORIGIN}/`],
  },
];
export const SPA_CLIENTS_BY_ID = new Map(SPA_CLIENTS.map((c) => [c.client_id, c]));
/** Every origin some SPA registration allows (the token endpoint's CORS preflight). */
export const ALL_SPA_ORIGINS = [...new Set(SPA_CLIENTS.flatMap((c) => c.origins))];

function positiveSeconds(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) {
    throw new Error(`${name} must be a positive integer number of seconds, got ${JSON.stringify(raw)}`);
  }
  return n;
}

/** Access token lifetime (s). */
export const ACCESS_TTL = positiveSeconds('SANDBOX_ACCESS_TTL', 3600);
/** SPA refresh token lifetime (s), fixed from sign-in: rotation never extends it. */
export const REFRESH_TTL = positiveSeconds('SANDBOX_REFRESH_TTL', 24 * 3600);

// Entra's `sub` is an opaque, pairwise-looking string; `oid` is the user's object id (a GUID).
const opaqueSub = (username) => createHash('sha256').update(`nimbus-sandbox:${TENANT_ID}:${username}`).digest('base64url').slice(0, 43);

// Entra's optional `login_hint` ID-token claim: an opaque, stable value naming the account to the
// provider (apps send it back as `logout_hint` at sign-out, or as `login_hint` at sign-in).
// Here: base64url of "{oid}.{tid}" (not JSON, so it never looks like a JWT's "eyJ..." in a URL);
// clients must not look inside.
const loginHint = (u) => Buffer.from(`${u.oid}.${TENANT_ID}`).toString('base64url');

export const USERS = [
  {
    username: 'alice',
    password: 'alice-password',
    name: 'Alice Example',
    preferred_username: 'alice@nimbus.test',
    oid: '5a0b8c3e-2d4f-4e1a-9b7c-1f3e5d7a9c21',
  },
  {
    username: 'bob',
    password: 'bob-password',
    name: 'Bob Example',
    preferred_username: 'bob@nimbus.test',
    oid: 'b0b5e2d4-7c1a-4f3e-8d2b-6a9c1e3f5b70',
  },
].map((u) => ({ ...u, sub: opaqueSub(u.username), login_hint: loginHint(u) }));
