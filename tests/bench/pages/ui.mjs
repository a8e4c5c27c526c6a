// The benchmark peers' shared page code (no framework): the same pages, markup, class names and
// accessible names as Nimbus (src/components/header.rs, src/pages/home.rs, src/pages/weather.rs),
// styled by Nimbus's own stylesheet. Each peer passes in what its library does: read the signed-in
// account, start the sign-in, and hand out an access token for the weather API.
//
//   startUi({ account, signIn, accessToken })
//     account():      { name, username } of the signed-in user, or null
//     signIn():       starts the sign-in (a redirect); resolves only on failure
//     accessToken():  resolves to an access token for the weather API's read scope

export const TENANT = '3f8d0c2a-5b1e-4c7d-9a6f-2e4b8c1d7a90';
export const AUTHORITY = `https://localhost:5443/${TENANT}/v2.0`;
export const READ = 'api://c2a9e7d1-4b3f-4e8a-b6d5-1f7a3c9e2b80/weather.read';
/** What every client asks for at sign-in (Nimbus's config.8081.json reads the same). */
export const SCOPES = ['openid', 'profile', 'offline_access', READ];
export const API = 'http://localhost:5558';

const UNITS = [
  ['metric', 'Metric (°C)', '°C'],
  ['imperial', 'Imperial (°F)', '°F'],
  ['standard', 'Standard (K)', 'K'],
];

/** h('tag.class', { attr: v, onclick: f }, ...children) */
function h(tag, attrs = {}, ...children) {
  const [name, ...classes] = tag.split('.');
  const el = document.createElement(name);
  if (classes.length) el.className = classes.join(' ');
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k in el && k !== 'list') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  el.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

function errorNotice(message) {
  return h('div.error', { role: 'alert' }, h('p', {}, message));
}

export function startUi({ account, signIn, accessToken }) {
  const header = h('header.top');
  const main = h('main.page');
  const problem = h('div');

  function navigate(path) {
    if (path !== location.pathname) history.pushState(null, '', path);
    renderPage();
  }

  function link(href, text, cls) {
    return h(`a${cls ? `.${cls}` : ''}`, {
      href,
      'aria-current': location.pathname === href ? 'page' : undefined,
      onclick: (ev) => {
        if (ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
        ev.preventDefault();
        navigate(href);
      },
    }, text);
  }

  function renderHeader() {
    const acc = account();
    const signInButton = h('button', {
      type: 'button',
      onclick: () => {
        signInButton.disabled = true;
        Promise.resolve(signIn()).catch((err) => {
          signInButton.disabled = false;
          problem.replaceChildren(h('div.page', {}, errorNotice(`Sign-in didn't start: ${err?.message ?? err}`)));
        });
      },
    }, 'Sign in');
    header.replaceChildren(
      link('/', 'Nimbus', 'brand'),
      h('nav', { 'aria-label': 'Main' }, link('/weather', 'Weather'), link('/reports', 'Reports')),
      h('div.account', {}, acc ? h('span.who', { title: acc.username ?? '' }, acc.name) : signInButton),
    );
  }

  function home() {
    const acc = account();
    return acc
      ? [h('h1', {}, `Welcome, ${acc.name}`),
        h('p', {}, "You're signed in. ", link('/weather', 'Check the weather'), '.')]
      : [h('h1', {}, 'Nimbus weather'),
        h('p', {}, 'Sign in with your work or school account to see the current weather anywhere.')];
  }

  function weather() {
    if (!account()) return [h('p', { role: 'status' }, "You're signed out. Sign in to continue.")];
    const field = (id, label, input) => h('div.field', {}, h('label', { htmlFor: id }, label), input);
    const city = h('input', { id: 'city', name: 'city', required: true, autocomplete: 'address-level2' });
    const state = h('input', { id: 'state', name: 'state', maxLength: 2, size: 3, autocomplete: 'address-level1' });
    const country = h('input', { id: 'country', name: 'country', size: 3, autocomplete: 'country', value: 'US' });
    const units = h('select', { id: 'units', name: 'units' },
      UNITS.map(([value, label]) => h('option', { value }, label)));
    const submit = h('button', { type: 'submit' }, 'Get weather');
    const out = h('div');
    const form = h('form.lookup', {
      noValidate: true,
      onsubmit: async (ev) => {
        ev.preventDefault();
        const c = city.value.trim();
        if (!c) {
          out.replaceChildren(h('p.error', { role: 'alert' }, 'Enter a city.'));
          return;
        }
        const params = new URLSearchParams({ country: country.value.trim() || 'US', units: units.value });
        if (state.value.trim()) params.set('state', state.value.trim());
        submit.disabled = true;
        out.replaceChildren(h('p.loading', { role: 'status' }, 'Loading the weather…'));
        try {
          const token = await accessToken();
          const res = await fetch(`${API}/api/weather/${encodeURIComponent(c)}?${params}`, {
            headers: { Authorization: `Bearer ${token}` },
          });
          if (!res.ok) throw new Error(`The weather service answered HTTP ${res.status}: ${await res.text()}`);
          out.replaceChildren(report(await res.json(), units.value, c));
        } catch (err) {
          out.replaceChildren(errorNotice(err?.message ?? String(err)));
        } finally {
          submit.disabled = false;
        }
      },
    },
    field('city', 'City', city), field('state', 'State', state), field('country', 'Country', country),
    field('units', 'Units', units), submit);
    return [h('h1', {}, 'Weather'), form, out];
  }

  function report(c, units, place) {
    const t = UNITS.find(([u]) => u === units)[2];
    const v = (x) => `${Number(x).toFixed(1)} ${t}`;
    return h('section.report', { 'aria-label': 'Current weather' },
      h('h2', {}, place),
      h('dl', {},
        h('dt', {}, 'Temperature'), h('dd', {}, v(c.temp)),
        h('dt', {}, 'Feels like'), h('dd', {}, v(c.feels_like)),
        h('dt', {}, 'Min / max'), h('dd', {}, `${v(c.temp_min)} / ${v(c.temp_max)}`),
        h('dt', {}, 'Pressure'), h('dd', {}, `${Number(c.pressure).toFixed(0)} hPa`),
        h('dt', {}, 'Humidity'), h('dd', {}, `${Number(c.humidity).toFixed(0)} %`)));
  }

  function renderPage() {
    renderHeader();
    const page = location.pathname === '/' ? home()
      : location.pathname === '/weather' ? weather()
        : [h('h1', {}, 'Not found'), h('p', {}, link('/', 'Go back to the start'))];
    main.replaceChildren(...page);
  }

  addEventListener('popstate', renderPage);
  renderPage();
  document.body.replaceChildren(header, problem, main);
}

/** Shown instead of the app when the library fails to start. */
export function showStartupError(err) {
  document.body.replaceChildren(h('main.page', {},
    h('h1', {}, "Nimbus can't start"), errorNotice(`${err?.errorCode ?? err?.name ?? 'error'}: ${err?.message ?? err}`)));
}
