// Keys and audit (admin keys): list and create keys (the secret is shown
// once), revoke, and the audit log, newest first.

import {api} from '../api.js';
import {h, clear, table, section, fmtTime, errorBox} from '../dom.js';

export async function adminPage(view) {
  view.appendChild(h('h1', {}, 'Keys and audit'));
  let keys;
  try {
    keys = await api('/v1/keys');
  } catch (e) {
    if (e.status === 403) {
      view.appendChild(errorBox('Only admin keys see keys and the audit log.'));
      return;
    }
    throw e;
  }
  const role = h('select', {name: 'role'}, ['viewer', 'screener', 'analyst', 'admin'].map((r) => h('option', {value: r}, r)));
  const entity = h('input', {name: 'entity', size: 16});
  const created = h('div', {'aria-live': 'polite'});
  const form = h('form', {class: 'row', id: 'key-form'}, h('label', {}, 'Role', role), h('label', {}, 'Entity scope (optional)', entity), h('button', {type: 'submit'}, 'Create key'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const k = await api('/v1/keys', {method: 'POST', body: {role: role.value, entity: entity.value.trim() || undefined}});
      clear(created, h('p', {}, 'New ', k.role, ' key ', k.id, ' (shown once): ', h('code', {class: 'mono'}, k.key)));
    } catch (e) {
      clear(created, errorBox(e));
    }
  });
  const revoke = (k) => k.revoked ? 'revoked ' + fmtTime(k.revoked) : h('button', {type: 'button', class: 'secondary', onclick: async (ev) => {
    const cell = ev.target.parentNode;
    try {
      await api('/v1/keys/' + encodeURIComponent(k.id), {method: 'DELETE'});
      clear(cell, 'revoked');
    } catch (e) {
      clear(cell, errorBox(e));
    }
  }}, 'Revoke');
  view.appendChild(section('API keys', form, created, table(['Id', 'Role', 'Entity', 'TLP', 'Created', ''],
    keys.keys.map((k) => [h('span', {class: 'mono'}, k.id), k.role, k.entity || '', k.tlp_max || '', fmtTime(k.created), revoke(k)]), {id: 'keys'})));
  const audit = await api('/v1/audit?limit=1000');
  view.appendChild(section('Audit log (newest first)', table(['#', 'Time', 'Key', 'Method', 'Path', 'Items', 'Status', 'Risk'],
    audit.records.slice().reverse().slice(0, 200).map((r) => [String(r.seq), fmtTime(r.time), h('span', {class: 'mono'}, r.key_id), r.method,
      h('span', {class: 'mono'}, r.path), String(r.items || ''), String(r.status), r.risk || '']), {id: 'audit'})));
}
