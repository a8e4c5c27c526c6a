// Hostile mode of the sandbox identity provider: the pure parts (mode names, JWT tampering,
// authorization-response rewriting, key sets). The state and the wiring live in server.mjs.
//
// Every defect here is deliberate and only ever produced after a test armed it through
// POST /__sandbox/hostile (loopback, no Origin header). See README.md, "Hostile mode".
import * as crypto from 'node:crypto';

import { TENANT_ID } from './config.mjs';

/** `iss` used where a mode needs "someone else": Entra's real issuer for the same tenant. */
export const OTHER_ISSUER = `https://login.microsoftonline.com/${TENANT_ID}/v2.0`;
/** `aud` used by id_token wrong_aud. */
export const OTHER_AUDIENCE = 'd3b07384-d9a0-4c9b-8f1e-0a1b2c3d4e5f';

export const MODES = {
  // One-shot: the next authorization_code token request / response.
  token: [
    'html_body', 'truncated_json', 'missing_access_token', 'token_type_mac', 'missing_expires_in',
    'absurd_expires_in', 'status_400', 'status_500', 'status_429', 'no_cors', 'hang',
  ],
  // One-shot: the id_token of the next successful authorization_code response.
  id_token: [
    'bad_signature', 'alg_none', 'hs256_public_key', 'unknown_kid',
    'missing_kid_multi', 'wrong_iss', 'wrong_aud', 'extra_aud', 'wrong_nonce', 'missing_nonce',
    'expired', 'future_iat', 'missing_sub', 'malformed_segments', 'malformed_base64', 'malformed_json',
  ],
  // One-shot: the id_token of the next successful refresh_token response (OIDC Core §12.2).
  refresh_id_token: ['bad_signature', 'wrong_iss', 'wrong_aud', 'missing_sub', 'expired'],
  // Persistent until cleared: every discovery-document request.
  discovery: ['issuer_mismatch', 'malformed_json', 'unreachable'],
  // Persistent until cleared: the JWKS (and, for rotate, the key that signs ID tokens).
  jwks: ['no_usable_key', 'rotate'],
  // Persistent until cleared: what refresh_token requests are granted (as though an
  // administrator had withdrawn the permission: the answer's `scope` and token lack it).
  scope: ['without_read'],
  // One-shot: the next redirect to a registered redirect_uri.
  authorize: [
    'wrong_iss', 'missing_iss', 'duplicate_state', 'duplicate_code', 'code_and_error', 'error_markup',
    'error_long', 'error_odd_encoding', 'strip_state',
  ],
};
export const ONE_SHOT_TARGETS = ['token', 'id_token', 'refresh_id_token', 'authorize'];

/** Token modes answered by the sandbox itself, before oidc-provider sees the request (the code stays unredeemed). */
export const TOKEN_SHORT_CIRCUIT = new Set(['html_body', 'status_400', 'status_500', 'status_429', 'hang']);

export const HANG_MS = 120_000;

// ---------------------------------------------------------------------------------------------
// Keys

/** A fresh RS256 key: { privateKey, publicJwk } with an RFC 7638 thumbprint (or `kid`) as key id. */
export function newRsaKey(kid) {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const { n, e } = publicKey.export({ format: 'jwk' });
  const thumbprint = crypto.createHash('sha256').update(JSON.stringify({ e, kty: 'RSA', n })).digest('base64url');
  return {
    privateKey,
    publicKey,
    publicJwk: {
      kty: 'RSA', use: 'sig', alg: 'RS256', kid: kid ?? thumbprint, n, e,
    },
  };
}

