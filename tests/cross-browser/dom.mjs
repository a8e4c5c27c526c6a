// In-page helpers shared by every engine: they run inside the page (puppeteer's evaluate,
// WebDriver's executeScript), so they may use only what the page itself has, plus `__xbFind`
// (findElement below), which callSource puts in scope. They are sent as source text
// (Function.prototype.toString): no closures over module scope.

/**
 * Finds the first visible element matching `q`, or null. Queries (the only selectors the
 * cross-browser flows use, kept stable through the UI rewrite):
 *   { role, name?, exact? }  an element of that ARIA role whose accessible name matches `name`
 *                            (case-insensitive substring, or equal when `exact`);
 *                            roles: button, link, region, list, listitem, alert, heading
 *   { label }                a form control whose label is exactly `label`
 *   { role: 'button', nameIncludes, haspopup: true }  see accountButton in flows.mjs
 * Accessible names are a simplified accname: aria-labelledby, aria-label, <label>, then text
 * content without aria-hidden parts.
 */
export function findElement(q) {
  const norm = (s) => String(s ?? '').replace(/\s+/g, ' ').trim();
  const visible = (el) => {
    if (!el.isConnected || el.closest('[hidden], [aria-hidden="true"]')) return false;
    if (typeof el.checkVisibility === 'function') {
      return el.checkVisibility({ visibilityProperty: true, opacityProperty: false });
    }
    const s = getComputedStyle(el);
    return s.visibility !== 'hidden' && s.display !== 'none' && el.getClientRects().length > 0;
  };
  const textOf = (node) => {
    if (node.nodeType === Node.TEXT_NODE) return node.textContent;
    if (node.nodeType !== Node.ELEMENT_NODE) return '';
    if (node.getAttribute('aria-hidden') === 'true' || node.hidden) return '';
    if (node.hasAttribute('aria-label')) return ` ${node.getAttribute('aria-label')} `;
    let out = '';
    for (const child of node.childNodes) out += textOf(child);
    return ['DIV', 'P', 'LI', 'BR'].includes(node.tagName) ? ` ${out} ` : out;
  };
  const nameOf = (el) => {
    const by = el.getAttribute('aria-labelledby');
    if (by) {
      const parts = by.split(/\s+/).map((id) => document.getElementById(id)).filter(Boolean);
      if (parts.length) return norm(parts.map((p) => p.textContent).join(' '));
    }
    if (el.hasAttribute('aria-label')) return norm(el.getAttribute('aria-label'));
    if (el.labels && el.labels.length) return norm([...el.labels].map((l) => l.textContent).join(' '));
    if (el.tagName === 'INPUT' && ['submit', 'button'].includes(el.type)) return norm(el.value);
    return norm(textOf(el));
  };
  const roleSelectors = {
    button: 'button, [role="button"], input[type="submit"], input[type="button"]',
    link: 'a[href], [role="link"]',
    region: 'section[aria-label], section[aria-labelledby], [role="region"]',
    list: 'ul, ol, [role="list"]',
    listitem: 'li, [role="listitem"]',
    alert: '[role="alert"]',
    heading: 'h1, h2, h3, h4, h5, h6, [role="heading"]',
  };
  let candidates;
  if (q.label !== undefined) {
    candidates = [...document.querySelectorAll('input, select, textarea')].filter(
      (el) => nameOf(el).toLowerCase() === norm(q.label).toLowerCase(),
    );
  } else {
    const sel = roleSelectors[q.role];
    if (!sel) throw new Error(`findElement: unknown role ${q.role}`);
    candidates = [...document.querySelectorAll(sel)];
    if (q.haspopup) {
      candidates = candidates.filter((el) => el.hasAttribute('aria-haspopup') || el.hasAttribute('aria-expanded'));
    }
    if (q.name !== undefined) {
      const want = norm(q.name).toLowerCase();
      candidates = candidates.filter((el) => {
        const have = nameOf(el).toLowerCase();
        return q.exact ? have === want : have.includes(want);
      });
    }
  }
  return candidates.find(visible) ?? null;
}

/** The visible text of the element `q` finds (innerText), or null when there is none. With
 *  `all`, its whole text content, also what a closed <details> holds (as Playwright's
 *  toContainText reads it). */
export function textOfElement(q, { all = false } = {}) {
  // eslint-disable-next-line no-undef
  const el = __xbFind(q);
  return el ? (all ? el.textContent : el.innerText).replace(/\s+/g, ' ').trim() : null;
}

/** The value of the form control labelled `label`, or null. */
export function valueOfLabel(label) {
  // eslint-disable-next-line no-undef
  const el = __xbFind({ label });
  return el ? el.value : null;
}

/** Visible text of the page header (where the signed-in user's name shows). */
export function headerText() {
  const h = document.querySelector('header, [role="banner"]');
  return h ? h.innerText.replace(/\s+/g, ' ').trim() : '';
}

/** Everything in this tab's sessionStorage and localStorage. */
export function storage() {
  const dump = (s) => {
    const out = {};
    for (let i = 0; i < s.length; i += 1) out[s.key(i)] = s.getItem(s.key(i));
    return out;
  };
  return { session: dump(sessionStorage), local: dump(localStorage) };
}

/** Replaces this tab's sessionStorage with `entries` (what Duplicate Tab gives a new tab). */
export function setSessionStorage(entries) {
  sessionStorage.clear();
  for (const [k, v] of Object.entries(entries)) sessionStorage.setItem(k, v);
  return sessionStorage.length;
}

/**
 * Console and error collection for engines without preload scripts (WebKitGTK's classic
 * WebDriver): wraps console.* and listens for errors and CSP violations in the current document,
 * then hands over (and clears) what was collected. Installed again in every new document.
 */
export function harvestConsole() {
  const w = window;
  if (!w.__xbLog) {
    w.__xbLog = [];
    for (const level of ['error', 'warn', 'log', 'info', 'debug']) {
      const original = console[level];
      console[level] = function wrapped(...args) {
        try {
          w.__xbLog.push(`${level}: ${args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ')}`);
        } catch { /* never break the page's own logging */ }
        return original.apply(this, args);
      };
    }
    w.addEventListener('error', (e) => w.__xbLog.push(`pageerror: ${e.message}`));
    w.addEventListener('unhandledrejection', (e) => w.__xbLog.push(`pageerror: unhandled rejection ${e.reason}`));
    document.addEventListener('securitypolicyviolation', (e) =>
      w.__xbLog.push(`error: CSP violation: ${e.violatedDirective} blocked ${e.blockedURI}`));
  }
  const out = w.__xbLog.splice(0);
  return out;
}

/**
 * Source text that calls `fn` in the page with `__xbFind` (findElement) in scope. The drivers
 * send it as a script (WebDriver BiDi script.evaluate, WebDriver classic executeScript): the page's
 * CSP forbids eval/new Function inside the page, but scripts the driver runs are not bound by it.
 */
export function callSource(fn, args) {
  return `(async () => { const __xbFind = (${findElement.toString()}); return (${fn.toString()})(...${JSON.stringify(args)}); })()`;
}
