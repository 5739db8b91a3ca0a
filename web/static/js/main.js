// main.js: login, the hash router and the live alert stream.

import {api, getKey, setKey, stream} from './api.js';
import {h, clear, errorBox} from './dom.js';
import {dashboard} from './pages/dashboard.js';
import {incidentPage, incidentsPage} from './pages/incident.js';
import {tracePage} from './pages/trace.js';
import {addressPage, txPage, clusterPage, lookupPage} from './pages/lookup.js';
import {screenPage} from './pages/screen.js';
import {alertsPage} from './pages/alerts.js';
import {adminPage} from './pages/admin.js';
import {live} from './live.js';

const main = document.getElementById('main');

// routes: the first part of the hash after #/ names the page.
const routes = {
  '': dashboard,
  incident: incidentPage,
  incidents: incidentsPage,
  trace: tracePage,
  address: addressPage,
  tx: txPage,
  cluster: clusterPage,
  lookup: lookupPage,
  screen: screenPage,
  alerts: alertsPage,
  admin: adminPage,
};

// parseHash reads #/page/a/b?x=1 as {page, args: [a, b], query}.
export function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, qs] = raw.split('?');
  const parts = path.split('/').map(decodeURIComponent);
  return {page: parts[0] || '', args: parts.slice(1), query: new URLSearchParams(qs || '')};
}

let current = 0;

async function route() {
  const r = parseHash();
  for (const a of document.querySelectorAll('#nav a')) {
    const page = a.getAttribute('href').replace(/^#\/?/, '');
    if (page === r.page || (page === 'lookup' && ['address', 'tx', 'cluster'].includes(r.page))) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (!getKey()) {
    loginForm();
    return;
  }
  const page = routes[r.page];
  const n = ++current;
  const view = h('div', {id: 'view', 'data-page': r.page || 'dashboard'});
  clear(main, view);
  if (!page) {
    view.appendChild(errorBox('no page ' + r.page));
    return;
  }
  try {
    await page(view, r);
  } catch (e) {
    if (n !== current) return;
    if (e.status === 401) {
      setKey('');
      loginForm('That key is not valid any more: log in again.');
      return;
    }
    view.appendChild(errorBox(e));
  }
  if (n !== current) return;
  view.setAttribute('data-ready', performance.now().toFixed(1)); // ms since the page loaded
  // Keyboard users land on the page's heading, not on the link they followed.
  const h1 = view.querySelector('h1');
  if (h1 && document.activeElement && document.activeElement.closest('#nav, #view')) {
    h1.setAttribute('tabindex', '-1');
    h1.focus({preventScroll: true});
  }
}

function loginForm(msg) {
  const input = h('input', {id: 'key', type: 'password', autocomplete: 'off', required: true, placeholder: 'hg_...', size: 40});
  const err = h('div');
  const form = h('form', {class: 'card login', id: 'login'},
    h('h1', {}, 'Log in'),
    h('p', {class: 'muted'}, 'Paste an API key (heistgraph keys create --role viewer). It stays in this tab only (sessionStorage) and is sent as the Bearer header.'),
    msg ? errorBox(msg) : null,
    h('label', {}, 'API key', input),
    h('p', {}, h('button', {type: 'submit'}, 'Log in')),
    err);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    setKey(input.value.trim());
    try {
      await api('/v1/incidents');
    } catch (e) {
      setKey('');
      clear(err, errorBox(e));
      return;
    }
    start();
  });
  clear(main, form);
  input.focus();
  document.getElementById('logout').hidden = true;
}

function start() {
  document.getElementById('logout').hidden = false;
  live.onLost = route;
  live.start(stream);
  route();
}

document.getElementById('logout').addEventListener('click', () => {
  setKey('');
  live.stop();
  loginForm();
});
window.addEventListener('hashchange', route);
if (getKey()) start();
else route();