/** JWKS with no key an RS256 client may use: the real key re-labelled for encryption, and an EC key. */
export function unusableJwks(realPublicJwk) {
  const { publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ec = publicKey.export({ format: 'jwk' });
  return {
    keys: [
      {
        kty: 'RSA', use: 'enc', alg: 'RSA-OAEP-256', kid: realPublicJwk.kid, n: realPublicJwk.n, e: realPublicJwk.e,
      },
      {
        kty: 'EC', use: 'sig', alg: 'ES256', kid: `ec-${crypto.randomBytes(6).toString('hex')}`, crv: ec.crv, x: ec.x, y: ec.y,
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// JWTs

const b64 = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

export function decodeJwt(jwt) {
  const [h, p] = String(jwt).split('.');
  return { header: JSON.parse(Buffer.from(h, 'base64url')), payload: JSON.parse(Buffer.from(p, 'base64url')) };
}

export function signRs256(header, payload, privateKey) {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${crypto.sign('RSA-SHA256', Buffer.from(input), privateKey).toString('base64url')}`;
}

/** Re-signs an ID token with another key (jwks rotate): same header and claims, new kid. */
export function resign(jwt, key) {
  const { header, payload } = decodeJwt(jwt);
  return signRs256({ ...header, alg: 'RS256', kid: key.publicJwk.kid }, payload, key.privateKey);
}

/**
 * The ID token with exactly one defect. `key` = { privateKey, publicKey, publicJwk } that normally
 * signs ID tokens. Returns { jwt, note } (note: what a test may want to know, e.g. the unknown kid).
 */
export function tamperIdToken(jwt, mode, key) {
  const { header, payload } = decodeJwt(jwt);
  const now = Math.floor(Date.now() / 1000);
  const sign = (h = header, p = payload) => signRs256(h, p, key.privateKey);
  const hs256 = (secret) => {
    const h = { ...header, alg: 'HS256' };
    const input = `${b64(h)}.${b64(payload)}`;
    return `${input}.${crypto.createHmac('sha256', secret).update(input).digest('base64url')}`;
  };
  switch (mode) {
    case 'bad_signature': {
      const [h, p, s] = sign().split('.');
      const sig = Buffer.from(s, 'base64url');
      for (let i = 10; i < 20; i += 1) sig[i] ^= 0xff; // flip ten bytes in the middle
      return { jwt: `${h}.${p}.${sig.toString('base64url')}` };
    }
    case 'alg_none':
      return { jwt: `${b64({ ...header, alg: 'none' })}.${b64(payload)}.` };
    case 'hs256_public_key':
      // The classic key-confusion attack: HMAC keyed with the public key's PEM text.
      return { jwt: hs256(key.publicKey.export({ type: 'spki', format: 'pem' })) };
    case 'unknown_kid': {
      const stranger = newRsaKey(`unknown-${crypto.randomBytes(8).toString('hex')}`);
      return { jwt: signRs256({ ...header, kid: stranger.publicJwk.kid }, payload, stranger.privateKey), note: { kid: stranger.publicJwk.kid } };
    }
    case 'missing_kid_multi': {
      const { kid, ...rest } = header;
      return { jwt: sign(rest, payload) };
    }
    case 'wrong_iss':
      return { jwt: sign(header, { ...payload, iss: OTHER_ISSUER }) };
    case 'wrong_aud':
      return { jwt: sign(header, { ...payload, aud: OTHER_AUDIENCE }) };
    case 'extra_aud':
      // The real audience (whichever SPA registration signed in) plus another app.
      return { jwt: sign(header, { ...payload, aud: [payload.aud, 'other-app'] }) };
    case 'wrong_nonce':
      return { jwt: sign(header, { ...payload, nonce: `not-${crypto.randomBytes(8).toString('hex')}` }) };
    case 'missing_nonce': {
      const { nonce, ...rest } = payload;
      return { jwt: sign(header, rest) };
    }
    case 'expired':
      return { jwt: sign(header, { ...payload, iat: now - 7200, exp: now - 3600 }) };
    case 'future_iat':
      return { jwt: sign(header, { ...payload, iat: now + 3600, exp: now + 7200 }) };
    case 'missing_sub': {
      const { sub, ...rest } = payload;
      return { jwt: sign(header, rest) };
    }
    case 'malformed_segments':
      // A valid JWT plus a fourth segment.
      return { jwt: `${sign()}.${b64('extra')}` };
    case 'malformed_base64': {
      // Payload segment with characters outside base64url ('+', '/', '=' padding and '!').
      const [h, p, s] = sign().split('.');
      return { jwt: `${h}.${p.slice(0, 8)}+/!${p.slice(8)}==.${s}` };
    }
    case 'malformed_json': {
      // Correctly signed, but the payload segment is not JSON.
      const h = b64(header);
      const p = b64('{"iss": "truncated');
      const input = `${h}.${p}`;
      return { jwt: `${input}.${crypto.sign('RSA-SHA256', Buffer.from(input), key.privateKey).toString('base64url')}` };
    }
    default:
      throw new Error(`unknown id_token mode ${mode}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Authorization response (the redirect to the SPA's redirect_uri)

const enc = encodeURIComponent;

/**
 * Rewrites `location` (redirect_uri?query) for an authorize mode. Builds the query by hand so
 * duplicated parameters and odd encodings survive exactly.
 */
export function rewriteAuthorizationResponse(location, mode) {
  const q = location.indexOf('?');
  const base = q === -1 ? location : location.slice(0, q);
  const pairs = q === -1 ? [] : [...new URLSearchParams(location.slice(q + 1))];
  const get = (k) => pairs.find(([key]) => key === k)?.[1];
  const state = get('state');
  const iss = get('iss');
  const join = (list) => list.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
  const errorResponse = (descriptionRaw) => [
    'error=access_denied',
    `error_description=${descriptionRaw}`,
    ...(state !== undefined ? [`state=${enc(state)}`] : []),
    ...(iss !== undefined ? [`iss=${enc(iss)}`] : []),
  ].join('&');
  let query;
  switch (mode) {
    case 'wrong_iss':
      query = join(pairs.some(([k]) => k === 'iss')
        ? pairs.map(([k, v]) => [k, k === 'iss' ? OTHER_ISSUER : v])
        : [...pairs, ['iss', OTHER_ISSUER]]);
      break;
    case 'missing_iss':
      query = join(pairs.filter(([k]) => k !== 'iss'));
      break;
    case 'duplicate_state':
      // The same value twice (RFC 6749 §3.1: parameters MUST NOT be included more than once).
      query = join(state === undefined ? pairs : [...pairs, ['state', state]]);
      break;
    case 'duplicate_code': {
      const code = get('code');
      query = join(code === undefined ? pairs : [...pairs, ['code', code]]);
      break;
    }
    case 'code_and_error':
      query = join([...pairs, ['error', 'access_denied'], ['error_description', 'The user cancelled the sign-in.']]);
      break;
    case 'error_markup':
      query = errorResponse(enc('<script>alert(1)</script><b>bold</b>'));
      break;
    case 'error_long':
      query = errorResponse(enc(`AADSTS50011: ${'The reply URL is long. '.repeat(250)}`.slice(0, 5000)));
      break;
    case 'error_odd_encoding':
      // Raw on purpose: invalid UTF-8 (%C3%28), a NUL, a '+' (space in forms), a newline.
      query = errorResponse('bad%C3%28utf8%00nul+plus%0Anewline%E2%80%AEtlr');
      break;
    case 'strip_state':
      query = join(pairs.filter(([k]) => k !== 'state'));
      break;
    default:
      throw new Error(`unknown authorize mode ${mode}`);
  }
  return `${base}?${query}`;
}
