// Screening: paste addresses (POST /v1/screen, a batch) or upload a payroll
// CSV (POST /v1/screen/payroll); the answer's risk and reasons are shown as
// the API gives them.

import {api} from '../api.js';
import {h, clear, table, section, errorBox} from '../dom.js';

function riskCell(risk) {
  return h('span', {class: 'risk risk-' + risk}, risk);
}

export async function screenPage(view) {
  view.appendChild(h('h1', {}, 'Screening'));
  const chain = h('input', {name: 'chain', value: 'btc', size: 12, required: true});
  const addrs = h('textarea', {name: 'addresses', id: 'screen-addresses', placeholder: 'one address a line', required: true});
  const out = h('div', {id: 'screen-out', 'aria-live': 'polite'});
  const form = h('form', {id: 'screen-form'}, h('div', {class: 'row'}, h('label', {}, 'Chain', chain)), h('label', {}, 'Addresses', addrs),
    h('p', {}, h('button', {type: 'submit'}, 'Screen')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const items = addrs.value.split(/\s+/).filter(Boolean).map((a) => ({chain: chain.value.trim(), address: a}));
    clear(out, h('p', {class: 'muted'}, 'screening ' + items.length + '…'));
    try {
      const res = await api('/v1/screen', {method: 'POST', body: {items}});
      clear(out, table(['Address', 'Risk', 'Sanctioned', 'Direct', 'Indirect', 'Reasons'], res.results.map((r, i) => r.error ?
        [items[i].address, 'error', '', '', '', r.error] : [
          h('a', {href: '#/address/' + r.chain + '/' + r.address, class: 'mono'}, r.address), riskCell(r.risk), r.sanctioned ? 'yes' : 'no',
          h('ul', {}, (r.direct || []).map((d) => h('li', {}, (d.entity || '') + ' (' + d.category + ')'))),
          h('ul', {}, (r.indirect || []).map((d) => h('li', {}, d.category + ' ' + (d.share * 100).toFixed(2) + '% at ' + d.hops + ' hops'))),
          h('ul', {class: 'reasons'}, (r.reasons || []).map((x) => h('li', {}, x)))]), {id: 'screen-results'}));
    } catch (e) {
      clear(out, errorBox(e));
    }
  });
  view.appendChild(section('Addresses', form, out));

  const file = h('input', {type: 'file', accept: '.csv,text/csv', id: 'payroll-file'});
  const pout = h('div', {id: 'payroll-out', 'aria-live': 'polite'});
  const pform = h('form', {id: 'payroll-form'}, h('p', {class: 'muted'}, 'CSV with header id,name,email,chain,address: one wallet a row, several rows per payee allowed.'),
    h('label', {}, 'Payroll CSV', file), h('p', {}, h('button', {type: 'submit'}, 'Screen payroll')));
  pform.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      if (!file.files.length) throw new Error('choose a CSV file');
      const payees = parsePayroll(await file.files[0].text());
      const res = await api('/v1/screen/payroll', {method: 'POST', body: {payees}});
      clear(pout, table(['Payee', 'Risk', 'Flags'], res.payees.map((p) => [p.id, riskCell(p.risk),
        h('ul', {}, (p.flags || []).map((f) => h('li', {}, f.kind + ': ' + (f.detail || ''))))]), {id: 'payroll-results'}));
    } catch (e) {
      clear(pout, errorBox(e));
    }
  });
  view.appendChild(section('Payroll', pform, pout));
}

// parsePayroll reads the payroll CSV (id,name,email,chain,address) into the
// request's payees; quoted fields may hold commas and doubled quotes.
export function parsePayroll(text) {
  const rows = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim()) continue;
    const cells = [];
    let cur = '';
    let quoted = false;
    for (let i = 0; i < line.length; i++) {
      const c = line[i];
      if (quoted) {
        if (c === '"' && line[i + 1] === '"') { cur += '"'; i++; } else if (c === '"') quoted = false; else cur += c;
      } else if (c === '"') quoted = true;
      else if (c === ',') { cells.push(cur); cur = ''; } else cur += c;
    }
    cells.push(cur);
    rows.push(cells.map((s) => s.trim()));
  }
  const head = rows.shift() || [];
  const want = ['id', 'name', 'email', 'chain', 'address'];
  if (want.some((w, i) => head[i] !== w)) throw new Error('line 1: the header must be ' + want.join(','));
  const byID = new Map();
  rows.forEach((r, i) => {
    if (r.length !== 5) throw new Error('line ' + (i + 2) + ': ' + r.length + ' fields, want 5');
    const [id, name, email, chain, address] = r;
    if (!byID.has(id)) byID.set(id, {id, name, email, wallets: []});
    byID.get(id).wallets.push({chain, address});
  });
  return [...byID.values()];
}
