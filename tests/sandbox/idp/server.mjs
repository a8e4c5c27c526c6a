// Local identity provider shaped like Microsoft Entra ID (v2 endpoints), built on oidc-provider 9.
//
// Start from the repository root:   node_modules/.bin/node tests/sandbox/idp/server.mjs
// Constants (tenant, client ids, users, scopes) live in ./config.mjs and tests/sandbox/README.md.
//
// Layout of the URL space (all on http://localhost:$IDP_PORT, default 5556; with IDP_HTTPS=1 the
// same on https://localhost:$IDP_PORT with the certificate scripts/setup makes):
//   /{tenant}/v2.0/.well-known/openid-configuration   discovery (rewritten to oidc-provider's route)
//   /{tenant}/oauth2/v2.0/authorize|token|logout       oidc-provider routes (custom `routes`)
//   /{tenant}/discovery/v2.0/keys                      JWKS
//   /{tenant}/login/{uid}                              our sign-in and consent pages (interactions)
//   /__sandbox/stats, /__sandbox/reset-stats, ...      test helpers (see README.md)
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';

import Provider, { errors, interactionPolicy } from 'oidc-provider';

import {
  ACCESS_TTL, ALL_SPA_ORIGINS, API_CLIENT_ID, API_RESOURCE, API_SCOPES, DAEMON_CLIENT_ID, DAEMON_CLIENT_SECRET,
  DAEMON_ROLES, DAEMON_SP_OID, HTTPS, ISSUER, ORIGIN, PATHS, PORT, PRECONSENTED_API_SCOPES,
  PRECONSENTED_OIDC_SCOPES, REFRESH_TTL, SPA_CLIENTS, SPA_CLIENTS_BY_ID, TENANT_ID, TLS_CERT_FILE, TLS_KEY_FILE, USERS,
} from './config.mjs';
import * as hostileLib from './hostile.mjs';
import * as pages from './pages.mjs';

// ---------------------------------------------------------------------------------------------
// TLS (IDP_HTTPS=1): the self-signed certificate scripts/setup made. Also the only CA this
// process trusts when it fetches from itself (never with verification turned off).

function readTls() {
  if (!HTTPS) return undefined;
  try {
    return { cert: fs.readFileSync(TLS_CERT_FILE), key: fs.readFileSync(TLS_KEY_FILE) };
  } catch (err) {
    console.error(`idp: IDP_HTTPS=1 needs ${TLS_CERT_FILE.pathname} and ${TLS_KEY_FILE.pathname} (scripts/setup makes them): ${err.message}`);
    process.exit(1);
  }
}
const tls = readTls();

// ---------------------------------------------------------------------------------------------
// Keys: one RS256 signing key, generated at start-up (restart = new key; clients refetch the JWKS).

function generateSigningKey() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  // RFC 7638 thumbprint as the key id.
  const kid = crypto.createHash('sha256')
    .update(JSON.stringify({ e: jwk.e, kty: 'RSA', n: jwk.n }))
    .digest('base64url');
  return {
    ...jwk, kid, use: 'sig', alg: 'RS256',
  };
}

// ---------------------------------------------------------------------------------------------
// Users, consent memory and statistics (all in memory).

const usersBySub = new Map(USERS.map((u) => [u.sub, u]));
const usersByLoginHint = new Map(USERS.map((u) => [u.login_hint, u]));

function checkCredentials(username, password) {
  const name = String(username ?? '').trim().toLowerCase();
  const user = USERS.find((u) => u.username === name || u.preferred_username === name);
  if (!user) return undefined;
  const a = Buffer.from(String(password ?? ''));
  const b = Buffer.from(user.password);
  return a.length === b.length && crypto.timingSafeEqual(a, b) ? user : undefined;
}

/** accountId -> Set of scopes the user consented to on the consent page (beyond the pre-consented ones). */
const consents = new Map();

const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'];
const stats = {
  token_requests: Object.fromEntries(GRANT_TYPES.map((g) => [g, 0])),
  token_failures: Object.fromEntries(GRANT_TYPES.map((g) => [g, 0])),
  /** refresh_token grant requests presenting a refresh token that had already been redeemed (rotated away). */
  refresh_reuse: 0,
  /** Authorization requests that answered a claims challenge (a `claims` parameter asking for more
   *  than client capabilities), and the last such value (raw text). */
  claims_requests: 0,
  claims_last: null,
  /** refresh_token grant requests whose `claims` answered a challenge (their access token gets xms_cc_satisfied too). */
  claims_token_requests: 0,
  /** Authorization requests whose `claims` only declared client capabilities (access_token.xms_cc, MSAL's
   *  clientCapabilities ["CP1"]): not challenge responses. */
  capability_requests: 0,
  /** Token requests (any grant) whose `claims` only declared client capabilities. */
  capability_token_requests: 0,
};

/** SHA-256 of refresh tokens that were redeemed successfully (for refresh_reuse; values are never kept). */
const redeemedRefreshTokens = new Set();
const MAX_TRACKED = 20000;
const tokenHash = (value) => crypto.createHash('sha256').update(String(value)).digest('base64url');

function resetStats() {
  for (const key of ['token_requests', 'token_failures']) {
    for (const g of Object.keys(stats[key])) stats[key][g] = 0;
  }
  stats.refresh_reuse = 0;
  stats.claims_requests = 0;
  stats.claims_last = null;
  stats.claims_token_requests = 0;
  stats.capability_requests = 0;
  stats.capability_token_requests = 0;
  redeemedRefreshTokens.clear();
}

/** Lifetimes for tokens issued from now on (POST /__sandbox/config); the env vars are the defaults. */
const runtime = { access_ttl: ACCESS_TTL, refresh_ttl: REFRESH_TTL };
function resetRuntime() {
  runtime.access_ttl = ACCESS_TTL;
  runtime.refresh_ttl = REFRESH_TTL;
}

// ---------------------------------------------------------------------------------------------
// Hostile mode (POST /__sandbox/hostile): armed misbehaviour; see hostile.mjs and README.md.

const hostile = {
  token: null, // one-shot, next authorization_code token request/response
  id_token: null, // one-shot, id_token of the next successful authorization_code response
  refresh_id_token: null, // one-shot, id_token of the next successful refresh_token response
  authorize: null, // one-shot, next redirect to a registered redirect_uri
  discovery: null, // until cleared
  jwks: null, // until cleared: 'no_usable_key' | 'rotate'
  rotatedKey: null, // jwks rotate: the key that now signs ID tokens (published next to the real one)
  decoyKey: null, // id_token missing_kid_multi: a second RSA key published until reset / clear
  unusableJwks: null, // jwks no_usable_key: the key set served
  scope: null, // until cleared: 'without_read' drops weather.read from refresh_token requests
  lastNote: null, // what the last tamper wants a test to know (e.g. the unknown kid)
};
function clearHostile(target) {
  const all = !target;
  if (all || target === 'token') hostile.token = null;
  if (all || target === 'id_token') { hostile.id_token = null; hostile.decoyKey = null; }
  if (all || target === 'refresh_id_token') hostile.refresh_id_token = null;
  if (all || target === 'authorize') hostile.authorize = null;
  if (all || target === 'discovery') hostile.discovery = null;
  if (all || target === 'jwks') { hostile.jwks = null; hostile.rotatedKey = null; hostile.unusableJwks = null; }
  if (all || target === 'scope') hostile.scope = null;
  if (all) hostile.lastNote = null;
}
function hostileView() {
  return {
    token: hostile.token,
    id_token: hostile.id_token,
    refresh_id_token: hostile.refresh_id_token,
    authorize: hostile.authorize,
    discovery: hostile.discovery,
    jwks: hostile.jwks,
    scope: hostile.scope,
    rotated_kid: hostile.rotatedKey?.publicJwk.kid ?? null,
    decoy_kid: hostile.decoyKey?.publicJwk.kid ?? null,
    last: hostile.lastNote,
    modes: hostileLib.MODES,
  };
}

/** Authorization code jti -> parsed `claims` (see parseClaimsRequest) for codes whose authorization request carried it. */
const claimsByCode = new Map();
/** Grant id -> client capabilities its sign-in declared: its access tokens carry xms_cc, refreshes included. */
const capabilityGrants = new Map();

/** Ids of live provider sessions (for POST /__sandbox/end-sessions). */
const sessionIds = new Set();

const isApiScope = (scope) => scope.startsWith(`${API_RESOURCE}/`);
const shortScope = (scope) => (isApiScope(scope) ? scope.slice(API_RESOURCE.length + 1) : scope);

// ---------------------------------------------------------------------------------------------
// Entra's error shapes. Token-endpoint errors (and the JSON errors the sandbox answers itself):
//   {"error", "error_description": "AADSTSnnnnn: text\r\nTrace ID: ...\r\nCorrelation ID: ...\r\nTimestamp: ...",
//    "error_codes": [nnnnn], "timestamp", "trace_id", "correlation_id", "error_uri"}
// Authorization-endpoint error redirects carry the same error_description and error_uri.

const clientName = (clientId) => SPA_CLIENTS_BY_ID.get(clientId)?.client_name ?? (clientId === DAEMON_CLIENT_ID ? 'Nimbus daemon' : clientId);

const AADSTS = {
  noSession: 'AADSTS50058: A silent sign-in request was sent but no user is signed in.',
  consentText: (clientId) => `The user or administrator has not consented to use the application with ID '${clientId}' named '${clientName(clientId)}'. Send an interactive authorization request for this user and resource.`,
  consent: (clientId) => `AADSTS65001: ${AADSTS.consentText(clientId)}`,
  cancelled: 'AADSTS65004: User declined to consent to access the app. (The user cancelled the sign-in.)',
};

/** Entra's timestamp format: `2016-01-09 02:02:12Z`. */
const entraTimestamp = (d = new Date()) => d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Entra echoes the client's `client-request-id` (header, or query as MSAL.js sends it) as the correlation id. */
function correlationIdOf(req) {
  let fromQuery;
  try { fromQuery = new URL(req.url, ORIGIN).searchParams.get('client-request-id'); } catch { fromQuery = undefined; }
  const given = req.headers['client-request-id'] ?? fromQuery;
  return typeof given === 'string' && GUID.test(given) ? given.toLowerCase() : crypto.randomUUID();
}

