// The trace workbench: seeds (txid, outpoint or address), a policy or every
// policy side by side, the interactive graph, exports, and a deep link: the
// URL hash holds the seeds, the policy and the nodes opened, so the link
// reproduces the view.

import {h, table, num, section, fmtSat, download} from '../dom.js';
import {render} from '../graph.js';
import {runTrace} from '../jobs.js';
import {progressBar, legend, graphml, showNode, downloadSVG} from './incident.js';

const POLICIES = ['haircut', 'poison', 'fifo', 'lifo', 'tiho'];

export async function tracePage(view, r) {
  const q = r.query;
  const chain = h('input', {name: 'chain', value: q.get('chain') || '', placeholder: 'btc (default: the store\'s)', size: 14});
  const seeds = h('input', {name: 'seed', value: q.get('seed') || '', placeholder: 'TXID, TXID:VOUT or address; several separated by commas', size: 70, required: true});
  const policy = h('select', {name: 'policy'}, POLICIES.map((p) => h('option', {value: p, selected: p === (q.get('policy') || 'haircut')}, p)));
  const compare = h('input', {type: 'checkbox', name: 'compare', checked: q.get('compare') === '1'});
  const hops = h('input', {type: 'number', name: 'max_hops', min: 1, value: q.get('max_hops') || '', placeholder: '50', size: 5});
  const form = h('form', {class: 'row', id: 'trace-form'},
    h('label', {}, 'Seeds', seeds), h('label', {}, 'Chain', chain), h('label', {}, 'Policy', policy),
    h('label', {}, 'Max hops', hops), h('label', {}, 'Compare policies', compare), h('button', {type: 'submit'}, 'Trace'));
  const out = h('div', {id: 'trace-out'});
  view.appendChild(h('h1', {}, 'Trace workbench'));
  view.appendChild(section('Seeds and policy', form));
  view.appendChild(out);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const p = new URLSearchParams();
    if (chain.value.trim()) p.set('chain', chain.value.trim());
    p.set('seed', seeds.value.trim());
    p.set('policy', policy.value);
    if (compare.checked) p.set('compare', '1');
    if (hops.value) p.set('max_hops', hops.value);
    location.hash = '#/trace?' + p.toString(); // the router runs the trace
  });
  if (!q.get('seed')) {
    out.appendChild(h('p', {class: 'muted'}, 'Start from a theft transaction, an output or an address.'));
    return;
  }
  const req = {chain: q.get('chain') || '', seeds: q.get('seed').split(',').map((s) => s.trim()).filter(Boolean), policy: q.get('policy') || 'haircut'};
  if (q.get('max_hops')) req.max_hops = Number(q.get('max_hops'));
  if (q.get('compare') === '1') req.compare = true;
  const bar = progressBar();
  out.appendChild(bar);
  const job = await runTrace(req, {onProgress: bar.update, el: bar});
  const open = (q.get('open') || '').split(',').filter(Boolean);
  const results = req.compare ? job.result.results : [job.result];
  const grid = h('div', {class: req.compare ? 'compare' : ''});
  out.appendChild(grid);
  const graphs = [];
  for (const res of results) {
    const chainName = res.chain || req.chain;
    const box = h('div', {class: 'graph', 'data-policy': res.policy, role: 'img', 'aria-label': 'trace graph, policy ' + res.policy});
    const detail = h('div', {class: 'card node-detail'}, h('p', {class: 'muted'}, 'Click a transaction to open its next hops; a sink for its details.'));
    const sum = summary(res);
    const exportRow = h('p', {class: 'row'});
    const card = section('Policy ' + res.policy, sum, legend(res.sinks || []), exportRow, req.compare ? h('div', {}, box, detail) : h('div', {class: 'split'}, box, detail));
    grid.appendChild(card);
    const g = render(box, res, {onSelect: (n) => {
      showNode(detail, chainName, n, g);
      if (n.type !== 'sink') remember(n.id);
    }});
    for (const id of open) g.expand(id);
    graphs.push(g);
    exportRow.appendChild(h('button', {type: 'button', class: 'secondary', onclick: async () => download(await g.png(), 'trace-' + res.policy + '.png')}, 'Export PNG'));
    exportRow.appendChild(h('button', {type: 'button', class: 'secondary', onclick: () => downloadSVG(g, 'trace-' + res.policy)}, 'Export SVG'));
    exportRow.appendChild(h('button', {type: 'button', class: 'secondary', onclick: () => g.expandAll()}, 'Open every node'));
    if (!req.compare && res.seed_amount_sat !== undefined) {
      exportRow.appendChild(h('button', {type: 'button', class: 'secondary', onclick: () => graphml(job.id, 'trace-' + job.id)}, 'Export GraphML'));
    }
    exportRow.appendChild(h('button', {type: 'button', class: 'secondary', onclick: () => download(new Blob([JSON.stringify(res, null, 2)], {type: 'application/json'}), 'trace-' + res.policy + '.json')}, 'Export JSON'));
  }
  window.__hg = Object.assign(window.__hg || {}, {graph: graphs[0], graphs});
}

// remember adds an opened node to the deep link without running the page again.
function remember(id) {
  const [path, qs] = location.hash.split('?');
  const p = new URLSearchParams(qs || '');
  const open = (p.get('open') || '').split(',').filter(Boolean);
  if (!open.includes(id)) open.push(id);
  p.set('open', open.join(','));
  history.replaceState(null, '', path + '?' + p.toString());
}

function summary(res) {
  const sinks = res.sinks || [];
  const byKind = new Map();
  for (const s of sinks) {
    const v = byKind.get(s.kind) || {n: 0, sat: 0n};
    v.n++;
    v.sat += BigInt(s.amount_sat || 0);
    byKind.set(s.kind, v);
  }
  return h('div', {},
    h('p', {class: 'muted'}, 'seed ', res.seed_amount_sat !== undefined ? fmtSat(res.seed_amount_sat) : String(res.seed_amount || ''),
      ', fees ', res.fees_sat !== undefined ? fmtSat(res.fees_sat) : String(res.fees || ''), ', ', String((res.stats && res.stats.txs_visited) || 0), ' transactions visited'),
    table(['Sink kind', 'Sinks', 'Amount'], [...byKind].map(([k, v]) => [k, num(String(v.n)), num(fmtSat(v.sat))]), {class: 'compact'}));
}
