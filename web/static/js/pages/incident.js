// The incident list and the incident page: sources, amounts and valuation,
// attacker addresses, the flow graph of its trace (a trace job with the
// run's seeds and policy), where the money is now by entity and sink kind,
// and exports.

import {api} from '../api.js';
import {h, table, num, section, cents, fmtCents, fmtSat, short, download, clear, errorBox} from '../dom.js';
import {render, sinkColour, getNote, setNote} from '../graph.js';
import {runTrace} from '../jobs.js';

export async function incidentsPage(view) {
  const v = await api('/v1/incidents');
  view.appendChild(h('h1', {}, 'Incidents (' + v.count + ')'));
  view.appendChild(section('The register',
    table(['Stolen', 'Incident', 'Victim', 'Tier', 'USD'], v.incidents.map((i) => [i.stolen_on,
      h('a', {href: '#/incident/' + encodeURIComponent(i.id)}, i.name), i.victim, i.tier || '', num(fmtCents(cents(i.usd)))]), {id: 'incidents'})));
}

// progressBar shows a running job's state.
export function progressBar() {
  const text = h('span', {class: 'muted'}, 'starting…');
  const el = h('div', {class: 'job', 'aria-live': 'polite'}, h('div', {class: 'progress'}, h('div')), text);
  el.update = (job) => {
    text.textContent = 'trace job ' + job.id + ': ' + job.status + ', ' + job.txs_visited + ' transactions read, ' + (job.elapsed_ms / 1000).toFixed(1) + ' s';
    if (job.status === 'done' || job.status === 'failed') el.firstChild.hidden = true;
  };
  return el;
}

export function legend(sinks) {
  const seen = new Map();
  for (const s of sinks) {
    const k = s.kind === 'entity' ? s.category || 'entity' : s.kind;
    if (!seen.has(k)) seen.set(k, sinkColour(s));
  }
  return h('div', {class: 'legend'}, [...seen].map(([k, c]) => h('span', {}, h('span', {class: 'swatch', style: 'background:' + c}), k)));
}

