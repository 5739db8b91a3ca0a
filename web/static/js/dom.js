// dom.js: building the page. Every piece of text goes through textContent
// (never innerHTML or similar): labels, incident names and annotations come
// from users and partners and must never be parsed as markup.

// h creates an element: h('a', {href: '#/x', class: 'c', onclick: fn}, 'text', child).
// Attributes are set with setAttribute (on* keys become event listeners);
// children are nodes or strings (as text nodes); null and false are skipped.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2), v);
    } else if (k === 'href' && !safeHref(String(v))) {
      continue; // only links inside the UI, to the API, or blobs
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// safeHref allows fragment links, same-origin paths and blob: URLs, and
// source links over http(s); never javascript: or data:.
export function safeHref(v) {
  return v.startsWith('#') || v.startsWith('/') || v.startsWith('blob:') || /^https?:\/\//i.test(v);
}

// clear empties el and appends children.
export function clear(el, ...children) {
  while (el.firstChild) el.removeChild(el.firstChild);
  append(el, children);
  return el;
}

// table builds a table: heads are strings; rows are arrays of cells (strings or nodes).
export function table(heads, rows, attrs) {
  return h('table', attrs || {},
    h('thead', {}, h('tr', {}, heads.map((x) => h('th', {scope: 'col'}, x)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => (c instanceof Node && c.tagName === 'TD') ? c : h('td', {}, c))))));
}

// num is a right-aligned numeric cell.
export function num(text) {
  return h('td', {class: 'num'}, text);
}

// fmtSat writes satoshis as BTC with 8 decimals (exact: integer arithmetic).
export function fmtSat(sat) {
  const n = BigInt(sat);
  const neg = n < 0n;
  const a = neg ? -n : n;
  const whole = a / 100000000n;
  const frac = (a % 100000000n).toString().padStart(8, '0');
  return (neg ? '-' : '') + group(whole.toString()) + '.' + frac + ' BTC';
}

// cents reads a USD JSON number (two decimals) as integer cents.
export function cents(usd) {
  return Math.round(Number(usd) * 100);
}

// fmtCents writes integer cents as dollars with thousands separators.
export function fmtCents(c) {
  const neg = c < 0;
  const a = Math.abs(c);
  return (neg ? '-' : '') + '$' + group(String(Math.floor(a / 100))) + '.' + String(a % 100).padStart(2, '0');
}

export function group(s) {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    if (i > 0 && (s.length - i) % 3 === 0) out += ',';
    out += s[i];
  }
  return out;
}

// fmtTime writes Unix seconds as an ISO date and time (UTC).
export function fmtTime(sec) {
  if (!sec) return '-';
  return new Date(sec * 1000).toISOString().replace('T', ' ').replace('.000Z', 'Z');
}

// short abbreviates a long id for display (the full id stays in title).
export function short(id) {
  const s = String(id || '');
  return s.length > 20 ? s.slice(0, 10) + '…' + s.slice(-6) : s;
}

// download saves a Blob under a file name.
export function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = h('a', {href: url, download: name});
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// section is a titled block.
export function section(title, ...children) {
  return h('section', {class: 'card'}, h('h2', {}, title), ...children);
}

// wide makes a section span the whole grid.
export function wide(el) {
  el.classList.add('wide');
  return el;
}

// errorBox shows an error.
export function errorBox(err) {
  return h('p', {class: 'error', role: 'alert'}, String(err && err.message ? err.message : err));
}
