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
export const ORIGIN = `http://localhost:${PORT}`;
export const ISSUER = `${ORIGIN}/${TENANT_ID}/v2.0`;

export const PATHS = {
  discovery: `/${TENANT_ID}/v2.0/.well-known/openid-configuration`,
  authorize: `/${TENANT_ID}/oauth2/v2.0/authorize`,
  token: `/${TENANT_ID}/oauth2/v2.0/token`,
  logout: `/${TENANT_ID}/oauth2/v2.0/logout`,
  keys: `/${TENANT_ID}/discovery/v2.0/keys`,
  /** Sign-in and consent pages: `${login}/{interaction uid}`. */
  login: `/${TENANT_ID}/login`,
};

/** Origins the SPA may run on (token-endpoint CORS, redirect and post-logout URIs). */
export const SPA_ORIGINS = (process.env.SANDBOX_SPA_ORIGINS || 'http://localhost:8080')
  .split(',')
  .map((s) => s.trim().replace(/\/+$/, ''))
  .filter(Boolean);

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
].map((u) => ({ ...u, sub: opaqueSub(u.username) }));