export async function incidentPage(view, r) {
  const id = r.args[0];
  const inc = await api('/v1/incidents/' + encodeURIComponent(id));
  view.appendChild(h('h1', {id: 'incident-name'}, inc.name));
  const srcByID = new Map(inc.sources.map((s) => [s.id, s]));
  const srcLink = (sid) => {
    const s = srcByID.get(sid);
    return s && s.url ? h('a', {href: s.url, rel: 'noopener noreferrer', target: '_blank'}, sid) : sid;
  };
  view.appendChild(h('div', {class: 'grid'},
    section('Theft',
      table(['Field', 'Value'], [
        ['Victim', inc.victim.name + ' (' + inc.victim.type + ')'],
        ['Stolen on', inc.stolen_on],
        ['Value', h('span', {}, fmtCents(cents(inc.usd)), ' at ', inc.usd_at, ' (', inc.usd_source, ')')],
        ['Vectors', (inc.vectors || []).join(', ')],
        ['TLP', inc.tlp],
      ]),
      h('h2', {}, 'Amounts'),
      table(['Chain', 'Asset', 'Amount (base units)', 'Source'], inc.thefts.map((t) => [t.chain, t.asset, num(t.amount), srcLink(t.source)])),
      h('h2', {}, 'Attribution'),
      table(['Actor', 'Group', 'Tier', 'On', 'Sources'], inc.attributions.map((a) => [a.actor, a.group || '', a.tier, a.on || '', h('span', {}, a.sources.map((s, i) => [i ? ', ' : '', srcLink(s)]))]))),
    section('Attacker addresses and transactions',
      table(['Chain', 'Address', 'Role', 'Source'], inc.addresses.map((a) => [a.chain,
        h('a', {href: '#/address/' + a.chain + '/' + a.address, class: 'mono'}, a.address), a.role, srcLink(a.source)]), {id: 'addresses'}),
      h('p'),
      table(['Chain', 'Transaction', 'Role', 'In store'], inc.txs.map((t) => [t.chain,
        t.in_store ? h('a', {href: '#/tx/' + t.chain + '/' + t.txid, class: 'mono'}, short(t.txid)) : h('span', {class: 'mono'}, short(t.txid)),
        t.role, t.in_store ? 'yes' : 'no']))),
    section('Sources',
      h('ul', {id: 'sources'}, inc.sources.map((s) => h('li', {}, s.url ? h('a', {href: s.url, rel: 'noopener noreferrer', target: '_blank'}, s.title) : s.title,
        ' — ', s.publisher, s.date ? ', ' + s.date : '', ' (', s.tier, ')'))))));

  const base = '/v1/incidents/' + encodeURIComponent(id);
  const exports = h('p', {class: 'row', id: 'incident-exports'},
    h('button', {type: 'button', class: 'secondary', onclick: () => download(new Blob([JSON.stringify(inc, null, 2)], {type: 'application/json'}), id + '.json')}, 'Export JSON'),
    exportLink(base + '/stix', id + '.stix.json', 'STIX 2.1 bundle'),
    exportLink(base + '/report.html', id + '-report.html', 'HTML report'));
  if (inc.trace.runs.length) exports.appendChild(exportLink(base + '/graph.graphml', id + '.graphml', 'GraphML of the trace'));
  const tr = section('Where the money went', h('p', {class: 'muted'}, inc.trace.note || ''), exports);
  tr.id = 'trace-section';
  view.appendChild(tr);
  if (inc.trace.status !== 'traced') {
    tr.appendChild(h('p', {id: 'no-trace'}, 'No trace: the store holds none of its theft transactions (', inc.trace.status, ').'));
    return;
  }
  for (const run of inc.trace.runs) {
    tr.appendChild(h('h2', {}, run.chain + ' — policy ' + run.policy + ', seed ' + fmtSat(run.seed_amount_sat) + ', fees ' + fmtSat(run.fees_sat)));
    tr.appendChild(h('div', {class: 'grid'},
      table(['Sink kind', 'Sinks', 'Amount'], run.by_kind.map((k) => [k.kind, num(String(k.sinks)), num(fmtSat(k.amount_sat))]), {id: 'by-kind'}),
      table(['Entity', 'Category', 'Amount'], run.by_entity.map((e) => [e.entity, e.category, num(fmtSat(e.amount_sat))]), {id: 'by-entity'})));
    tr.appendChild(legend(run.sinks));
    const bar = progressBar();
    const box = h('div', {class: 'graph', id: 'incident-graph', role: 'img', 'aria-label': 'flow graph of the trace'});
    const detail = h('div', {class: 'card', id: 'node-detail'}, h('p', {class: 'muted'}, 'Click a transaction to open its next hops; a sink for its details.'));
    tr.appendChild(bar);
    tr.appendChild(h('div', {class: 'split'}, box, detail));
    const job = await runTrace({chain: run.chain, seeds: run.seeds, policy: run.policy}, {onProgress: bar.update, el: bar});
    const g = render(box, job.result, {onSelect: (n) => showNode(detail, run.chain, n, g)});
    window.__hg = Object.assign(window.__hg || {}, {graph: g});
    exports.appendChild(h('button', {type: 'button', class: 'secondary', onclick: async () => download(await g.png(), id + '.png')}, 'Export PNG'));
    exports.appendChild(h('button', {type: 'button', class: 'secondary', onclick: () => downloadSVG(g, id)}, 'Export SVG'));
    exports.appendChild(h('button', {type: 'button', class: 'secondary', onclick: () => g.expandAll()}, 'Open every node'));
    exports.appendChild(h('a', {href: '#/trace?chain=' + encodeURIComponent(run.chain) + '&seed=' + encodeURIComponent(run.seeds.join(',')) +
      '&policy=' + encodeURIComponent(run.policy)}, 'Open in the trace workbench'));
  }
}

// exportLink is a link to an export route of the API: a click fetches it
// with the key (a plain link would send none) and saves the answer.
function exportLink(path, name, text) {
  const status = h('span', {class: 'muted', 'aria-live': 'polite'});
  const a = h('a', {href: path, download: name, class: 'export', onclick: async (ev) => {
    ev.preventDefault();
    status.textContent = ' …';
    try {
      const res = await api(path, {raw: true});
      download(await res.blob(), name);
      status.textContent = '';
    } catch (err) {
      status.textContent = ' ' + (err && err.message ? err.message : String(err));
    }
  }}, text);
  return h('span', {}, a, status);
}

