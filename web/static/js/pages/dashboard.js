// The dashboard: the register's totals (GET /v1/incidents/report, the
// object incidents report --json prints) by year, actor and tier; the
// alert queue, live; the watched heists with where their money is; the
// store's tip per chain.

import {api} from '../api.js';
import {h, clear, table, num, section, wide, cents, fmtCents, fmtSat, fmtTime, short, errorBox} from '../dom.js';
import {live} from '../live.js';
import {runTrace} from '../jobs.js';

// totalsBy sums a report's incidents by key(incident): [[key, cents, count]], largest first.
export function totalsBy(incidents, key) {
  const m = new Map();
  for (const i of incidents) {
    const k = key(i);
    const v = m.get(k) || [k, 0, 0];
    v[1] += cents(i.usd);
    v[2]++;
    m.set(k, v);
  }
  return [...m.values()];
}

function totalsTable(id, head, rows) {
  return table([head, 'USD', 'Incidents'], rows.map(([k, c, n]) => [k, num(fmtCents(c)), num(String(n))]), {id});
}

// AUTO_TRACED is how many watches the dashboard traces when it opens (each
// is a trace job); the others have their trace link.
const AUTO_TRACED = 10;

export async function dashboard(view) {
  view.appendChild(h('h1', {}, 'Dashboard'));
  const grid = h('div', {class: 'grid'});
  view.appendChild(grid);
  const [rep, alerts, watches] = await Promise.all([
    api('/v1/incidents/report'), api('/v1/alerts'), api('/v1/watchlists').catch(() => ({watches: []})),
  ]);
  const years = totalsBy(rep.incidents, (i) => i.stolen_on.slice(0, 4)).sort((a, b) => b[0].localeCompare(a[0]));
  const actors = totalsBy(rep.incidents, (i) => i.actor || 'unattributed').sort((a, b) => b[1] - a[1]);
  const tiers = totalsBy(rep.incidents, (i) => i.tier || 'none').sort((a, b) => b[1] - a[1]);
  grid.appendChild(section('Thefts in the register',
    h('div', {class: 'big', id: 'total-usd'}, fmtCents(cents(rep.total_usd))),
    h('p', {class: 'muted'}, h('span', {id: 'incident-count'}, String(rep.count)), ' incidents, valued at the theft day (',
      h('a', {href: '#/incidents'}, 'list'), ')'),
    totalsTable('by-year', 'Year', years)));
  grid.appendChild(section('By actor and tier', totalsTable('by-actor', 'Actor', actors), h('p'), totalsTable('by-tier', 'Tier', tiers)));

  const queue = h('tbody', {id: 'alert-queue'});
  const row = (a) => h('tr', {'data-alert': a.id},
    h('td', {class: 'nowrap'}, fmtTime(a.raised)), h('td', {}, a.kind), h('td', {}, a.watch),
    h('td', {}, a.entity || ''), h('td', {class: 'num'}, a.amount_sat !== undefined ? fmtSat(a.amount_sat) : String(a.amount || '')),
    h('td', {}, h('a', {href: '#/tx/' + a.chain + '/' + a.txid, class: 'mono', title: a.txid}, short(a.txid))));
  for (const a of alerts.alerts.slice(-12).reverse()) queue.appendChild(row(a));
  const count = h('span', {id: 'alert-count'}, String(alerts.count));
  grid.appendChild(section('Ingest status', await ingestStatus()));
  grid.appendChild(wide(section('Alert queue',
    h('p', {class: 'muted'}, count, ' alerts; new ones appear here as the monitor raises them. ', h('a', {href: '#/alerts'}, 'All alerts')),
    h('table', {}, h('thead', {}, h('tr', {}, ['Raised', 'Kind', 'Watch', 'Entity', 'Amount', 'Tx'].map((x) => h('th', {}, x)))), queue))));
  live.on(queue, (name, a) => {
    if (name !== 'alert') return;
    const r = row(a);
    r.classList.add('new');
    queue.insertBefore(r, queue.firstChild);
    count.textContent = String(Number(count.textContent) + 1);
  });

  const wbody = h('tbody', {id: 'watches'});
  const wsec = section('Watched heists', h('table', {}, h('thead', {}, h('tr', {},
    ['Watch', 'Chain', 'Seeds', 'Unspent', 'At services', 'Trace'].map((x) => h('th', {}, x)))), wbody));
  grid.appendChild(wide(wsec));
  watches.watches.forEach((w, i) => {
    const auto = i < AUTO_TRACED;
    const unspent = h('td', {class: 'num'}, auto ? '…' : '');
    const services = h('td', {class: 'num'}, auto ? '…' : '');
    const seeds = w.seeds.join(',');
    wbody.appendChild(h('tr', {'data-watch': w.name}, h('td', {}, w.name), h('td', {}, w.chain), h('td', {class: 'num'}, String(w.seeds.length)),
      unspent, services, h('td', {}, h('a', {href: '#/trace?chain=' + encodeURIComponent(w.chain) + '&seed=' + encodeURIComponent(seeds) +
        '&policy=' + encodeURIComponent(w.policy || 'haircut')}, 'open'))));
    if (!auto) return; // the trace link shows it
    runTrace({chain: w.chain, seeds: w.seeds, policy: w.policy}, {el: wbody}).then((job) => {
      let u = 0n;
      let s = 0n;
      for (const k of job.result.sinks) {
        if (k.kind === 'unspent') u += BigInt(k.amount_sat || 0);
        if (k.kind === 'entity') s += BigInt(k.amount_sat || 0);
      }
      unspent.textContent = fmtSat(u);
      services.textContent = fmtSat(s);
    }).catch((e) => {
      unspent.textContent = '';
      clear(services, errorBox(e));
    });
  });
  if (!watches.watches.length) wbody.appendChild(h('tr', {}, h('td', {colspan: 6, class: 'muted'}, 'No watches.')));

}

// ingestStatus reads the store's tips from /metrics and the state from /readyz.
async function ingestStatus() {
  const [metrics, ready] = await Promise.all([
    fetch('/metrics').then((r) => r.text()),
    fetch('/readyz').then(async (r) => ({status: r.status, body: await r.json()})),
  ]);
  const rows = [];
  for (const line of metrics.split('\n')) {
    const m = /^heistgraph_store_tip_height\{chain="([^"]+)"\} (\S+)/.exec(line);
    if (m) rows.push([m[1], num(m[2])]);
  }
  const state = ready.status === 200 ? 'ready' : 'not ready: ' + (ready.body.error || ready.status);
  const follow = ready.body.follow ? JSON.stringify(ready.body.follow) : 'not following a node';
  return h('div', {},
    table(['Chain', 'Tip height'], rows, {id: 'tips'}),
    h('p', {class: 'muted'}, 'Server ', state, '; ', follow, '.'));
}
