// Benchmark peer: Microsoft's @azure/msal-browser, as its documentation sets up a single-page
// app (PublicClientApplication, loginRedirect, acquireTokenSilent), behind the same pages as
// Nimbus (../ui.mjs). Client "MSAL.js sample" (its redirect URI is the app's root), served on
// http://localhost:8082 by scripts/bench only (scripts/test serves tests/e2e/msal there).
import { PublicClientApplication } from '@azure/msal-browser';

import { AUTHORITY, READ, SCOPES, showStartupError, startUi } from '../ui.mjs';

const msal = new PublicClientApplication({
  auth: {
    clientId: 'a1f3c5e7-9b2d-4f6a-8c0e-2d4f6a8c0e13',
    authority: AUTHORITY,
    // Not a Microsoft cloud host: no instance discovery.
    knownAuthorities: ['localhost:5443'],
    redirectUri: `${location.origin}/`,
    postLogoutRedirectUri: `${location.origin}/`,
  },
  cache: { cacheLocation: 'sessionStorage' },
});

const account = () => msal.getActiveAccount() ?? msal.getAllAccounts()[0] ?? null;

async function main() {
  await msal.initialize();
  const result = await msal.handleRedirectPromise();
  if (result?.account) msal.setActiveAccount(result.account);
  startUi({
    account: () => {
      const acc = account();
      return acc && { name: acc.name, username: acc.username };
    },
    signIn: () => msal.loginRedirect({ scopes: SCOPES }),
    accessToken: async () => (await msal.acquireTokenSilent({ scopes: [READ], account: account() })).accessToken,
  });
}

main().catch(showStartupError);
