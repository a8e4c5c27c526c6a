// Benchmark peer: Microsoft's recommended single-page-app stack, React 19 + react-router +
// @azure/msal-react (on @azure/msal-browser), set up as Microsoft's react-router sample does
// (initialize, active account from the LOGIN_SUCCESS event, MsalProvider, Authenticated/
// UnauthenticatedTemplate, loginRedirect, acquireTokenSilent). The same pages, markup and
// accessible names as Nimbus. Its own client registration in the sandbox
// (tests/sandbox/idp/config.mjs, "React + MSAL React bench page"), redirect URI
// http://localhost:8084/ (MSAL's convention), served on http://localhost:8084 by scripts/bench.
import { EventType, PublicClientApplication } from '@azure/msal-browser';
import { AuthenticatedTemplate, MsalProvider, UnauthenticatedTemplate, useMsal } from '@azure/msal-react';
import { StrictMode, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter, Link, NavLink, Route, Routes } from 'react-router';

import { API, AUTHORITY, READ, SCOPES } from '../ui.mjs';

const pca = new PublicClientApplication({
  auth: {
    clientId: 'a408b367-84a5-4fb6-b0b1-e7b848446083',
    authority: AUTHORITY,
    knownAuthorities: ['localhost:5443'],
    redirectUri: `${location.origin}/`,
    postLogoutRedirectUri: `${location.origin}/`,
  },
  cache: { cacheLocation: 'sessionStorage' },
});

const UNITS = [
  ['metric', 'Metric (°C)', '°C'],
  ['imperial', 'Imperial (°F)', '°F'],
  ['standard', 'Standard (K)', 'K'],
];

function ErrorNotice({ message }) {
  return <div className="error" role="alert"><p>{message}</p></div>;
}

function Header() {
  const { instance, accounts } = useMsal();
  const account = instance.getActiveAccount() ?? accounts[0];
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const signIn = () => {
    setBusy(true);
    instance.loginRedirect({ scopes: SCOPES }).catch((e) => { setBusy(false); setError(e); });
  };
  return (
    <>
      <header className="top">
        <Link to="/" className="brand">Nimbus</Link>
        <nav aria-label="Main">
          <NavLink to="/weather">Weather</NavLink>
          <NavLink to="/reports">Reports</NavLink>
        </nav>
        <div className="account">
          <AuthenticatedTemplate>
            <span className="who" title={account?.username ?? ''}>{account?.name}</span>
          </AuthenticatedTemplate>
          <UnauthenticatedTemplate>
            <button type="button" onClick={signIn} disabled={busy}>Sign in</button>
          </UnauthenticatedTemplate>
        </div>
      </header>
      {error && <div className="page"><ErrorNotice message={`Sign-in didn't start: ${error.message}`} /></div>}
    </>
  );
}

function Home() {
  const { instance, accounts } = useMsal();
  const account = instance.getActiveAccount() ?? accounts[0];
  return (
    <>
      <AuthenticatedTemplate>
        <h1>Welcome, {account?.name}</h1>
        <p>You're signed in. <Link to="/weather">Check the weather</Link>.</p>
      </AuthenticatedTemplate>
      <UnauthenticatedTemplate>
        <h1>Nimbus weather</h1>
        <p>Sign in with your work or school account to see the current weather anywhere.</p>
      </UnauthenticatedTemplate>
    </>
  );
}

function Report({ conditions: c, units, place }) {
  const t = UNITS.find(([u]) => u === units)[2];
  const v = (x) => `${Number(x).toFixed(1)} ${t}`;
  return (
    <section className="report" aria-label="Current weather">
      <h2>{place}</h2>
      <dl>
        <dt>Temperature</dt><dd>{v(c.temp)}</dd>
        <dt>Feels like</dt><dd>{v(c.feels_like)}</dd>
        <dt>Min / max</dt><dd>{`${v(c.temp_min)} / ${v(c.temp_max)}`}</dd>
        <dt>Pressure</dt><dd>{`${Number(c.pressure).toFixed(0)} hPa`}</dd>
        <dt>Humidity</dt><dd>{`${Number(c.humidity).toFixed(0)} %`}</dd>
      </dl>
    </section>
  );
}

