// The MSAL.js sample: Microsoft's @azure/msal-browser, unmodified, as a second kind of client of
// the sandbox (client "MSAL.js sample", https identity provider on 5443, weather API on 5558).
// Built by tests/e2e/msal/build.mjs into target/msal-page/, served on http://localhost:8082.
import { InteractionRequiredAuthError, PublicClientApplication } from '@azure/msal-browser';

const TENANT = '3f8d0c2a-5b1e-4c7d-9a6f-2e4b8c1d7a90';
const CLIENT_ID = 'a1f3c5e7-9b2d-4f6a-8c0e-2d4f6a8c0e13';
const READ = 'api://c2a9e7d1-4b3f-4e8a-b6d5-1f7a3c9e2b80/weather.read';
const API = 'http://localhost:5558';
const APP = 'http://localhost:8082/';

const msal = new PublicClientApplication({
  auth: {
    clientId: CLIENT_ID,
    // As an Entra authority; discovery at {authority}/.well-known/openid-configuration.
    authority: `https://localhost:5443/${TENANT}/v2.0`,
    // Not a Microsoft cloud host: trust it without instance discovery (no call to
    // login.microsoftonline.com).
    knownAuthorities: ['localhost:5443'],
    redirectUri: APP,
    postLogoutRedirectUri: APP,
    // Continuous access evaluation: sends claims={"access_token":{"xms_cc":{"values":["CP1"]}}}.
    clientCapabilities: ['CP1'],
  },
  cache: { cacheLocation: 'sessionStorage' },
});

const $ = (id) => document.getElementById(id);

function showError(err) {
  $('error').textContent = `${err?.errorCode ?? err?.name ?? 'error'}: ${err?.errorMessage ?? err?.message ?? String(err)}`;
}

function account() {
  return msal.getActiveAccount() ?? msal.getAllAccounts()[0] ?? null;
}

function render() {
  const acc = account();
  $('status').textContent = acc ? 'Signed in.' : 'Signed out.';
  $('signed-in').hidden = !acc;
  $('signed-out').hidden = !!acc;
  $('account-name').textContent = acc?.name ?? '';
  $('account-username').textContent = acc ? `(${acc.username})` : '';
}

async function getWeather() {
  $('error').textContent = '';
  $('weather').textContent = 'Loading…';
  const acc = account();
  let token;
  try {
    ({ accessToken: token } = await msal.acquireTokenSilent({ scopes: [READ], account: acc }));
  } catch (err) {
    if (err instanceof InteractionRequiredAuthError) {
      await msal.acquireTokenRedirect({ scopes: [READ], account: acc });
      return;
    }
    throw err;
  }
  const res = await fetch(`${API}/api/weather/Portland?state=OR&country=US&units=metric`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  if (!res.ok) throw new Error(`weather API answered HTTP ${res.status}: ${await res.text()}`);
  const body = await res.json();
  $('weather').textContent = `Portland, OR: ${body.temp} °C`;
}

async function main() {
  await msal.initialize();
  const result = await msal.handleRedirectPromise();
  if (result?.account) msal.setActiveAccount(result.account);
  else if (!msal.getActiveAccount() && msal.getAllAccounts().length) msal.setActiveAccount(msal.getAllAccounts()[0]);
  render();
  $('sign-in').addEventListener('click', () => {
    $('error').textContent = '';
    msal.loginRedirect({ scopes: ['openid', 'profile', 'offline_access', READ] }).catch(showError);
  });
  $('get-weather').addEventListener('click', () => {
    getWeather().catch((err) => { $('weather').textContent = ''; showError(err); });
  });
  $('sign-out').addEventListener('click', () => {
    $('error').textContent = '';
    msal.logoutRedirect({ account: account() }).catch(showError);
  });
}

main().catch((err) => {
  $('status').textContent = 'MSAL.js failed to start.';
  showError(err);
});
