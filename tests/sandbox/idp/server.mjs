// Local identity provider shaped like Microsoft Entra ID (v2 endpoints), built on oidc-provider 9.
//
// Start from the repository root:   node_modules/.bin/node tests/sandbox/idp/server.mjs
// Constants (tenant, client ids, users, scopes) live in ./config.mjs and tests/sandbox/README.md.
//
// Layout of the URL space (all on http://localhost:$IDP_PORT, default 5556):
//   /{tenant}/v2.0/.well-known/openid-configuration   discovery (rewritten to oidc-provider's route)
//   /{tenant}/oauth2/v2.0/authorize|token|logout       oidc-provider routes (custom `routes`)
//   /{tenant}/discovery/v2.0/keys                      JWKS
//   /{tenant}/login/{uid}                              our sign-in and consent pages (interactions)
//   /__sandbox/stats, /__sandbox/reset-stats, ...      test helpers
import * as crypto from 'node:crypto';
import * as http from 'node:http';

import Provider, { errors, interactionPolicy } from 'oidc-provider';

import {
  ACCESS_TTL, API_CLIENT_ID, API_RESOURCE, API_SCOPES, DAEMON_CLIENT_ID, DAEMON_CLIENT_SECRET,
  DAEMON_ROLES, DAEMON_SP_OID, ISSUER, ORIGIN, PATHS, PORT, PRECONSENTED_API_SCOPES,
  PRECONSENTED_OIDC_SCOPES, REFRESH_TTL, SPA_CLIENT_ID, SPA_CLIENT_NAME, SPA_ORIGINS, TENANT_ID, USERS,
} from './config.mjs';
import * as pages from './pages.mjs';

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
};
function resetStats() {
  for (const key of Object.keys(stats)) {
    for (const g of Object.keys(stats[key])) stats[key][g] = 0;
  }
}

const isApiScope = (scope) => scope.startsWith(`${API_RESOURCE}/`);
const shortScope = (scope) => (isApiScope(scope) ? scope.slice(API_RESOURCE.length + 1) : scope);

const AADSTS = {
  noSession: 'AADSTS50058: A silent sign-in request was sent but no user is signed in.',
  consent: `AADSTS65001: The user or administrator has not consented to use the application with ID '${SPA_CLIENT_ID}' named '${SPA_CLIENT_NAME}'. Send an interactive authorization request for this user and resource.`,
  cancelled: 'The user cancelled the sign-in.',
};

// ---------------------------------------------------------------------------------------------
// oidc-provider drops `offline_access` from an authorization request unless prompt=consent is
// also sent (OIDC Core 11). Entra issues a refresh token whenever offline_access is asked for.
// The raw handler below marks such requests with this extra parameter (it survives the
// sign-in round trip inside the interaction), and loadExistingGrant puts offline_access back
// into the request's scope; from there oidc-provider's own issueRefreshToken and
// expiresWithSession defaults do the rest, and refresh requests may repeat offline_access.
const OFFLINE_MARKER = 'x_sandbox_offline_access';

// ---------------------------------------------------------------------------------------------
// Interaction policy: Entra-like error descriptions, plus prompt=select_account.

const policy = interactionPolicy.base();
policy.get('login').checks.get('no_session').description = AADSTS.noSession;
for (const check of policy.get('consent').checks) {
  if (check.error === 'consent_required') check.description = AADSTS.consent;
}
policy.add(new interactionPolicy.Prompt({ name: 'select_account', requestable: true }), 0);

// ---------------------------------------------------------------------------------------------
// Provider configuration.

const spaClient = {
  client_id: SPA_CLIENT_ID,
  client_name: SPA_CLIENT_NAME,
  application_type: 'web',
  token_endpoint_auth_method: 'none',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  redirect_uris: SPA_ORIGINS.map((o) => `${o}/auth/callback`),
  post_logout_redirect_uris: SPA_ORIGINS.map((o) => `${o}/`),
};

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
    accessTokenTTL: ACCESS_TTL,
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
    return {
      ...(scp ? { scp } : undefined),
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
  return REFRESH_TTL;
}

