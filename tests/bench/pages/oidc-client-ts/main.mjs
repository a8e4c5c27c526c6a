// Benchmark peer: oidc-client-ts (UserManager: signinRedirect, signinRedirectCallback, the user's
// access token), behind the same pages as Nimbus (../ui.mjs). Its own client registration in the
// sandbox (tests/sandbox/idp/config.mjs, "oidc-client-ts bench page"), redirect URI
// http://localhost:8083/auth/callback, served on http://localhost:8083 by scripts/bench.
import { UserManager, WebStorageStateStore } from 'oidc-client-ts';

import { AUTHORITY, SCOPES, showStartupError, startUi } from '../ui.mjs';

const users = new UserManager({
  authority: AUTHORITY,
  client_id: 'c65a353c-3015-4c9a-b4b5-c75486f213b3',
  redirect_uri: `${location.origin}/auth/callback`,
  post_logout_redirect_uri: `${location.origin}/`,
  response_type: 'code',
  scope: SCOPES.join(' '),
  userStore: new WebStorageStateStore({ store: window.sessionStorage }),
});

async function main() {
  if (location.pathname === '/auth/callback') {
    const signedIn = await users.signinRedirectCallback();
    history.replaceState(null, '', signedIn.url_state ?? '/');
  }
  let user = await users.getUser();
  users.events.addUserLoaded((u) => { user = u; });
  users.events.addUserUnloaded(() => { user = null; });
  startUi({
    account: () => user && !user.expired
      ? { name: user.profile.name ?? user.profile.preferred_username, username: user.profile.preferred_username }
      : null,
    signIn: () => users.signinRedirect({ url_state: location.pathname }),
    accessToken: async () => {
      if (!user || user.expired) user = await users.signinSilent();
      return user.access_token;
    },
  });
}

main().catch(showStartupError);