// downloadSVG saves graph g as drawn as an SVG file.
export function downloadSVG(g, name) {
  download(new Blob([g.svg()], {type: 'image/svg+xml'}), name + '.svg');
}

export async function graphml(jobID, name) {
  const res = await api('/v1/traces/' + jobID + '/graphml', {raw: true});
  download(await res.blob(), name + '.graphml');
}

// noteForm lets the investigator annotate node n of graph g (kept in this
// browser; shown as text in the panel and the graph).
function noteForm(n, g) {
  const shown = h('p', {class: 'note'}, getNote(n.id));
  const input = h('textarea', {name: 'note', rows: 2, 'aria-label': 'note'});
  input.value = getNote(n.id);
  const form = h('form', {class: 'note-form'}, h('label', {}, 'Note', input), h('button', {type: 'submit', class: 'secondary'}, 'Save note'), shown);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    setNote(n.id, input.value.trim());
    shown.textContent = getNote(n.id);
    if (g) g.relabel(n.id);
  });
  return form;
}

// showNode fills the detail panel with a node of graph g.
export function showNode(panel, chain, n, g) {
  if (n.type === 'tx') {
    clear(panel, h('h2', {}, 'Transaction'), h('p', {class: 'mono'}, n.txid),
      h('p', {}, h('a', {href: '#/tx/' + chain + '/' + n.txid}, 'Open the transaction')), noteForm(n, g));
    return;
  }
  if (n.type === 'peel_chain' || n.type === 'coinjoin') {
    clear(panel, groupDetail(chain, n, g), noteForm(n, g));
    return;
  }
  const s = n.sink;
  clear(panel, h('h2', {}, 'Sink: ' + s.kind),
    table(['Field', 'Value'], [
      ['Entity', s.entity || '-'], ['Category', s.category || '-'],
      ['Amount', s.amount_sat !== undefined ? fmtSat(s.amount_sat) : String(s.amount)],
      ['Hops', String(s.hops)], ['Output', h('span', {class: 'mono'}, s.txid + ':' + s.vout)],
      ['Address', s.address ? h('a', {href: '#/address/' + chain + '/' + s.address, class: 'mono'}, s.address) : '-'],
    ]), noteForm(n, g));
}

// groupDetail describes a collapsed peel chain or CoinJoin (the trace
// event's fields) and lists its transactions.
function groupDetail(chain, n, g) {
  const ev = n.event;
  const txs = n.members.filter((id) => g && g.base.nodes.get(id).type === 'tx');
  const txList = h('ol', {class: 'mono'}, txs.map((t) => h('li', {}, h('a', {href: '#/tx/' + chain + '/' + t}, short(t)))));
  if (n.type === 'peel_chain') {
    return h('div', {},
      h('h2', {}, 'Peel chain of ' + ev.length + ' steps'),
      h('p', {class: 'muted'}, 'Opened into its steps in the graph; the peels are the edges to sinks.'),
      table(['Field', 'Value'], [
        ['Start amount', fmtSat(ev.start_amount)], ['Peeled', fmtSat(ev.total_peeled)], ['Fees', fmtSat(ev.total_fees)],
        ['End remainder', fmtSat(ev.end_remainder) + ' (' + ev.end + ')'], ['Median gap', String(ev.median_gap_s) + ' s'],
        ['Confidence', ev.confidence],
      ]),
      h('h2', {}, 'Peels by entity'),
      table(['Entity', 'Amount', 'Peels'], (ev.peels_by_entity || []).map((p) => [p.entity ? p.entity + ' (' + p.category + ')' : '(unlabelled)',
        num(fmtSat(p.amount)), num(String(p.count))])),
      h('h2', {}, 'Steps'), txList);
  }
  return h('div', {},
    h('h2', {}, 'CoinJoin (' + ev.subtype + ')'),
    h('p', {class: 'muted'}, 'Opened into the transaction and its outputs in the graph.'),
    table(['Field', 'Value'], [
      ['Tainted amount in', fmtSat(ev.tainted_sat)], ['Confidence', ev.confidence || '-'], ['Participants', String(ev.participants || '-')],
      ['Anonymity set', String(ev.anonymity_set || '-')], ['Traced through', ev.through ? 'yes' : 'no (the trace stops: a mixer sink)'],
    ]),
    h('h2', {}, 'Transaction'), txList);
}

export {errorBox};