const signingKey = generateSigningKey();
const verifyKey = crypto.createPublicKey({ key: { kty: 'RSA', n: signingKey.n, e: signingKey.e }, format: 'jwk' });

/** True when `jwt` is an RS256 JWT signed by the current key and issued by us. */
function issuedByUs(jwt) {
  try {
    const [h, p, sig] = String(jwt).split('.');
    const header = JSON.parse(Buffer.from(h, 'base64url'));
    const payload = JSON.parse(Buffer.from(p, 'base64url'));
    return header.alg === 'RS256'
      && payload.iss === ISSUER
      && crypto.verify('RSA-SHA256', Buffer.from(`${h}.${p}`), verifyKey, Buffer.from(sig, 'base64url'));
  } catch {
    return false;
  }
}

const provider = new Provider(ISSUER, {
  clients: [spaClient, daemonClient],
  jwks: { keys: [signingKey] },
  cookies: {
    keys: [crypto.randomBytes(32).toString('base64url')],
    names: {
      session: 'nimbus_idp_session',
      interaction: 'nimbus_idp_interaction',
      resume: 'nimbus_idp_resume',
    },
    // Plain http on localhost: no `secure` flag (oidc-provider only sets it when the request is https).
    // Cookies ignore ports, so keep the session cookie off the SPA's and the API's paths.
    long: { httpOnly: true, sameSite: 'lax', path: `/${TENANT_ID}/` },
    short: { httpOnly: true, sameSite: 'lax' },
  },
  claims: {
    acr: null,
    auth_time: null,
    iss: null,
    sid: null,
    openid: ['sub', 'tid', 'ver'],
    profile: ['name', 'preferred_username', 'oid'],
    email: ['email'],
  },
  scopes: ['openid', 'profile', 'email', 'offline_access'],
  conformIdTokenClaims: false, // profile claims go into the ID token, as with Entra
  responseTypes: ['code'],
  clientAuthMethods: ['none', 'client_secret_post', 'client_secret_basic'],
  pkce: { required: (ctx, client) => client.clientAuthMethod === 'none' },
  clientBasedCORS(ctx, origin, client) {
    return client.clientId === SPA_CLIENT_ID && SPA_ORIGINS.includes(origin);
  },
  extraParams: [OFFLINE_MARKER],
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
    rpInitiatedLogout: {
      enabled: true,
      async logoutSource(ctx, form) {
        ctx.type = 'html';
        ctx.body = pages.logoutPage(form);
      },
      async postLogoutSuccessSource(ctx) {
        ctx.type = 'html';
        ctx.body = pages.signedOutPage();
      },
    },
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
    AccessToken: ACCESS_TTL,
    ClientCredentials: ACCESS_TTL,
    AuthorizationCode: 300,
    IdToken: 3600,
    Interaction: 3600,
    RefreshToken: refreshTokenTTL,
    Session: 14 * 24 * 3600,
    Grant: Math.max(14 * 24 * 3600, REFRESH_TTL + 24 * 3600),
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = pages.errorPage('Sorry, but we’re having trouble signing you in.', out);
  },
});

// ---------------------------------------------------------------------------------------------
// Token endpoint: one log line per request, counters, Entra-style error descriptions.

const grantErrors = new WeakMap();
provider.on('grant.error', (ctx, err) => grantErrors.set(ctx, err));
provider.on('server_error', (ctx, err) => console.error(`server_error path=${ctx.path}`, err));