function WeatherForm() {
  const { instance, accounts } = useMsal();
  const [city, setCity] = useState('');
  const [state, setState] = useState('');
  const [country, setCountry] = useState('US');
  const [units, setUnits] = useState('metric');
  const [loading, setLoading] = useState(false);
  const [outcome, setOutcome] = useState(null);
  const onSubmit = async (ev) => {
    ev.preventDefault();
    const c = city.trim();
    if (!c) {
      setOutcome({ formError: 'Enter a city.' });
      return;
    }
    const params = new URLSearchParams({ country: country.trim() || 'US', units });
    if (state.trim()) params.set('state', state.trim());
    setLoading(true);
    setOutcome(null);
    try {
      const { accessToken } = await instance.acquireTokenSilent({
        scopes: [READ], account: instance.getActiveAccount() ?? accounts[0],
      });
      const res = await fetch(`${API}/api/weather/${encodeURIComponent(c)}?${params}`, {
        headers: { Authorization: `Bearer ${accessToken}` },
      });
      if (!res.ok) throw new Error(`The weather service answered HTTP ${res.status}: ${await res.text()}`);
      setOutcome({ conditions: await res.json(), units, place: c });
    } catch (e) {
      setOutcome({ error: e?.message ?? String(e) });
    } finally {
      setLoading(false);
    }
  };
  return (
    <>
      <h1>Weather</h1>
      <form className="lookup" onSubmit={onSubmit} noValidate>
        <div className="field">
          <label htmlFor="city">City</label>
          <input id="city" name="city" required autoComplete="address-level2" value={city} onChange={(e) => setCity(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="state">State</label>
          <input id="state" name="state" maxLength={2} size={3} autoComplete="address-level1" value={state} onChange={(e) => setState(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="country">Country</label>
          <input id="country" name="country" size={3} autoComplete="country" value={country} onChange={(e) => setCountry(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="units">Units</label>
          <select id="units" name="units" value={units} onChange={(e) => setUnits(e.target.value)}>
            {UNITS.map(([value, label]) => <option key={value} value={value}>{label}</option>)}
          </select>
        </div>
        <button type="submit" disabled={loading}>Get weather</button>
      </form>
      {outcome?.formError && <p className="error" role="alert">{outcome.formError}</p>}
      {loading && <p role="status" className="loading">Loading the weather…</p>}
      {outcome?.error && <ErrorNotice message={outcome.error} />}
      {outcome?.conditions && <Report conditions={outcome.conditions} units={outcome.units} place={outcome.place} />}
    </>
  );
}

function WeatherPage() {
  return (
    <>
      <AuthenticatedTemplate><WeatherForm /></AuthenticatedTemplate>
      <UnauthenticatedTemplate><p role="status">You're signed out. Sign in to continue.</p></UnauthenticatedTemplate>
    </>
  );
}

function NotFound() {
  return <><h1>Not found</h1><p><Link to="/">Go back to the start</Link></p></>;
}

function App({ instance }) {
  return (
    <MsalProvider instance={instance}>
      <Header />
      <main className="page">
        <Routes>
          <Route path="/" element={<Home />} />
          <Route path="/weather" element={<WeatherPage />} />
          <Route path="*" element={<NotFound />} />
        </Routes>
      </main>
    </MsalProvider>
  );
}

pca.initialize().then(() => {
  const accounts = pca.getAllAccounts();
  if (accounts.length > 0) pca.setActiveAccount(accounts[0]);
  pca.addEventCallback((event) => {
    if (event.eventType === EventType.LOGIN_SUCCESS && event.payload?.account) {
      pca.setActiveAccount(event.payload.account);
    }
  });
  createRoot(document.getElementById('root')).render(
    <StrictMode>
      <BrowserRouter>
        <App instance={pca} />
      </BrowserRouter>
    </StrictMode>,
  );
}).catch((err) => {
  document.getElementById('root').textContent = `Nimbus can't start: ${err?.message ?? err}`;
});