/** Splits `AADSTSnnnnn: text` (or returns undefined). */
function splitAadsts(description) {
  const m = /^AADSTS(\d+):\s*([\s\S]*)$/.exec(String(description ?? ''));
  return m ? { code: Number(m[1]), text: m[2].split('\r\nTrace ID:')[0] } : undefined;
}

/** An Entra-shaped JSON error body. */
function entraError(error, code, text, { correlationId, extra } = {}) {
  const traceId = crypto.randomUUID();
  const corr = correlationId ?? crypto.randomUUID();
  const timestamp = entraTimestamp();
  return {
    error,
    error_description: `AADSTS${code}: ${text}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${corr}\r\nTimestamp: ${timestamp}`,
    error_codes: [code],
    timestamp,
    trace_id: traceId,
    correlation_id: corr,
    error_uri: `https://login.microsoftonline.com/error?code=${code}`,
    ...extra,
  };
}

/** Code and text for an authorization-endpoint error redirect (front channel). */
function authorizeErrorCode(error, description, clientId) {
  const given = splitAadsts(description);
  if (error === 'consent_required') return { code: 65001, text: AADSTS.consentText(clientId) };
  if (given) return given;
  const detail = description ? ` (${description})` : '';
  switch (error) {
    case 'login_required': return { code: 50058, text: 'A silent sign-in request was sent but no user is signed in.' };
    case 'interaction_required': return { code: 50076, text: `The user must complete the sign-in interactively${detail}.` };
    case 'access_denied': return { code: 65004, text: `User declined to consent to access the app.${detail}` };
    case 'invalid_scope': return { code: 70011, text: `The provided value for the input parameter 'scope' is not valid${detail}.` };
    case 'unsupported_response_type': return { code: 700054, text: `The response_type is not enabled for the application${detail}.` };
    case 'invalid_request':
      if (/code_challenge/.test(description ?? '')) return { code: 9002325, text: 'Proof Key for Code Exchange is required for cross-origin authorization code redemption.' };
      return { code: 900144, text: `The request is invalid${detail}.` };
    default: return { code: 50000, text: `There was an error issuing a token or an issue with our sign-in service${detail}.` };
  }
}

/** The authorize-endpoint error page (no redirect): redirect URI mismatch, unknown client, ... */
function errorPageCode(out, params) {
  const given = splitAadsts(out.error_description);
  if (given) return given;
  const detail = String(out.error_description ?? '');
  const clientId = String(params?.client_id ?? '');
  if (/redirect_uri did not match/.test(detail)) {
    return { code: 50011, text: `The redirect URI '${params?.redirect_uri ?? ''}' specified in the request does not match the redirect URIs configured for the application '${clientId}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal.` };
  }
  if (out.error === 'invalid_client' || /client is invalid|client not found/.test(detail)) {
    return { code: 700016, text: `Application with identifier '${clientId}' was not found in the directory '${TENANT_ID}'.` };
  }
  if (/post_logout_redirect_uri/.test(detail)) return { code: 50011, text: detail };
  return { code: 900144, text: `The request is invalid (${out.error}${detail ? `: ${detail}` : ''}).` };
}

// ---------------------------------------------------------------------------------------------
// oidc-provider drops `offline_access` from an authorization request unless prompt=consent is
// also sent (OIDC Core 11). Entra issues a refresh token whenever offline_access is asked for.
// The raw handler below marks such requests with this extra parameter (it survives the
// sign-in round trip inside the interaction), and loadExistingGrant puts offline_access back
// into the request's scope; from there oidc-provider's own issueRefreshToken and
// expiresWithSession defaults do the rest, and refresh requests may repeat offline_access.
const OFFLINE_MARKER = 'x_sandbox_offline_access';

// The `claims` request parameter (continuous access evaluation, e.g.
// {"access_token":{"acrs":{"essential":true,"value":"c1"}}}) is not something oidc-provider's
// claimsParameter feature accepts (it wants userinfo / id_token members). The raw handler strips
// it, counts it, and carries its value in this extra parameter through the sign-in round trip;
// the code issued for that request is remembered (claimsByCode) and the access token redeemed
// with it gets `xms_cc_satisfied: true` (and `acrs` when the request named some).
const CLAIMS_MARKER = 'x_sandbox_claims';

// ---------------------------------------------------------------------------------------------
// Interaction policy: Entra-like error descriptions, plus prompt=select_account.

const policy = interactionPolicy.base();
policy.get('login').checks.get('no_session').description = AADSTS.noSession;
for (const check of policy.get('consent').checks) {
  // Made client-specific (Entra names the app) when the redirect goes out: authorizeErrorCode.
  if (check.error === 'consent_required') check.description = 'AADSTS65001: The user or administrator has not consented to use the application.';
}
policy.add(new interactionPolicy.Prompt({ name: 'select_account', requestable: true }), 0);

// ---------------------------------------------------------------------------------------------
// Provider configuration.

// Every "Single-page application" registration (config.mjs): public, PKCE S256 (pkce.required
// below), token-endpoint CORS for its own origins only (clientBasedCORS below).
const spaClients = SPA_CLIENTS.map((c) => ({
  client_id: c.client_id,
  client_name: c.client_name,
  application_type: 'web',
  token_endpoint_auth_method: 'none',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  redirect_uris: c.redirect_uris,
  post_logout_redirect_uris: c.post_logout_redirect_uris,
}));
const ALL_REDIRECT_URIS = spaClients.flatMap((c) => c.redirect_uris);

const daemonClient = {
  client_id: DAEMON_CLIENT_ID,
  client_name: 'Nimbus daemon',
  client_secret: DAEMON_CLIENT_SECRET,
  // oidc-provider accepts client_secret_basic as well for a client registered with either method.
  token_endpoint_auth_method: 'client_secret_post',
  grant_types: ['client_credentials'],
  response_types: [],
  redirect_uris: [],
};

async function findAccount(ctx, sub) {
  const user = usersBySub.get(sub);
  if (!user) return undefined;
  return {
    accountId: user.sub,
    async claims() {
      return {
        sub: user.sub,
        name: user.name,
        preferred_username: user.preferred_username,
        email: user.preferred_username,
        oid: user.oid,
        tid: TENANT_ID,
        ver: '2.0',
        // Entra's optional claim: what the app sends back as logout_hint (or login_hint).
        login_hint: user.login_hint,
      };
    },
  };
}

async function loadExistingGrant(ctx) {
  const { oidc } = ctx;

  if (oidc.params[OFFLINE_MARKER] === '1' && oidc.client.grantTypeAllowed('refresh_token')) {
    const requested = new Set(String(oidc.params.scope ?? '').split(' ').filter(Boolean));
    if (!requested.has('offline_access')) {
      requested.add('offline_access');
      oidc.params.scope = [...requested].join(' ');
    }
  }

  const { accountId } = oidc.session;
  const { clientId } = oidc.client;
  const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(clientId);
  let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
  if (!grant || grant.accountId !== accountId || grant.clientId !== clientId) {
    grant = new oidc.provider.Grant({ accountId, clientId });
  }

  // Pre-consented scopes (like tenant-wide admin consent) plus what this user accepted before.
  // (Grant#addOIDCScope does not de-duplicate the first value it is given, hence the Sets.)
  const remembered = [...(consents.get(accountId) ?? [])];
  grant.addOIDCScope([...new Set([...PRECONSENTED_OIDC_SCOPES, ...remembered.filter((s) => !isApiScope(s))])].join(' '));
  grant.addResourceScope(API_RESOURCE, [...new Set([...PRECONSENTED_API_SCOPES, ...remembered.filter(isApiScope)])].join(' '));
  await grant.save();
  return grant;
}

function grantTypeOf(ctx) {
  return ctx.oidc?.params?.grant_type ?? ctx.oidc?.body?.grant_type;
}