function entraDescription(err, grantType) {
  if (!err) return undefined;
  const detail = err.error_detail ?? '';
  const cause = err.cause?.message ?? '';
  switch (err.error) {
    case 'invalid_grant':
      if (detail === 'refresh token is expired') {
        return `AADSTS700084: The refresh token was issued to a single page app (SPA), and therefore has a fixed, limited lifetime of ${REFRESH_TTL} seconds, which cannot be extended. It is now expired and a new sign in request must be sent by the SPA to the sign in page.`;
      }
      if (detail === 'authorization code already consumed') {
        return 'AADSTS54005: OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.';
      }
      if (detail === 'authorization code is expired') {
        return 'AADSTS70008: The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.';
      }
      if (/code_verifier|code_challenge/.test(cause)) {
        return 'AADSTS501481: The Code_Verifier does not match the code_challenge supplied in the authorization request.';
      }
      if (detail === 'refresh token already used') {
        return 'AADSTS70000: The provided grant is invalid: the refresh token was already used (rotated) and every token of this sign-in has been revoked.';
      }
      return `AADSTS70000: The provided ${grantType === 'refresh_token' ? 'refresh token' : 'grant'} is invalid or malformed (${detail || 'grant request is invalid'}).`;
    case 'invalid_client':
      if (detail === 'invalid secret provided') return "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.";
      return undefined;
    default:
      return undefined;
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

provider.use(async (ctx, next) => {
  await next();
  if (ctx.path !== PATHS.token || ctx.method !== 'POST') return;

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

  const description = ctx.status >= 400 && ctx.body && typeof ctx.body === 'object'
    ? entraDescription(grantErrors.get(ctx), grantType)
    : undefined;
  if (description) ctx.body = { ...ctx.body, error_description: description };
});

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
      send(res, 200, pages.loginPage({ action, clientName, username: details.params.login_hint ?? '' }));
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
        error_description: AADSTS.consent,
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

function sandboxRoute(req, res, url) {
  const cors = { 'access-control-allow-origin': '*' };
  switch (`${req.method} ${url.pathname}`) {
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
      send(res, 404, { error: 'not_found' });
  }
}

function markOfflineAccess(req, url) {
  const q = url.searchParams;
  const wanted = String(q.get('scope') ?? '').split(' ').includes('offline_access');
  if (!wanted && !q.has(OFFLINE_MARKER)) return;
  q.delete(OFFLINE_MARKER);
  if (wanted) q.set(OFFLINE_MARKER, '1');
  req.url = `${url.pathname}?${q}`;
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
    // Advertise the issuer's host (localhost) even when probed as 127.0.0.1 or [::1].
    req.headers.host = new URL(ORIGIN).host;
    req.url = `/.well-known/openid-configuration${url.search}`;
    await providerCallback(req, res);
    return;
  }
  if (path.startsWith('/__sandbox/')) {
    sandboxRoute(req, res, url);
    return;
  }
  if (path.startsWith(`${PATHS.login}/`)) {
    await interactionRoute(req, res, url);
    return;
  }
  if (path === PATHS.token && req.method === 'OPTIONS') {
    // Preflight: only the SPA's origins (oidc-provider would reflect any origin here and refuse
    // the actual request later; refusing early gives the browser a clear CORS error).
    const origin = req.headers.origin;
    if (!origin || !SPA_ORIGINS.includes(origin)) {
      res.writeHead(403, { vary: 'Origin', 'content-length': 0 });
      res.end();
      return;
    }
  }
  if (path === PATHS.authorize && req.method === 'GET') {
    markOfflineAccess(req, url);
  }
  if (path === PATHS.logout && req.method === 'GET' && url.searchParams.has('id_token_hint')
    && !issuedByUs(url.searchParams.get('id_token_hint'))) {
    // An ID token from before a restart (other key) or garbage: oidc-provider would stop with an
    // error page. Entra still signs the user out, so drop the hint and rely on client_id.
    url.searchParams.delete('id_token_hint');
    req.url = `${url.pathname}?${url.searchParams}`;
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
// Listen on loopback only, IPv4 and IPv6 (Chromium tries [::1] first for "localhost").

function listen(host) {
  return new Promise((resolve, reject) => {
    const server = http.createServer(handler);
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

console.log(`idp ready on http://localhost:${PORT}`);

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
