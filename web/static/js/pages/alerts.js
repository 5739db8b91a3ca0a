// Alerts: the queue filtered by entity, watch and kind; acknowledge (analyst
// keys); new alerts appear live.

import {api} from '../api.js';
import {h, clear, section, fmtSat, fmtTime, short, errorBox} from '../dom.js';
import {live} from '../live.js';

export async function alertsPage(view, r) {
  const q = r.query;
  const entity = h('input', {name: 'entity', value: q.get('entity') || '', size: 18});
  const watch = h('input', {name: 'watch', value: q.get('watch') || '', size: 18});
  const kind = h('select', {name: 'kind'}, ['', 'funds_reached_entity', 'funds_moved', 'alert_retracted'].map((k) =>
    h('option', {value: k, selected: k === (q.get('kind') || '')}, k || 'any kind')));
  const form = h('form', {class: 'row', id: 'alerts-filter'}, h('label', {}, 'Entity', entity), h('label', {}, 'Watch', watch), h('label', {}, 'Kind', kind),
    h('button', {type: 'submit'}, 'Filter'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const p = new URLSearchParams();
    if (entity.value.trim()) p.set('entity', entity.value.trim());
    if (watch.value.trim()) p.set('watch', watch.value.trim());
    if (kind.value) p.set('kind', kind.value);
    location.hash = '#/alerts?' + p.toString();
  });
  const qs = new URLSearchParams();
  for (const k of ['entity', 'watch', 'kind']) if (q.get(k)) qs.set(k, q.get(k));
  const list = await api('/v1/alerts?' + qs.toString());
  const body = h('tbody', {id: 'alerts-list'});
  const matches = (a) => (!q.get('entity') || a.entity === q.get('entity')) && (!q.get('watch') || a.watch === q.get('watch')) && (!q.get('kind') || a.kind === q.get('kind'));
  const row = (a) => {
    const ack = a.acked ? h('span', {class: 'muted'}, 'acked ' + fmtTime(a.acked) + (a.acked_by ? ' by ' + a.acked_by : '')) :
      h('button', {type: 'button', class: 'secondary', 'data-ack': a.id, onclick: async (ev) => {
        const cell = ev.target.parentNode;
        try {
          const done = await api('/v1/alerts/' + encodeURIComponent(a.id) + '/ack', {method: 'POST'});
          clear(cell, h('span', {class: 'muted'}, 'acked ' + fmtTime(done.acked)));
        } catch (e) {
          clear(cell, errorBox(e));
        }
      }}, 'Acknowledge');
    return h('tr', {'data-alert': a.id}, h('td', {}, fmtTime(a.raised)), h('td', {}, a.kind), h('td', {}, a.watch), h('td', {}, a.entity || ''),
      h('td', {}, a.category || ''), h('td', {class: 'num'}, a.amount_sat !== undefined ? fmtSat(a.amount_sat) : String(a.amount || '')),
      h('td', {}, h('a', {href: '#/tx/' + a.chain + '/' + a.txid, class: 'mono', title: a.txid}, short(a.txid))), h('td', {}, ack));
  };
  for (const a of list.alerts.slice().reverse()) body.appendChild(row(a));
  view.appendChild(h('h1', {}, 'Alerts (' + list.count + ')'));
  view.appendChild(section('Filter', form));
  view.appendChild(section('Queue, newest first', h('table', {}, h('thead', {}, h('tr', {},
    ['Raised', 'Kind', 'Watch', 'Entity', 'Category', 'Amount', 'Tx', ''].map((x) => h('th', {}, x)))), body)));
  live.on(body, (name, a) => {
    if (name === 'alert' && matches(a)) {
      const tr = row(a);
      tr.classList.add('new');
      body.insertBefore(tr, body.firstChild);
    }
  });
}