async function defaultResource(ctx, client, oneOf) {
  if (oneOf) return oneOf.includes(API_RESOURCE) ? API_RESOURCE : oneOf[0];
  const scopes = String(ctx.oidc.params.scope ?? '').split(' ').filter(Boolean);
  if (grantTypeOf(ctx) === 'client_credentials') {
    if (scopes.length !== 1 || scopes[0] !== `${API_RESOURCE}/.default`) {
      throw new errors.InvalidScope(
        `AADSTS1002012: The provided value for scope ${scopes.join(' ') || '(none)'} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
        scopes.join(' ') || undefined,
      );
    }
    return API_RESOURCE;
  }
  // Entra style: no `resource` parameter; the api://{id}/... scopes name the resource.
  return scopes.some(isApiScope) ? API_RESOURCE : undefined;
}

async function getResourceServerInfo(ctx, resourceIndicator, client) {
  if (resourceIndicator !== API_RESOURCE) {
    throw new errors.InvalidTarget(`AADSTS500011: The resource principal named ${resourceIndicator} was not found in the tenant.`);
  }
  return {
    scope: client.clientId === DAEMON_CLIENT_ID
      ? `${API_RESOURCE}/.default`
      : Object.keys(API_SCOPES).join(' '),
    audience: API_CLIENT_ID,
    accessTokenTTL: runtime.access_ttl,
    accessTokenFormat: 'jwt',
    jwt: { sign: { alg: 'RS256' } },
  };
}

async function extraTokenClaims(ctx, token) {
  if (token.kind === 'ClientCredentials') {
    if (token.clientId !== DAEMON_CLIENT_ID) return undefined;
    return {
      roles: [...DAEMON_ROLES],
      oid: DAEMON_SP_OID,
      tid: TENANT_ID,
      azp: DAEMON_CLIENT_ID,
      appid: DAEMON_CLIENT_ID,
      azpacr: '1',
      idtyp: 'app',
      ver: '2.0',
    };
  }
  if (token.kind === 'AccessToken') {
    const user = usersBySub.get(token.accountId);
    const scp = String(token.scope ?? '').split(' ').filter(Boolean).map(shortScope).join(' ');
    // Continuous access evaluation. A claims *challenge* answered by the authorization request
    // behind the code (claimsByCode), or by a refresh_token request's own `claims`, gives
    // xms_cc_satisfied (and acrs). Client *capabilities* (xms_cc, MSAL's clientCapabilities)
    // declared at sign-in or on this token request give Entra's `xms_cc` claim; a sign-in that
    // declared them makes every access token of its grant carry it (capabilityGrants).
    const { entities } = ctx?.oidc ?? {};
    const code = entities?.AuthorizationCode;
    const grantType = grantTypeOf(ctx);
    let bodyClaims;
    try { bodyClaims = ctx?.oidc?.body?.claims; } catch { bodyClaims = undefined; }
    const fromBody = typeof bodyClaims === 'string' && bodyClaims ? parseClaimsRequest(bodyClaims) : undefined;
    const fromCode = code?.jti ? claimsByCode.get(code.jti) : undefined;
    const challenge = fromCode?.challenge ? fromCode : (grantType === 'refresh_token' && fromBody?.challenge ? fromBody : undefined);
    const grantId = token.grantId ?? code?.grantId ?? entities?.RefreshToken?.grantId;
    if (fromCode?.capabilities.length && grantId) {
      if (capabilityGrants.size >= MAX_TRACKED) capabilityGrants.delete(capabilityGrants.values().next().value);
      capabilityGrants.set(grantId, fromCode.capabilities);
    }
    const capabilities = [...new Set([
      ...(fromCode?.capabilities ?? []), ...(fromBody?.capabilities ?? []),
      ...(grantId ? capabilityGrants.get(grantId) ?? [] : []),
    ])];
    return {
      ...(scp ? { scp } : undefined),
      ...(capabilities.length ? { xms_cc: capabilities } : undefined),
      ...(challenge ? { xms_cc_satisfied: true, ...(challenge.acrs.length ? { acrs: challenge.acrs } : undefined) } : undefined),
      name: user?.name,
      preferred_username: user?.preferred_username,
      oid: user?.oid,
      tid: TENANT_ID,
      azp: token.clientId,
      azpacr: '0',
      ver: '2.0',
    };
  }
  return undefined;
}

async function customizeJwt(ctx, token, jwt) {
  // Entra access tokens: header typ "JWT", no `scope` / `client_id` claims (scp / azp instead).
  jwt.header = { typ: 'JWT' };
  delete jwt.payload.scope;
  delete jwt.payload.client_id;
  jwt.payload.nbf = jwt.payload.iat;
  if (token.kind === 'ClientCredentials' && token.clientId === DAEMON_CLIENT_ID) {
    jwt.payload.sub = DAEMON_SP_OID;
  }
}

function refreshTokenTTL(ctx) {
  // Fixed lifetime from sign-in: a rotated refresh token inherits what is left, never more.
  const rotated = ctx?.oidc?.entities?.RotatedRefreshToken;
  if (rotated) return Math.max(1, rotated.remainingTTL);
  return runtime.refresh_ttl;
}

const signingKey = generateSigningKey();
const verifyKey = crypto.createPublicKey({ key: { kty: 'RSA', n: signingKey.n, e: signingKey.e }, format: 'jwk' });
/** The real key in the shape hostile.mjs uses. */
const realKey = {
  privateKey: crypto.createPrivateKey({
    key: {
      kty: 'RSA', n: signingKey.n, e: signingKey.e, d: signingKey.d, p: signingKey.p, q: signingKey.q, dp: signingKey.dp, dq: signingKey.dq, qi: signingKey.qi,
    },
    format: 'jwk',
  }),
  publicKey: verifyKey,
  publicJwk: {
    kty: 'RSA', use: 'sig', alg: 'RS256', kid: signingKey.kid, n: signingKey.n, e: signingKey.e,
  },
};

/** The payload of an ID token we issued (any of our current signing keys), or undefined. */
function verifiedIdTokenPayload(jwt) {
  try {
    const [h, p, sig] = String(jwt).split('.');
    const header = JSON.parse(Buffer.from(h, 'base64url'));
    const payload = JSON.parse(Buffer.from(p, 'base64url'));
    const keys = [verifyKey, hostile.rotatedKey?.publicKey].filter(Boolean);
    const ok = header.alg === 'RS256' && payload.iss === ISSUER
      && keys.some((k) => crypto.verify('RSA-SHA256', Buffer.from(`${h}.${p}`), k, Buffer.from(sig, 'base64url')));
    return ok ? payload : undefined;
  } catch {
    return undefined;
  }
}

// Cookies. Over plain http (default) SameSite=Lax without `secure`. In https mode like Entra's
// (SameSite=None; Secure): seen from an http://localhost app the provider is then another site
// (schemeful same-site), so in a hidden iframe they are third-party cookies, as with Entra.
const cookieSameSite = HTTPS ? 'none' : 'lax';

const provider = new Provider(ISSUER, {
  clients: [...spaClients, daemonClient],
  jwks: { keys: [signingKey] },
  cookies: {
    keys: [crypto.randomBytes(32).toString('base64url')],
    names: {
      session: 'nimbus_idp_session',
      interaction: 'nimbus_idp_interaction',
      resume: 'nimbus_idp_resume',
    },
    // oidc-provider adds `secure` when the request came over TLS (https mode).
    // Cookies ignore ports, so keep the session cookie off the SPA's and the API's paths.
    long: { httpOnly: true, sameSite: cookieSameSite, path: `/${TENANT_ID}/` },
    short: { httpOnly: true, sameSite: cookieSameSite },
  },
  claims: {
    acr: null,
    auth_time: null,
    iss: null,
    sid: null,
    openid: ['sub', 'tid', 'ver', 'login_hint'],
    profile: ['name', 'preferred_username', 'oid'],
    email: ['email'],
  },
  scopes: ['openid', 'profile', 'email', 'offline_access'],
  conformIdTokenClaims: false, // profile claims go into the ID token, as with Entra
  responseTypes: ['code'],
  clientAuthMethods: ['none', 'client_secret_post', 'client_secret_basic'],
  pkce: { required: (ctx, client) => client.clientAuthMethod === 'none' },
  clientBasedCORS(ctx, origin, client) {
    // Per registration: only the origins of that SPA's own redirect URIs.
    return SPA_CLIENTS_BY_ID.get(client.clientId)?.origins.includes(origin) ?? false;
  },
  extraParams: [OFFLINE_MARKER, CLAIMS_MARKER],
  routes: {
    authorization: PATHS.authorize,
    token: PATHS.token,
    end_session: PATHS.logout,
    jwks: PATHS.keys,
    // Not enabled below; kept under the tenant anyway.
    userinfo: `/${TENANT_ID}/openid/userinfo`,
    revocation: `/${TENANT_ID}/oauth2/v2.0/revoke`,
    introspection: `/${TENANT_ID}/oauth2/v2.0/introspect`,
  },
  features: {
    devInteractions: { enabled: false },
    dPoP: { enabled: false },
    userinfo: { enabled: false },
    revocation: { enabled: false },
    introspection: { enabled: false },
    registration: { enabled: false },
    pushedAuthorizationRequests: { enabled: false },
    clientCredentials: { enabled: true },
    // Advertised (claims_parameter_supported) as Entra does; the raw handler takes `claims` out of
    // authorization requests before oidc-provider sees them (see CLAIMS_MARKER).
    claimsParameter: { enabled: true },
    // Enabled for discovery's end_session_endpoint only: the sandbox answers /logout itself
    // (logoutRoute below: GET only, Entra's logout_hint), so oidc-provider's routes are never reached.
    rpInitiatedLogout: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource,
      useGrantedResource: async () => true,
      getResourceServerInfo,
    },
  },
  formats: { customizers: { jwt: customizeJwt } },
  extraTokenClaims,
  findAccount,
  loadExistingGrant,
  interactions: {
    policy,
    url: (ctx, interaction) => `${PATHS.login}/${interaction.uid}`,
  },
  rotateRefreshToken: true,
  ttl: {
    AccessToken: () => runtime.access_ttl,
    ClientCredentials: () => runtime.access_ttl,
    AuthorizationCode: 300,
    IdToken: 3600,
    Interaction: 3600,
    RefreshToken: refreshTokenTTL,
    Session: 14 * 24 * 3600,
    Grant: () => Math.max(14 * 24 * 3600, runtime.refresh_ttl + 24 * 3600),
  },
  async renderError(ctx, out) {
    let params;
    try { params = ctx.oidc?.params; } catch { params = undefined; }
    const { code, text } = errorPageCode(out, params);
    const shaped = entraError(out.error, code, text, { correlationId: correlationIdOf(ctx.req) });
    ctx.type = 'html';
    ctx.body = pages.errorPage('Sorry, but we’re having trouble signing you in.', {
      error: shaped.error, error_description: shaped.error_description, ...(out.state ? { state: out.state } : undefined),
    });
  },
});

// ---------------------------------------------------------------------------------------------
// Token endpoint: one log line per request, counters, Entra-style error descriptions.

const grantErrors = new WeakMap();
provider.on('grant.error', (ctx, err) => grantErrors.set(ctx, err));
provider.on('server_error', (ctx, err) => console.error(`server_error path=${ctx.path}`, err));

/** Entra's code and text for an oidc-provider token-endpoint error. */
function entraTokenError(err, body, grantType, { refreshLifetime = runtime.refresh_ttl, origin } = {}) {
  const detail = err?.error_detail ?? '';
  const description = err?.error_description ?? body?.error_description ?? '';
  const cause = err?.cause?.message ?? '';
  const error = body?.error ?? err?.error ?? 'invalid_request';
  const given = splitAadsts(description);
  if (given) return given;
  switch (error) {
    case 'invalid_grant':
      if (detail === 'refresh token is expired') {
        return { code: 700084, text: `The refresh token was issued to a single page app (SPA), and therefore has a fixed, limited lifetime of ${refreshLifetime} seconds, which cannot be extended. It is now expired and a new sign in request must be sent by the SPA to the sign in page.` };
      }
      if (detail === 'authorization code already consumed') {
        return { code: 54005, text: 'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.' };
      }
      if (/code_verifier|code_challenge/.test(cause) || /PKCE/.test(detail)) {
        return { code: 501481, text: 'The Code_Verifier does not match the code_challenge supplied in the authorization request.' };
      }
      if (/redirect_uri/.test(detail)) {
        return { code: 50011, text: `The redirect URI specified in the request does not match the redirect URI used in the authorization request (${detail}).` };
      }
      if (detail === 'refresh token already used') {
        return { code: 70000, text: 'The provided grant is invalid: the refresh token was already used (rotated) and every token of this sign-in has been revoked.' };
      }
      if (/expired|not found|revoked/.test(detail) || detail === 'grant request is invalid') {
        return { code: 70008, text: `The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource. (${detail})` };
      }
      return { code: 70000, text: `The provided ${grantType === 'refresh_token' ? 'refresh token' : 'grant'} is invalid or malformed (${detail || 'grant request is invalid'}).` };
    case 'invalid_client':
      if (detail === 'invalid secret provided') return { code: 7000215, text: 'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.' };
      if (/not found/.test(detail)) return { code: 700016, text: `Application with identifier '${body?.client_id ?? ''}' was not found in the directory '${TENANT_ID}'.` };
      return { code: 7000218, text: `The request body must contain the following parameter: 'client_assertion' or 'client_secret' (${detail || description}).` };
    case 'invalid_request':
      if (/^origin .* not allowed for client/.test(description)) {
        return { code: 9002326, text: `Cross-origin token redemption is permitted only for the 'Single-Page Application' client-type. Request origin: '${origin ?? ''}'.` };
      }
      if (/code_verifier/.test(description)) return { code: 9002325, text: 'Proof Key for Code Exchange is required for cross-origin authorization code redemption.' };
      if (/missing required parameter/.test(description)) {
        const name = /'([^']+)'/.exec(description)?.[1] ?? description.replace(/^missing required parameter\s*/, '');
        return { code: 900144, text: `The request body must contain the following parameter: '${name}'.` };
      }
      return { code: 90014, text: `The request is invalid (${description || 'invalid_request'}).` };
    case 'invalid_scope':
      return { code: 70011, text: `The provided value for the input parameter 'scope' is not valid (${description}).` };
    case 'invalid_target':
      return { code: 500011, text: description || 'The resource principal was not found in the tenant.' };
    case 'unsupported_grant_type':
      return { code: 70003, text: `The app requested an unsupported grant type '${grantType ?? ''}'.` };
    case 'unauthorized_client':
      return { code: 700025, text: `The client is not allowed to use this grant type (${description}).` };
    case 'temporarily_unavailable':
      return { code: 50196, text: 'The server terminated an operation because it encountered a client request loop. Please retry later.' };
    default:
      return { code: 50000, text: `There was an error issuing a token or an issue with our sign-in service (${error}${description ? `: ${description}` : ''}).` };
  }
}

const safeLogValue = (v) => (v === undefined || v === null || v === '' ? '-' : String(v).replace(/[^\w.:/@-]/g, '_').slice(0, 100));

function basicAuthClientId(header) {
  const m = /^basic\s+(\S+)$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 1) return undefined;
  try { return decodeURIComponent(decoded.slice(0, i)); } catch { return undefined; }
}

const KNOWN_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access', ...Object.keys(API_SCOPES)]);

/** Entra's answer to a refresh asking for a scope the user never consented to. */
function consentRequiredOnRefresh(scopes, clientId, correlationId) {
  return entraError('invalid_grant', 65001, `${AADSTS.consentText(clientId)} (scopes: ${scopes.join(' ')})`, {
    correlationId, extra: { suberror: 'consent_required' },
  });
}

function rememberRedeemed(hash) {
  if (redeemedRefreshTokens.size >= MAX_TRACKED) {
    redeemedRefreshTokens.delete(redeemedRefreshTokens.values().next().value);
  }
  redeemedRefreshTokens.add(hash);
}

function logHostile(target, mode) {
  console.log(`hostile applied target=${target} mode=${mode}`);
}

/** Token responses: log line, counters, reuse accounting, Entra-style errors, hostile modes. */
async function afterTokenRequest(ctx) {
  let body;
  try { body = ctx.oidc?.body; } catch { body = undefined; }
  const grantType = body?.grant_type;
  let clientId;
  try { clientId = ctx.oidc?.entities?.Client?.clientId; } catch { clientId = undefined; }
  clientId ??= body?.client_id ?? basicAuthClientId(ctx.get('authorization'));

  // Never log codes, tokens, verifiers or secrets: only these two values.
  console.log(`token grant_type=${safeLogValue(grantType)} client_id=${safeLogValue(clientId)}`);

  if (GRANT_TYPES.includes(grantType)) {
    stats.token_requests[grantType] += 1;
    if (ctx.status >= 400) stats.token_failures[grantType] += 1;
  }

  const err = grantErrors.get(ctx);

  if (typeof body?.claims === 'string' && body.claims) {
    const claims = parseClaimsRequest(body.claims);
    if (claims.challenge) {
      if (grantType === 'refresh_token') stats.claims_token_requests += 1;
    } else if (claims.capabilities.length) {
      stats.capability_token_requests += 1;
    }
  }

  if (grantType === 'refresh_token' && typeof body.refresh_token === 'string' && body.refresh_token) {
    // Reuse = presenting a token that an earlier request already redeemed (and so rotated away).
    // oidc-provider's own detection covers two requests racing with the same token.
    const hash = tokenHash(body.refresh_token);
    if (redeemedRefreshTokens.has(hash) || err?.error_detail === 'refresh token already used') {
      stats.refresh_reuse += 1;
      console.log('refresh_reuse detected');
    }
    if (ctx.status === 200) rememberRedeemed(hash);
  }

  if (ctx.status >= 400 && ctx.body && typeof ctx.body === 'object') {
    const correlationId = correlationIdOf(ctx.req);
    if (grantType === 'refresh_token' && err?.error === 'invalid_scope'
      && /^refresh token missing requested scope/.test(err.error_description ?? '')) {
      const missing = String(err.scope ?? '').split(' ').filter(Boolean);
      if (missing.every((s) => KNOWN_SCOPES.has(s))) {
        ctx.body = consentRequiredOnRefresh(missing, clientId, correlationId);
      } else {
        ctx.body = entraError('invalid_scope', 70011, `The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope ${missing.join(' ')} is not valid.`, { correlationId });
      }
    } else {
      let refreshLifetime;
      if (err?.error_detail === 'refresh token is expired') {
        try {
          const rt = await provider.RefreshToken.find(body.refresh_token, { ignoreExpiration: true });
          if (rt?.exp && rt?.iiat) refreshLifetime = rt.exp - rt.iiat;
        } catch { refreshLifetime = undefined; }
      }
      const { code, text } = entraTokenError(err, { ...ctx.body, client_id: clientId }, grantType, { refreshLifetime, origin: ctx.get('origin') });
      ctx.body = entraError(ctx.body.error ?? 'invalid_request', code, text, { correlationId });
    }
  }

  // Entra's extras on a user's token response: client_info when asked for (MSAL.js sends
  // client_info=1 and builds its account id from it) and ext_expires_in.
  if (ctx.status === 200 && ctx.body && typeof ctx.body === 'object' && ctx.body.access_token) {
    let account;
    try { account = usersBySub.get(ctx.oidc?.entities?.Account?.accountId); } catch { account = undefined; }
    const extra = {};
    if (typeof ctx.body.expires_in === 'number') extra.ext_expires_in = ctx.body.expires_in;
    if (account && body?.client_info === '1') {
      extra.client_info = Buffer.from(JSON.stringify({ uid: account.oid, utid: TENANT_ID })).toString('base64url');
    }
    if (Object.keys(extra).length) ctx.body = { ...ctx.body, ...extra };
  }

  // ---- hostile scope without_read: the answer names what was granted ----
  if (ctx.status === 200 && ctx.body && typeof ctx.body === 'object' && ctx.req.sandboxGrantedScope !== undefined && !ctx.body.scope) {
    ctx.body = { ...ctx.body, scope: ctx.req.sandboxGrantedScope };
  }

  // ---- hostile: ID token key rotation and one-shot id_token defect ----
  if (ctx.status === 200 && ctx.body && typeof ctx.body === 'object' && typeof ctx.body.id_token === 'string') {
    let idToken = ctx.body.id_token;
    if (hostile.rotatedKey) idToken = hostileLib.resign(idToken, hostile.rotatedKey);
    if (grantType === 'authorization_code' && hostile.id_token) {
      const mode = hostile.id_token;
      hostile.id_token = null;
      if (mode === 'missing_kid_multi') hostile.decoyKey ??= hostileLib.newRsaKey();
      const { jwt, note } = hostileLib.tamperIdToken(idToken, mode, hostile.rotatedKey ?? realKey);
      idToken = jwt;
      hostile.lastNote = { target: 'id_token', mode, ...note };
      logHostile('id_token', mode);
    }
    if (grantType === 'refresh_token' && hostile.refresh_id_token) {
      const mode = hostile.refresh_id_token;
      hostile.refresh_id_token = null;
      const { jwt, note } = hostileLib.tamperIdToken(idToken, mode, hostile.rotatedKey ?? realKey);
      idToken = jwt;
      hostile.lastNote = { target: 'refresh_id_token', mode, ...note };
      logHostile('refresh_id_token', mode);
    }
    ctx.body = { ...ctx.body, id_token: idToken };
  }

  // ---- hostile: one-shot token response defects that need the real response ----
  const mode = hostile.token;
  if (grantType === 'authorization_code' && mode && !hostileLib.TOKEN_SHORT_CIRCUIT.has(mode)) {
    if (mode === 'no_cors') {
      hostile.token = null;
      ctx.remove('Access-Control-Allow-Origin');
      ctx.remove('Access-Control-Expose-Headers');
      hostile.lastNote = { target: 'token', mode };
      logHostile('token', mode);
    } else if (ctx.status === 200 && ctx.body && typeof ctx.body === 'object') {
      hostile.token = null;
      const out = { ...ctx.body };
      switch (mode) {
        case 'missing_access_token': delete out.access_token; break;
        case 'token_type_mac': out.token_type = 'MAC'; break;
        case 'missing_expires_in': delete out.expires_in; delete out.ext_expires_in; break;
        case 'absurd_expires_in': out.expires_in = 10 ** 12; break;
        default: break; // truncated_json, below
      }
      if (mode === 'truncated_json') {
        const text = JSON.stringify(out);
        ctx.body = text.slice(0, Math.floor(text.length / 2));
        ctx.type = 'application/json';
      } else {
        ctx.body = out;
      }
      hostile.lastNote = { target: 'token', mode };
      logHostile('token', mode);
    }
  }
}

function isRegisteredRedirect(location) {
  // Query-mode responses only (what the Nimbus SPA asks for; hostile rewrites are query-only).
  return ALL_REDIRECT_URIS.some((u) => location.startsWith(`${u}?`));
}

/**
 * Entra's front-channel errors: error_description "AADSTSnnnnn: text\r\nTrace ID: ...\r\nCorrelation
 * ID: ...\r\nTimestamp: ..." and error_uri, in query or fragment responses to a registered
 * redirect URI. Returns the new Location, or undefined when there is no error to shape.
 */
function shapeAuthorizeError(location, clientId, correlationId) {
  const uri = ALL_REDIRECT_URIS.find((u) => location.startsWith(`${u}?`) || location.startsWith(`${u}#`));
  if (!uri) return undefined;
  const sep = location[uri.length];
  const q = new URLSearchParams(location.slice(uri.length + 1));
  const error = q.get('error');
  if (!error || q.getAll('error').length !== 1) return undefined;
  if (/\r\nTrace ID: /.test(q.get('error_description') ?? '')) return undefined;
  const { code, text } = authorizeErrorCode(error, q.get('error_description'), clientId);
  const shaped = entraError(error, code, text, { correlationId });
  q.set('error_description', shaped.error_description);
  q.set('error_uri', shaped.error_uri);
  return `${uri}${sep}${q}`;
}

/**
 * The `claims` request parameter, parsed. It answers a claims *challenge* (continuous access
 * evaluation) when it asks for something in `access_token` other than `xms_cc` (e.g. acrs, nbf),
 * for an ID-token claim as essential or with a value, for any other member, or is not a JSON
 * object. Otherwise it only declares client capabilities (access_token.xms_cc: MSAL's
 * clientCapabilities ["CP1"]) and/or asks for optional ID-token claims the way MSAL.js always does
 * ({"id_token":{"login_hint":{"essential":false},...}}): not a challenge.
 */
function parseClaimsRequest(raw) {
  const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
  let parsed;
  try { parsed = JSON.parse(raw); } catch { parsed = undefined; }
  const at = isObject(parsed) && isObject(parsed.access_token) ? parsed.access_token : {};
  const xmsCc = isObject(at.xms_cc) ? at.xms_cc : {};
  let values = [];
  if (Array.isArray(xmsCc.values)) values = xmsCc.values;
  else if (typeof xmsCc.value === 'string') values = [xmsCc.value];
  const capabilities = [...new Set(values.filter((v) => typeof v === 'string' && /^[\w.-]{1,32}$/.test(v)).map((v) => v.toLowerCase()))];
  const optionalOnly = (member) => member === undefined || (isObject(member) && Object.values(member).every(
    (req) => req === null || (isObject(req) && req.essential !== true && !('value' in req) && !('values' in req)),
  ));
  const challenge = !isObject(parsed)
    || Object.keys(parsed).some((k) => k !== 'access_token' && k !== 'id_token')
    || ('access_token' in parsed && !isObject(parsed.access_token))
    || Object.keys(at).some((k) => k !== 'xms_cc')
    || !optionalOnly(parsed.id_token);
  let acrs = [];
  if (typeof at.acrs?.value === 'string') acrs = [at.acrs.value];
  else if (Array.isArray(at.acrs?.values)) acrs = at.acrs.values.filter((v) => typeof v === 'string');
  return {
    raw, acrs, capabilities, challenge,
  };
}

/** Authorization (and resume) responses: remember `claims` codes; hostile authorize rewrite. */
function afterAuthorization(ctx) {
  let params;
  let code;
  try {
    params = ctx.oidc?.params;
    code = ctx.oidc?.entities?.AuthorizationCode;
  } catch {
    params = undefined;
  }
  const claims = params?.[CLAIMS_MARKER];
  if (code?.jti && typeof claims === 'string' && claims) {
    if (claimsByCode.size >= 1000) claimsByCode.delete(claimsByCode.keys().next().value);
    claimsByCode.set(code.jti, parseClaimsRequest(claims));
  }

  if (ctx.status >= 300 && ctx.status < 400) {
    const location = ctx.response.get('Location');
    const shaped = location ? shapeAuthorizeError(location, String(params?.client_id ?? ''), correlationIdOf(ctx.req)) : undefined;
    if (shaped) ctx.set('Location', shaped);
  }

  if (hostile.authorize && ctx.status >= 300 && ctx.status < 400) {
    const location = ctx.response.get('Location');
    if (location && isRegisteredRedirect(location)) {
      const mode = hostile.authorize;
      hostile.authorize = null;
      ctx.set('Location', hostileLib.rewriteAuthorizationResponse(location, mode));
      ctx.type = 'text/plain';
      ctx.body = 'Redirecting.';
      hostile.lastNote = { target: 'authorize', mode };
      logHostile('authorize', mode);
    }
  }
}

provider.use(async (ctx, next) => {
  await next();
  if (ctx.path === PATHS.token && ctx.method === 'POST') {
    await afterTokenRequest(ctx);
  } else if (ctx.path.startsWith(PATHS.authorize)) {
    afterAuthorization(ctx);
  }
});

// Sessions, for POST /__sandbox/end-sessions.
provider.on('session.saved', (session) => { sessionIds.add(session.jti); });
provider.on('session.destroyed', (session) => { sessionIds.delete(session.jti); });

// ---------------------------------------------------------------------------------------------
// Refresh with more scopes than the refresh token carries. Entra's refresh tokens cover every
// scope the user has consented to for the app; oidc-provider's only the scopes of their code.
// So before the refresh_token grant checks the requested scope against the token, scopes the user
// has consented to (pre-consented, or accepted on the consent page) are added to the token and its
// grant. Anything else still fails that check, answered as Entra does (AADSTS65001, above).

const RefreshTokenModel = provider.RefreshToken;
const findRefreshToken = RefreshTokenModel.find;
RefreshTokenModel.find = async function find(value, options) {
  const token = await findRefreshToken.call(this, value, options);
  if (token) {
    try {
      await widenToConsentedScopes(token);
    } catch (err) {
      console.error('widenToConsentedScopes failed', err);
    }
  }
  return token;
};

async function widenToConsentedScopes(token) {
  const ctx = Provider.ctx;
  let params;
  try { params = ctx?.oidc?.params; } catch { params = undefined; }
  if (!params || params.grant_type !== 'refresh_token' || !params.scope || !token.accountId) return;
  const have = token.scopes;
  const missing = [...new Set(String(params.scope).split(' ').filter(Boolean))].filter((s) => !have.has(s));
  if (missing.length === 0) return;
  const consented = new Set([...PRECONSENTED_OIDC_SCOPES, ...PRECONSENTED_API_SCOPES, ...(consents.get(token.accountId) ?? [])]);
  const add = missing.filter((s) => consented.has(s));
  if (add.length === 0) return;
  const grant = token.grantId ? await provider.Grant.find(token.grantId) : undefined;
  if (!grant) return;
  const oidcScopes = add.filter((s) => !isApiScope(s));
  const apiScopes = add.filter(isApiScope);
  if (oidcScopes.length) grant.addOIDCScope(oidcScopes.join(' '));
  if (apiScopes.length) grant.addResourceScope(API_RESOURCE, apiScopes.join(' '));
  await grant.save();
  token.scope = [...have, ...add].join(' ');
}

// ---------------------------------------------------------------------------------------------
// Raw HTTP layer: routing, sign-in/consent pages, test helpers.

const providerCallback = provider.callback();

function send(res, status, body, headers = {}) {
  const isJson = typeof body === 'object' && body !== null;
  const payload = isJson ? JSON.stringify(body) : String(body ?? '');
  res.writeHead(status, {
    'content-type': isJson ? 'application/json; charset=utf-8' : 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(payload),
    ...headers,
  });
  res.end(payload);
}

async function readForm(req, limit = 64 * 1024) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > limit) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
}

const OIDC_SCOPE_DESCRIPTIONS = {
  openid: 'Sign you in',
  profile: 'View your basic profile',
  email: 'View your email address',
  offline_access: 'Maintain access to data you have given it access to',
};

function describeScope(scope) {
  return API_SCOPES[scope] ?? OIDC_SCOPE_DESCRIPTIONS[scope] ?? scope;
}

function consentScopes(details) {
  const { missingOIDCScope = [], missingResourceScopes = {} } = details.prompt.details ?? {};
  let scopes = [...missingOIDCScope, ...Object.values(missingResourceScopes).flat()];
  if (scopes.length === 0) {
    // prompt=consent with nothing missing: show what was asked for.
    scopes = String(details.params.scope ?? '').split(' ')
      .filter((s) => s && (s in OIDC_SCOPE_DESCRIPTIONS || s in API_SCOPES));
  }
  return [...new Set(scopes)];
}

async function interactionRoute(req, res, url) {
  const uid = url.pathname.slice(PATHS.login.length + 1).split('/')[0];
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch {
    send(res, 400, pages.errorPage('Sign-in session not found', {
      error: 'invalid_request',
      error_description: 'The sign-in session expired or was not found. Go back to the application and sign in again.',
    }));
    return;
  }
  if (!uid || details.uid !== uid) {
    send(res, 400, pages.errorPage('Sign-in session not found', {
      error: 'invalid_request',
      error_description: 'This sign-in page does not belong to the current sign-in session.',
    }));
    return;
  }

  const client = await provider.Client.find(String(details.params.client_id));
  const clientName = client?.clientName ?? String(details.params.client_id);
  const action = `${PATHS.login}/${uid}`;
  const promptName = details.prompt.name;

  if (req.method === 'GET') {
    if (promptName === 'consent') {
      const user = usersBySub.get(details.session?.accountId);
      const scopes = consentScopes(details).map((scope) => ({ scope, description: describeScope(scope) }));
      send(res, 200, pages.consentPage({
        action, clientName, account: user?.preferred_username ?? '', scopes,
      }));
    } else {
      // Entra's login_hint: a username, or the opaque login_hint claim value of an earlier ID token.
      const hint = details.params.login_hint;
      const username = typeof hint === 'string' ? (usersByLoginHint.get(hint)?.preferred_username ?? hint) : '';
      send(res, 200, pages.loginPage({ action, clientName, username }));
    }
    return;
  }

  if (req.method !== 'POST') {
    send(res, 405, 'Method Not Allowed', { allow: 'GET, POST' });
    return;
  }

  const form = await readForm(req);

  if (promptName === 'consent') {
    if (form.action === 'accept') {
      const { accountId } = details.session;
      const scopes = consentScopes(details);
      const remembered = consents.get(accountId) ?? new Set();
      scopes
        .filter((s) => !PRECONSENTED_OIDC_SCOPES.includes(s) && !PRECONSENTED_API_SCOPES.includes(s))
        .forEach((s) => remembered.add(s));
      consents.set(accountId, remembered);

      const clientId = String(details.params.client_id);
      let grant = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
      grant ??= new provider.Grant({ accountId, clientId });
      const oidcScopes = scopes.filter((s) => !isApiScope(s));
      const apiScopes = scopes.filter(isApiScope);
      if (oidcScopes.length) grant.addOIDCScope(oidcScopes.join(' '));
      if (apiScopes.length) grant.addResourceScope(API_RESOURCE, apiScopes.join(' '));
      const grantId = await grant.save();
      console.log(`consent user=${usersBySub.get(accountId)?.username ?? '-'} scopes=${scopes.map(shortScope).join(',')}`);
      await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    } else {
      await provider.interactionFinished(req, res, {
        error: 'consent_required',
        error_description: AADSTS.consent(String(details.params.client_id)),
      }, { mergeWithLastSubmission: false });
    }
    return;
  }

  // login (and select_account) prompt
  if (form.action === 'cancel') {
    await provider.interactionFinished(req, res, {
      error: 'access_denied',
      error_description: AADSTS.cancelled,
    }, { mergeWithLastSubmission: false });
    return;
  }

  const user = checkCredentials(form.username, form.password);
  if (!user) {
    send(res, 200, pages.loginPage({
      action, clientName, username: form.username ?? '', error: true,
    }));
    return;
  }

  console.log(`signin user=${user.username}`);
  await provider.interactionFinished(req, res, {
    ...(promptName === 'select_account' ? { select_account: {} } : undefined),
    login: { accountId: user.sub, amr: ['pwd'] },
  }, { mergeWithLastSubmission: false });
}

// ---- test helpers under /__sandbox/ ---------------------------------------------------------

function isLoopbackAddress(address) {
  let a = String(address ?? '');
  if (a.startsWith('::ffff:')) a = a.slice(7);
  return a === '::1' || /^127\.\d+\.\d+\.\d+$/.test(a);
}

function isLoopbackHost(host) {
  if (!host) return false;
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0];
  return ['localhost', '127.0.0.1', '[::1]'].includes(name.toLowerCase());
}

