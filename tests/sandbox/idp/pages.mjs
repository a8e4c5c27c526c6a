// Plain HTML pages of the sandbox identity provider (no external resources, no frameworks).

export function esc(value) {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const STYLE = `
  body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f2f2f2;margin:0;color:#1b1b1b}
  main{max-width:22rem;margin:4rem auto;background:#fff;padding:2rem 2.5rem;box-shadow:0 2px 6px rgba(0,0,0,.2)}
  h1{font-size:1.5rem;font-weight:600;margin:0 0 .5rem}
  p{margin:.5rem 0}
  .sub{color:#555;font-size:.9rem}
  label{display:block;margin-top:1rem;font-size:.9rem}
  input{display:block;width:100%;box-sizing:border-box;padding:.45rem;font-size:1rem;border:0;border-bottom:1px solid #666;outline:none}
  input:focus{border-bottom-color:#0067b8}
  .buttons{display:flex;gap:.5rem;justify-content:flex-end;margin-top:1.5rem}
  button{font-size:.95rem;padding:.45rem 1.2rem;border:1px solid #8c8c8c;background:#fff;cursor:pointer}
  button.primary{background:#0067b8;border-color:#0067b8;color:#fff}
  .error{color:#a4262c;background:#fde7e9;padding:.5rem .75rem;font-size:.9rem}
  ul{padding-left:1.2rem}
  code{font-size:.8rem;color:#555}
  footer{text-align:center;color:#777;font-size:.75rem;margin-top:-3rem}
`;

function layout(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
<footer>Nimbus sandbox identity provider (local stand-in for Microsoft Entra ID)</footer>
</body>
</html>`;
}

/** The sign-in form: labelled "Username" and "Password", buttons "Sign in" and "Cancel". */
export function loginPage({ action, clientName, username = '', error = false }) {
  return layout('Sign in to your account', `
<h1>Sign in</h1>
<p class="sub">to continue to ${esc(clientName)}</p>
${error ? '<p class="error" role="alert">Wrong username or password.</p>' : ''}
<form method="post" action="${esc(action)}" autocomplete="off">
  <label for="username">Username</label>
  <input id="username" name="username" type="text" value="${esc(username)}" autocapitalize="none" spellcheck="false" ${username ? '' : 'autofocus'}>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" ${username ? 'autofocus' : ''}>
  <div class="buttons">
    <button type="submit" name="action" value="login" class="primary">Sign in</button>
    <button type="submit" name="action" value="cancel" formnovalidate>Cancel</button>
  </div>
</form>`);
}

/** The consent page listing the requested permissions, buttons "Accept" and "Decline". */
export function consentPage({
  action, clientName, account, scopes,
}) {
  const items = scopes
    .map(({ scope, description }) => `  <li>${esc(description)}<br><code>${esc(scope)}</code></li>`)
    .join('\n');
  return layout('Permissions requested', `
<h1>Permissions requested</h1>
<p class="sub">${esc(account)}</p>
<p><strong>${esc(clientName)}</strong> would like to:</p>
<ul>
${items}
</ul>
<p class="sub">Accepting lets this app use these permissions on your behalf.</p>
<form method="post" action="${esc(action)}">
  <div class="buttons">
    <button type="submit" name="action" value="accept" class="primary">Accept</button>
    <button type="submit" name="action" value="decline">Decline</button>
  </div>
</form>`);
}

/**
 * Sign-out without a hint naming the signed-in user: Entra's account picker ("Which account do you
 * want to sign out of?"). One account here; the button confirms (a POST to the provider itself).
 */
export function logoutPickerPage({
  action, id, name, account,
}) {
  return layout('Sign out', `
<h1>Pick an account</h1>
<p class="sub">Which account do you want to sign out of?</p>
<p><strong>${esc(name)}</strong><br><span class="sub">${esc(account)}</span> (signed in)</p>
<form method="post" action="${esc(action)}">
  <input type="hidden" name="id" value="${esc(id)}">
  <div class="buttons">
    <button type="submit" class="primary">Sign out</button>
  </div>
</form>`);
}

export function signedOutPage() {
  return layout('Signed out', `
<h1>You signed out of your account</h1>
<p>It's a good idea to close all browser windows.</p>`);
}

export function errorPage(title, out) {
  const rows = Object.entries(out)
    .map(([key, value]) => `<p><strong>${esc(key)}</strong>: ${esc(value)}</p>`)
    .join('\n');
  return layout(title, `
<h1>${esc(title)}</h1>
${rows}`);
}
