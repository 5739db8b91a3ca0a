// Address, transaction and cluster pages, and a box to look any of them up.

import {api} from '../api.js';
import {h, table, num, section, fmtSat, fmtTime, short} from '../dom.js';

export async function lookupPage(view) {
  const chain = h('input', {name: 'chain', value: 'btc', size: 12});
  const what = h('input', {name: 'q', placeholder: 'address, txid or cluster id', size: 70, required: true});
  const form = h('form', {class: 'row', id: 'lookup-form'}, h('label', {}, 'Address, transaction or cluster', what), h('label', {}, 'Chain', chain), h('button', {type: 'submit'}, 'Open'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = what.value.trim();
    const c = chain.value.trim();
    if (/^\d+$/.test(v)) location.hash = '#/cluster/' + v + '?chain=' + encodeURIComponent(c);
    else if (/^(0x)?[0-9a-fA-F]{64}$/.test(v)) location.hash = '#/tx/' + c + '/' + v;
    else location.hash = '#/address/' + c + '/' + v;
  });
  view.appendChild(h('h1', {}, 'Look up'));
  view.appendChild(section('Find', form));
}

function labelsTable(labels) {
  return table(['Entity', 'Category', 'Source', 'Confidence', 'TLP'], (labels || []).map((l) =>
    [h('span', {class: 'label-entity'}, l.entity || ''), l.category, l.source, num(String(l.confidence)), l.tlp || '']), {class: 'labels'});
}

export async function addressPage(view, r) {
  const [chain, addr] = r.args;
  const a = await api('/v1/addresses/' + encodeURIComponent(chain) + '/' + encodeURIComponent(addr));
  const cl = await api('/v1/labels?chain=' + encodeURIComponent(chain) + '&address=' + encodeURIComponent(addr)).catch(() => ({labels: []}));
  view.appendChild(h('h1', {class: 'mono'}, a.address));
  const rows = [['Chain', a.chain]];
  if (a.balance_sat !== undefined) {
    rows.push(['Balance', fmtSat(a.balance_sat)], ['Received', fmtSat(a.received_sat)], ['Sent', fmtSat(a.sent_sat)]);
  }
  for (const b of a.balances || []) rows.push(['Balance ' + (b.symbol || short(b.asset)), b.amount]);
  rows.push(['Transactions', String(a.tx_count)], ['First seen', fmtTime(a.first_seen)], ['Last seen', fmtTime(a.last_seen)]);
  rows.push(['Cluster', a.cluster_id ? h('a', {href: '#/cluster/' + a.cluster_id + '?chain=' + encodeURIComponent(a.chain)}, String(a.cluster_id)) : '-']);
  view.appendChild(h('div', {class: 'grid'},
    section('Address', table(['Field', 'Value'], rows)),
    section('Labels (with sources)', labelsTable(cl.labels && cl.labels.length ? cl.labels : a.labels))));
  view.appendChild(section('Trace', h('a', {href: '#/trace?chain=' + encodeURIComponent(a.chain) + '&seed=' + encodeURIComponent(a.address)}, 'Trace what this address received')));
}

export async function txPage(view, r) {
  const [chain, txid] = r.args;
  const t = await api('/v1/txs/' + encodeURIComponent(chain) + '/' + encodeURIComponent(txid));
  view.appendChild(h('h1', {class: 'mono'}, t.txid));
  const addr = (a) => a ? h('a', {href: '#/address/' + chain + '/' + a, class: 'mono'}, a) : '-';
  view.appendChild(section('Transaction', table(['Field', 'Value'], [
    ['Block', String(t.block_height)], ['Time', fmtTime(t.time)],
    ['Fee', t.fee_sat !== undefined ? fmtSat(t.fee_sat) : String(t.fee || '')],
  ])));
  if (t.inputs) {
    view.appendChild(h('div', {class: 'grid'},
      section('Inputs', table(['From', 'Amount'], t.inputs.map((i) => [i.coinbase ? 'coinbase' : addr(i.address), num(i.coinbase ? '' : fmtSat(i.amount_sat))]))),
      section('Outputs', table(['#', 'To', 'Amount', 'Spent by'], t.outputs.map((o) => [String(o.n), addr(o.address), num(fmtSat(o.amount_sat)),
        o.spent_by ? h('a', {href: '#/tx/' + chain + '/' + o.spent_by.txid, class: 'mono'}, short(o.spent_by.txid)) : 'unspent'])))));
  }
  if (t.transfers) {
    view.appendChild(section('Transfers', table(['Kind', 'From', 'To', 'Asset', 'Amount'], t.transfers.map((x) => [x.kind, addr(x.from), addr(x.to), short(x.asset), num(x.amount)]))));
  }
  view.appendChild(section('Trace', h('a', {href: '#/trace?chain=' + encodeURIComponent(chain) + '&seed=' + encodeURIComponent(t.txid)}, 'Trace this transaction\'s outputs')));
}

export async function clusterPage(view, r) {
  const id = r.args[0];
  const chain = r.query.get('chain');
  const c = await api('/v1/clusters/' + encodeURIComponent(id) + (chain ? '?chain=' + encodeURIComponent(chain) : ''));
  view.appendChild(h('h1', {}, 'Cluster ' + id));
  const fields = [];
  for (const [k, v] of Object.entries(c)) {
    if (v === null || typeof v !== 'object') fields.push([k, String(v)]);
  }
  view.appendChild(section('Cluster', table(['Field', 'Value'], fields)));
  for (const [k, v] of Object.entries(c)) {
    if (Array.isArray(v) && v.length) {
      const cols = typeof v[0] === 'object' && v[0] !== null ? Object.keys(v[0]) : ['value'];
      const cell = (x) => (x === null || x === undefined) ? '' : typeof x === 'object' ? JSON.stringify(x) : String(x);
      view.appendChild(section(k === 'evidence' ? 'Evidence: why merged' : k, table(cols, v.slice(0, 200).map((row) =>
        cols.map((col) => col === 'address' && typeof row === 'object' ? h('a', {href: '#/address/' + (c.chain || chain) + '/' + row[col], class: 'mono'}, row[col]) :
          h('span', {class: 'mono'}, cell(typeof row === 'object' && row !== null ? row[col] : row)))))));
    }
  }
}