/** Why an admin request is refused, or undefined. Browsers always send Origin on POST. */
function adminRefusal(req) {
  if (!isLoopbackAddress(req.socket.remoteAddress)) return 'Sandbox admin endpoints answer loopback clients only.';
  if (req.headers.origin !== undefined) return 'Sandbox admin endpoints refuse requests with an Origin header (web pages cannot use them).';
  if (!isLoopbackHost(req.headers.host)) return 'Sandbox admin endpoints need Host localhost, 127.0.0.1 or [::1].';
  return undefined;
}

async function readRaw(req, limit = 64 * 1024) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req.iterator({ destroyOnReturn: false })) {
    size += chunk.length;
    if (size > limit) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

class BadRequest extends Error {}

async function readJson(req) {
  let text;
  try {
    text = (await readRaw(req)).toString('utf8').trim();
  } catch (err) {
    throw new BadRequest(err.message);
  }
  if (text === '') return {};
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new BadRequest('The body must be JSON.');
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new BadRequest('The body must be a JSON object.');
  return body;
}

function configBody(body) {
  const allowed = ['access_ttl', 'refresh_ttl'];
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
  if (unknown.length) throw new BadRequest(`Unknown field(s): ${unknown.join(', ')}. Allowed: ${allowed.join(', ')}.`);
  const present = allowed.filter((k) => k in body);
  if (present.length === 0) throw new BadRequest('Send access_ttl and/or refresh_ttl (seconds).');
  for (const k of present) {
    const n = body[k];
    if (!Number.isInteger(n) || n <= 0 || n > 10 * 365 * 24 * 3600) throw new BadRequest(`${k} must be a positive integer number of seconds.`);
  }
  return present;
}

function armHostile(body) {
  if (body.clear === true) {
    if (body.target !== undefined && !(body.target in hostileLib.MODES)) {
      throw new BadRequest(`Unknown target ${JSON.stringify(body.target)}. Targets: ${Object.keys(hostileLib.MODES).join(', ')}.`);
    }
    clearHostile(body.target);
    console.log(`hostile cleared target=${body.target ?? 'all'}`);
    return;
  }
  const { target, mode } = body;
  if (!(typeof target === 'string' && target in hostileLib.MODES)) {
    throw new BadRequest(`Unknown target ${JSON.stringify(target)}. Targets: ${Object.keys(hostileLib.MODES).join(', ')}; or {"clear": true}.`);
  }
  if (!hostileLib.MODES[target].includes(mode)) {
    throw new BadRequest(`Unknown mode ${JSON.stringify(mode)} for target ${target}. Modes: ${hostileLib.MODES[target].join(', ')}.`);
  }
  if (target === 'jwks') {
    hostile.jwks = mode;
    hostile.rotatedKey = mode === 'rotate' ? hostileLib.newRsaKey() : null;
    hostile.unusableJwks = mode === 'no_usable_key' ? hostileLib.unusableJwks(realKey.publicJwk) : null;
  } else {
    hostile[target] = mode;
  }
  // The decoy key is published from the moment the mode is armed, so a client that fetches the
  // JWKS while (not after) it redeems the code sees both keys too.
  if (target === 'id_token' && mode === 'missing_kid_multi') hostile.decoyKey ??= hostileLib.newRsaKey();
  console.log(`hostile armed target=${target} mode=${mode}`);
}

async function endSessions() {
  let ended = 0;
  for (const id of [...sessionIds]) {
    // eslint-disable-next-line no-await-in-loop
    await provider.Session.adapter.destroy(id);
    sessionIds.delete(id);
    ended += 1;
  }
  console.log(`end-sessions ended=${ended}`);
  return ended;
}

function resetAll() {
  for (const res of hungResponses) res.destroy(); // token requests held by hostile "hang"
  resetRuntime();
  clearHostile();
  resetStats();
  consents.clear();
  claimsByCode.clear();
  console.log('sandbox reset');
}

const ADMIN_ROUTES = new Set([
  'GET /__sandbox/config', 'POST /__sandbox/config', 'POST /__sandbox/end-sessions',
  'GET /__sandbox/hostile', 'POST /__sandbox/hostile', 'POST /__sandbox/reset',
]);

async function sandboxRoute(req, res, url) {
  const cors = { 'access-control-allow-origin': '*' };
  const route = `${req.method} ${url.pathname}`;
  // The original helpers: open to any caller, unchanged.
  switch (route) {
    case 'GET /__sandbox/health':
      send(res, 200, { ok: true, issuer: ISSUER }, cors);
      return;
    case 'GET /__sandbox/stats':
      send(res, 200, stats, cors);
      return;
    case 'POST /__sandbox/reset-stats':
      resetStats();
      send(res, 200, stats, cors);
      return;
    case 'POST /__sandbox/reset-consents':
      consents.clear();
      send(res, 200, { ok: true }, cors);
      return;
    default:
      break;
  }
  if (!ADMIN_ROUTES.has(route)) {
    send(res, 404, { error: 'not_found' });
    return;
  }
  const refusal = adminRefusal(req);
  if (refusal) {
    send(res, 403, { error: 'forbidden', error_description: refusal });
    return;
  }
  try {
    switch (route) {
      case 'GET /__sandbox/config':
        send(res, 200, { ...runtime });
        return;
      case 'POST /__sandbox/config': {
        const body = await readJson(req);
        for (const k of configBody(body)) runtime[k] = body[k];
        console.log(`config access_ttl=${runtime.access_ttl} refresh_ttl=${runtime.refresh_ttl}`);
        send(res, 200, { ...runtime });
        return;
      }
      case 'POST /__sandbox/end-sessions':
        await readJson(req);
        send(res, 200, { ended: await endSessions() });
        return;
      case 'GET /__sandbox/hostile':
        send(res, 200, hostileView());
        return;
      case 'POST /__sandbox/hostile':
        armHostile(await readJson(req));
        send(res, 200, hostileView());
        return;
      case 'POST /__sandbox/reset':
        await readJson(req);
        resetAll();
        send(res, 200, { ok: true, config: { ...runtime }, stats, hostile: hostileView() });
        return;
      default:
        send(res, 404, { error: 'not_found' });
    }
  } catch (err) {
    if (err instanceof BadRequest) {
      send(res, 400, { error: 'invalid_request', error_description: err.message });
      return;
    }
    throw err;
  }
}

// ---- hostile discovery, JWKS and token responses (answered here, before oidc-provider) -----------

/** Lets the provider fetch its own, untouched discovery document while discovery is hostile. */
const INTERNAL_HEADER = 'x-sandbox-internal';
const INTERNAL_SECRET = crypto.randomBytes(16).toString('hex');
let realDiscoveryText;

/** GET on this very server over loopback; over TLS it trusts exactly our certificate (`ca`). */
function selfGet(path, headers) {
  return new Promise((resolve, reject) => {
    const lib = HTTPS ? https : http;
    const req = lib.get({
      host: '127.0.0.1', port: PORT, path, headers: { host: new URL(ORIGIN).host, ...headers }, ...(HTTPS ? { ca: tls.cert, servername: 'localhost' } : undefined),
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

async function realDiscovery() {
  if (!realDiscoveryText) {
    const res = await selfGet(PATHS.discovery, { [INTERNAL_HEADER]: INTERNAL_SECRET });
    if (res.status !== 200) throw new Error(`own discovery answered ${res.status}`);
    realDiscoveryText = res.text;
  }
  return JSON.parse(realDiscoveryText);
}

const reflectOrigin = (req) => (req.headers.origin ? { 'access-control-allow-origin': req.headers.origin, vary: 'Origin' } : {});

async function hostileDiscovery(req, res) {
  const mode = hostile.discovery;
  if (mode === 'unreachable') {
    req.socket.destroy();
    return;
  }
  const doc = await realDiscovery();
  if (mode === 'issuer_mismatch') {
    send(res, 200, { ...doc, issuer: hostileLib.OTHER_ISSUER }, reflectOrigin(req));
    return;
  }
  // malformed_json
  const text = JSON.stringify(doc, null, 1);
  const payload = `${text.slice(0, Math.floor(text.length / 2))},,}`;
  res.writeHead(200, {
    'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(payload), ...reflectOrigin(req),
  });
  res.end(payload);
}

function hostileJwksActive() {
  return Boolean(hostile.jwks || hostile.decoyKey);
}

function serveHostileJwks(req, res) {
  let body;
  if (hostile.jwks === 'no_usable_key') {
    body = hostile.unusableJwks;
  } else {
    body = { keys: [realKey.publicJwk, hostile.rotatedKey?.publicJwk, hostile.decoyKey?.publicJwk].filter(Boolean) };
  }
  send(res, 200, body, { ...reflectOrigin(req), 'content-type': 'application/jwk-set+json; charset=utf-8' });
}

const hungResponses = new Set();

/** CORS headers for a token answer the sandbox gives itself: only for that client's own origins. */
function tokenCors(req, clientId) {
  const { origin } = req.headers;
  return origin && SPA_CLIENTS_BY_ID.get(clientId)?.origins.includes(origin)
    ? { 'access-control-allow-origin': origin, 'access-control-expose-headers': 'Retry-After', vary: 'Origin' }
    : { vary: 'Origin' };
}

/** A token request answered by the sandbox itself: log line and counters as for the others. */
function countEarlyToken(form, status) {
  const grant = form.get('grant_type');
  console.log(`token grant_type=${safeLogValue(grant)} client_id=${safeLogValue(form.get('client_id'))}`);
  if (GRANT_TYPES.includes(grant)) {
    stats.token_requests[grant] += 1;
    if (status >= 400) stats.token_failures[grant] += 1;
  }
}

/** Token modes answered without oidc-provider: the code is not redeemed. */
function shortCircuitToken(req, res, mode, form) {
  const status = { html_body: 200, status_400: 400, status_500: 500, status_429: 429 }[mode];
  if (status) countEarlyToken(form, status);
  else { stats.token_requests.authorization_code += 1; console.log(`token grant_type=authorization_code client_id=${safeLogValue(form.get('client_id'))}`); }
  hostile.lastNote = { target: 'token', mode };
  logHostile('token', mode);
  const cors = tokenCors(req, form.get('client_id'));
  const correlationId = correlationIdOf(req);
  switch (mode) {
    case 'html_body':
      send(res, 200, '<!DOCTYPE html><html><head><title>Network sign-in</title></head><body><h1>Sign in to the network</h1><p>Your session has expired. <a href="/">Continue</a></p></body></html>', cors);
      return;
    case 'status_400':
      send(res, 400, entraError('invalid_grant', 70000, 'The provided grant is invalid or malformed (sandbox hostile mode status_400).', { correlationId }), cors);
      return;
    case 'status_500':
      send(res, 500, '<!DOCTYPE html><html><head><title>500 Internal Server Error</title></head><body><h1>Internal Server Error</h1><p>The server encountered an unexpected condition.</p></body></html>', cors);
      return;
    case 'status_429':
      send(res, 429, entraError('temporarily_unavailable', 50196, 'The server terminated an operation because it encountered a client request loop. Please retry later.', { correlationId }), { ...cors, 'retry-after': '30' });
      return;
    case 'hang': {
      // Never answer; drop the connection after HANG_MS (or when the client gives up).
      const timer = setTimeout(() => res.destroy(), hostileLib.HANG_MS);
      timer.unref();
      hungResponses.add(res);
      res.on('close', () => {
        clearTimeout(timer);
        hungResponses.delete(res);
      });
      return;
    }
    default:
      throw new Error(`not a short-circuit token mode: ${mode}`);
  }
}

/**
 * Token requests, before oidc-provider: the body is read here (oidc-provider then takes it from
 * req.body) so the sandbox can answer some itself. Returns true when it answered.
 *  - hostile `token` modes that never reach oidc-provider (the code stays unredeemed);
 *  - Entra's AADSTS9002327: a code or refresh token of a "Single-page application" registration
 *    redeemed without an Origin header (not from a browser page).
 */
async function earlyTokenAnswer(req, res) {
  let raw;
  try {
    raw = await readRaw(req, 56 * 1024);
  } catch {
    send(res, 400, entraError('invalid_request', 90014, 'The request body is too large or could not be read.', { correlationId: correlationIdOf(req) }));
    return true;
  }
  req.body = raw;
  const form = new URLSearchParams(raw.toString('utf8'));
  const grant = form.get('grant_type');
  const mode = hostile.token;
  if (grant === 'authorization_code' && hostileLib.TOKEN_SHORT_CIRCUIT.has(mode)) {
    hostile.token = null;
    shortCircuitToken(req, res, mode, form);
    return true;
  }
  if (grant === 'refresh_token' && hostile.scope === 'without_read' && form.has('scope')) {
    // Granted without weather.read: the request goes on asking for the rest, so oidc-provider
    // issues (and its answer's `scope` lists) only that; the refresh token rotates as usual.
    const read = `${API_RESOURCE}/weather.read`;
    const kept = String(form.get('scope')).split(' ').filter((s) => s && s !== read);
    if (kept.length !== String(form.get('scope')).split(' ').filter(Boolean).length) {
      form.set('scope', kept.join(' '));
      req.body = Buffer.from(form.toString());
      // oidc-provider leaves `scope` out when the token's resource got none of its scopes;
      // Entra always lists what it granted (afterTokenRequest writes this in).
      req.sandboxGrantedScope = kept.join(' ');
      logHostile('scope', 'without_read');
    }
  }
  const clientId = form.get('client_id') ?? basicAuthClientId(req.headers.authorization);
  if (SPA_CLIENTS_BY_ID.has(clientId) && (grant === 'authorization_code' || grant === 'refresh_token') && !req.headers.origin) {
    countEarlyToken(form, 400);
    send(res, 400, entraError('invalid_request', 9002327, "Tokens issued for the 'Single-Page Application' client-type may only be redeemed via cross-origin requests.", { correlationId: correlationIdOf(req) }));
    return true;
  }
  return false;
}

// ---- sign-out: GET /{t}/oauth2/v2.0/logout, as Entra documents it ---------------------------------
//
// GET only (POST → 405). post_logout_redirect_uri with client_id, logout_hint (the ID token's
// login_hint claim) or id_token_hint. A hint naming the signed-in user signs out at once and
// redirects; without one the account picker (a confirmation page) comes first. The redirect URI
// must be registered for the client (client_id, the id_token_hint's aud, or else a client the
// session signed in to). oidc-provider's own end-session routes are never used: the provider
// session is ended here with its Session model.

/** Pending picker confirmations: id -> { sessionJti, uri, state, exp }. */
const pendingLogouts = new Map();
const LOGOUT_PICKER_TTL_MS = 10 * 60 * 1000;

function logoutErrorPage(req, res, code, text, status = 400) {
  const shaped = entraError('invalid_request', code, text, { correlationId: correlationIdOf(req) });
  send(res, status, pages.errorPage('Sorry, but we’re having trouble signing you out.', {
    error: shaped.error, error_description: shaped.error_description,
  }));
}

/** What oidc-provider's end-session confirmation does: revoke the grants that do not outlive the
 *  session (no offline_access), destroy the session, clear its cookie. */
async function endProviderSession(ctx, session) {
  for (const auth of Object.values(session.authorizations ?? {})) {
    if (auth?.grantId && !auth.persistsLogout) {
      // eslint-disable-next-line no-await-in-loop
      await Promise.all([
        provider.AccessToken.revokeByGrantId(auth.grantId),
        provider.AuthorizationCode.revokeByGrantId(auth.grantId),
        provider.RefreshToken.revokeByGrantId(auth.grantId),
        provider.Grant.adapter.destroy(auth.grantId),
      ]);
    }
  }
  await session.destroy();
  ctx.cookies.set(provider.cookieName('session'), null, {
    httpOnly: true, sameSite: cookieSameSite, path: `/${TENANT_ID}/`, secure: HTTPS,
  });
}

function finishLogout(res, uri, state) {
  if (!uri) {
    send(res, 200, pages.signedOutPage());
    return;
  }
  const target = new URL(uri);
  if (state) target.searchParams.set('state', state);
  res.writeHead(302, { location: target.href, 'cache-control': 'no-store', 'content-length': 0 });
  res.end();
}

async function logoutRoute(req, res, url) {
  const rest = url.pathname.slice(PATHS.logout.length);
  if (rest === '/confirm' && req.method === 'POST') {
    await logoutConfirm(req, res);
    return;
  }
  if (rest !== '') {
    send(res, 404, { error: 'not_found' });
    return;
  }
  if (req.method !== 'GET') {
    send(res, 405, entraError('invalid_request', 900561, `The endpoint only accepts GET requests. Received a ${req.method} request.`, { correlationId: correlationIdOf(req) }), { allow: 'GET' });
    return;
  }
  const q = url.searchParams;
  const dupe = ['post_logout_redirect_uri', 'client_id', 'logout_hint', 'id_token_hint', 'state'].find((n) => q.getAll(n).length > 1);
  if (dupe) {
    logoutErrorPage(req, res, 90015, `The parameter '${dupe}' is duplicated.`);
    return;
  }
  const clientIdParam = q.get('client_id') || undefined;
  if (clientIdParam && !SPA_CLIENTS_BY_ID.has(clientIdParam)) {
    logoutErrorPage(req, res, 700016, `Application with identifier '${clientIdParam}' was not found in the directory '${TENANT_ID}'.`);
    return;
  }
  // An id_token_hint we cannot verify (e.g. from before a restart: other key) is ignored, as
  // Entra still signs the user out; a verified one names the client (aud) and the user (sub).
  const hintToken = q.get('id_token_hint') ? verifiedIdTokenPayload(q.get('id_token_hint')) : undefined;
  const hintAud = Array.isArray(hintToken?.aud) ? hintToken.aud[0] : hintToken?.aud;
  if (clientIdParam && hintAud && hintAud !== clientIdParam) {
    logoutErrorPage(req, res, 90014, 'The client_id does not match the audience of the id_token_hint.');
    return;
  }
  const clientId = clientIdParam ?? (SPA_CLIENTS_BY_ID.has(hintAud) ? hintAud : undefined);

  const ctx = provider.createContext(req, res);
  const session = await provider.Session.get(ctx);
  const user = session.accountId ? usersBySub.get(session.accountId) : undefined;

  const uri = q.get('post_logout_redirect_uri') || undefined;
  if (uri !== undefined) {
    const signedInTo = user ? Object.keys(session.authorizations ?? {}).filter((id) => SPA_CLIENTS_BY_ID.has(id)) : [];
    let candidates = SPA_CLIENTS.map((c) => c.client_id);
    if (clientId) candidates = [clientId];
    else if (signedInTo.length) candidates = signedInTo;
    if (!candidates.some((id) => SPA_CLIENTS_BY_ID.get(id).post_logout_redirect_uris.includes(uri))) {
      logoutErrorPage(req, res, 50011, `The post_logout_redirect_uri '${uri}' specified in the request is not registered for the application${clientId ? ` '${clientId}'` : ''}. Sign-out did not happen.`);
      return;
    }
  }
  const state = q.get('state') || undefined;
  const logoutHint = q.get('logout_hint') || undefined;

  if (!user) {
    console.log('signout nobody signed in');
    finishLogout(res, uri, state);
    return;
  }
  const identified = (logoutHint !== undefined && usersByLoginHint.get(logoutHint) === user)
    || (hintToken !== undefined && hintToken.sub === user.sub);
  if (identified) {
    await endProviderSession(ctx, session);
    console.log(`signout user=${user.username} by=${logoutHint !== undefined ? 'logout_hint' : 'id_token_hint'}`);
    finishLogout(res, uri, state);
    return;
  }
  // No hint naming the signed-in user: Entra's account picker ("Which account do you want to
  // sign out of?"), here a confirmation page with one account.
  for (const [id, p] of pendingLogouts) if (p.exp < Date.now()) pendingLogouts.delete(id);
  if (pendingLogouts.size >= 1000) pendingLogouts.delete(pendingLogouts.keys().next().value);
  const id = crypto.randomBytes(24).toString('base64url');
  pendingLogouts.set(id, {
    sessionJti: session.jti, uri, state, exp: Date.now() + LOGOUT_PICKER_TTL_MS,
  });
  send(res, 200, pages.logoutPickerPage({
    action: `${PATHS.logout}/confirm`, id, name: user.name, account: user.preferred_username,
  }));
}

async function logoutConfirm(req, res) {
  let form;
  try { form = await readForm(req); } catch { form = {}; }
  const pending = typeof form.id === 'string' ? pendingLogouts.get(form.id) : undefined;
  if (pending) pendingLogouts.delete(form.id);
  if (!pending || pending.exp < Date.now()) {
    logoutErrorPage(req, res, 90014, 'This sign-out page expired or was already used. Go back to the application and sign out again.');
    return;
  }
  const ctx = provider.createContext(req, res);
  const session = await provider.Session.get(ctx);
  if (session.accountId && session.jti === pending.sessionJti) {
    const user = usersBySub.get(session.accountId);
    await endProviderSession(ctx, session);
    console.log(`signout user=${user?.username ?? '-'} by=account_picker`);
  }
  finishLogout(res, pending.uri, pending.state);
}

/** Authorization request: offline_access marker, and the `claims` parameter taken out (see CLAIMS_MARKER). */
function prepareAuthorize(req, url) {
  const q = url.searchParams;
  let changed = false;
  const wanted = String(q.get('scope') ?? '').split(' ').includes('offline_access');
  if (wanted || q.has(OFFLINE_MARKER)) {
    q.delete(OFFLINE_MARKER);
    if (wanted) q.set(OFFLINE_MARKER, '1');
    changed = true;
  }
  if (q.has(CLAIMS_MARKER)) {
    q.delete(CLAIMS_MARKER);
    changed = true;
  }
  if (q.has('claims')) {
    const claims = q.get('claims');
    q.delete('claims');
    const parsed = parseClaimsRequest(claims);
    if (parsed.challenge) {
      stats.claims_requests += 1;
      stats.claims_last = claims;
      console.log('authorize with claims parameter (challenge response)');
    } else if (parsed.capabilities.length) {
      stats.capability_requests += 1;
      console.log('authorize with claims parameter (client capabilities)');
    } else {
      console.log('authorize with claims parameter (optional ID token claims only)');
    }
    if (claims) q.set(CLAIMS_MARKER, claims);
    changed = true;
  }
  if (changed) req.url = `${url.pathname}?${q}`;
}

async function handle(req, res) {
  let url;
  try {
    url = new URL(req.url, ORIGIN);
  } catch {
    send(res, 400, 'Bad Request');
    return;
  }
  const path = url.pathname;

  if (path === PATHS.discovery) {
    if (hostile.discovery && req.headers[INTERNAL_HEADER] !== INTERNAL_SECRET) {
      await hostileDiscovery(req, res);
      return;
    }
    // Advertise the issuer's host (localhost) even when probed as 127.0.0.1 or [::1].
    req.headers.host = new URL(ORIGIN).host;
    req.url = `/.well-known/openid-configuration${url.search}`;
    await providerCallback(req, res);
    return;
  }
  if (path === PATHS.keys && req.method === 'GET' && hostileJwksActive()) {
    serveHostileJwks(req, res);
    return;
  }
  if (path.startsWith('/__sandbox/')) {
    await sandboxRoute(req, res, url);
    return;
  }
  if (path === '/favicon.ico') {
    // Browsers ask for it on the sign-in page; no icon, and no 404 in the page's console.
    res.writeHead(204, { 'cache-control': 'max-age=86400' });
    res.end();
    return;
  }
  if (path.startsWith(`${PATHS.login}/`)) {
    await interactionRoute(req, res, url);
    return;
  }
  if (path === PATHS.token && req.method === 'OPTIONS') {
    // Preflight: only origins some SPA registration allows (oidc-provider would reflect any origin
    // here and refuse the actual request later; refusing early gives the browser a clear CORS
    // error). Which client may use which origin is checked on the request (clientBasedCORS).
    const origin = req.headers.origin;
    if (!origin || !ALL_SPA_ORIGINS.includes(origin)) {
      res.writeHead(403, { vary: 'Origin', 'content-length': 0 });
      res.end();
      return;
    }
  }
  if (path === PATHS.token && req.method === 'GET') {
    send(res, 405, entraError('invalid_request', 900561, 'The endpoint only accepts POST, OPTIONS requests. Received a GET request.', { correlationId: correlationIdOf(req) }), { allow: 'POST, OPTIONS' });
    return;
  }
  if (path === PATHS.token && req.method === 'POST') {
    if (await earlyTokenAnswer(req, res)) return;
  }
  if (path === PATHS.authorize && req.method === 'GET') {
    prepareAuthorize(req, url);
  }
  if (path === PATHS.logout || path.startsWith(`${PATHS.logout}/`)) {
    await logoutRoute(req, res, url);
    return;
  }
  if (path.startsWith(`/${TENANT_ID}/`)) {
    await providerCallback(req, res);
    return;
  }
  send(res, 404, { error: 'not_found', error_description: `Unknown path ${path}. The issuer is ${ISSUER}.` });
}

function handler(req, res) {
  handle(req, res).catch((err) => {
    console.error('unhandled error', err);
    if (!res.headersSent) send(res, 500, { error: 'server_error' });
    else res.destroy();
  });
}

// ---------------------------------------------------------------------------------------------
// Listen on loopback only, IPv4 and IPv6 (Chromium tries [::1] first for "localhost"); TLS in https mode.

function listen(host) {
  return new Promise((resolve, reject) => {
    const server = HTTPS ? https.createServer({ cert: tls.cert, key: tls.key }, handler) : http.createServer(handler);
    server.keepAliveTimeout = 5000;
    server.once('error', reject);
    server.listen(PORT, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

const servers = [];
try {
  servers.push(await listen('127.0.0.1'));
} catch (err) {
  console.error(`idp: cannot listen on 127.0.0.1:${PORT}: ${err.message}`);
  process.exit(1);
}
try {
  servers.push(await listen('::1'));
} catch (err) {
  if (err.code === 'EADDRNOTAVAIL' || err.code === 'EAFNOSUPPORT') {
    console.error(`idp: IPv6 loopback unavailable (${err.code}); listening on 127.0.0.1 only`);
  } else {
    console.error(`idp: cannot listen on [::1]:${PORT}: ${err.message}`);
    servers.forEach((s) => s.close());
    process.exit(1);
  }
}

console.log(`idp ready on ${ORIGIN}`);

let stopping = false;
function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`idp stopping (${signal})`);
  const timer = setTimeout(() => process.exit(0), 2000);
  timer.unref();
  let open = servers.length;
  for (const server of servers) {
    server.close(() => {
      open -= 1;
      if (open === 0) process.exit(0);
    });
    server.closeAllConnections();
  }
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
