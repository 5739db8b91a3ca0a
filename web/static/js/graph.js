// graph.js: a trace result (trace --json's object) as an interactive
// left-to-right graph: transactions are round nodes, sinks are boxes
// coloured by kind (entity sinks by their category), edges carry amount,
// share of the seed and the transaction. Clicking a transaction shows its
// next hops; the rest of the graph opens from the seeds a few hops deep.

import cytoscape from '../vendor/cytoscape.esm.min.mjs';
import dagre from '../vendor/cytoscape-dagre.min.mjs';
import {fmtSat, short} from './dom.js';

cytoscape.use(dagre);

// Colours of sink kinds, and of entity sinks by category.
export const KIND_COLOURS = {
  entity: '#7b1fa2', unspent: '#2e7d32', threshold: '#9e9e9e', hop_limit: '#ef6c00',
  untraced: '#616161', burned: '#000000', overlap: '#bdbdbd', swap: '#00838f',
};
export const CATEGORY_COLOURS = {
  exchange: '#1565c0', high_risk_exchange: '#0d47a1', p2p_exchange: '#1976d2', mixer: '#c62828',
  bridge: '#6a1b9a', gambling: '#ad1457', darknet: '#4e342e', merchant: '#00695c', service: '#455a64',
};

export function sinkColour(s) {
  if (s.kind === 'entity' && CATEGORY_COLOURS[s.category]) return CATEGORY_COLOURS[s.category];
  return KIND_COLOURS[s.kind] || '#795548';
}

// sinkID is a sink's node id: its output (and input, for a sink at an input).
export function sinkID(s) {
  return 's:' + s.txid + ':' + s.vout + (s.input ? ':' + s.input : '');
}

function amountOf(x) {
  return x.amount_sat !== undefined ? x.amount_sat : (x.amount !== undefined ? x.amount : 0);
}

function fmtAmount(x) {
  if (x.amount_sat !== undefined) return fmtSat(x.amount_sat);
  return String(x.amount) + ' ' + short(x.asset || '');
}

// model turns a trace result into nodes and edges with each node's
// children: the transactions and sinks exactly as the trace gives them.
export function model(res) {
  const seed = Number(res.seed_amount_sat || 0);
  const nodes = new Map();
  const edges = [];
  const children = new Map();
  const addTx = (id) => {
    if (!nodes.has(id)) nodes.set(id, {id, type: 'tx', txid: id});
    return nodes.get(id);
  };
  const link = (from, to) => {
    if (!children.has(from)) children.set(from, []);
    children.get(from).push(to);
  };
  for (const e of res.edges || []) {
    addTx(e.from);
    addTx(e.to);
    const amt = amountOf(e);
    edges.push({id: 'e:' + e.from + '>' + e.to, source: e.from, target: e.to, amount: amt, share: seed ? Number(amt) / seed : null,
      txid: e.to, text: fmtAmount(e)});
    link(e.from, e.to);
  }
  for (const s of res.sinks || []) {
    const id = sinkID(s);
    addTx(s.txid);
    if (!nodes.has(id)) nodes.set(id, {id, type: 'sink', sink: s});
    const amt = amountOf(s);
    edges.push({id: 'k:' + id, source: s.txid, target: id, amount: amt, share: seed ? Number(amt) / seed : null, txid: s.txid,
      text: fmtAmount(s)});
    link(s.txid, id);
  }
  return {nodes, edges, children, seed};
}

// groups finds what the graph collapses into one node (methods.md §5.2,
// §4.7): each peel chain of the trace's events (its steps; the peels stay
// edges to their sinks) and each CoinJoin (the transaction and the sinks at
// it). A transaction belongs to the first group that names it.
export function groups(res, base) {
  const byID = new Map();
  const groupOf = new Map();
  const add = (g) => {
    if (g.members.length < 2 || byID.has(g.id)) return;
    byID.set(g.id, g);
    for (const id of g.members) groupOf.set(id, g.id);
  };
  for (const ev of res.events || []) {
    if (ev.kind === 'peel_chain') {
      const members = (ev.steps || []).filter((id) => base.nodes.has(id) && !groupOf.has(id));
      add({id: 'peel:' + ev.head_txid, type: 'peel_chain', event: ev, members, amount: ev.total_peeled,
        label: 'peel chain ×' + ev.length + ' · peeled ' + fmtSat(ev.total_peeled)});
    } else if (ev.kind === 'coinjoin' && base.nodes.has(ev.txid) && !groupOf.has(ev.txid)) {
      const sinks = (base.children.get(ev.txid) || []).filter((c) => base.nodes.get(c).type === 'sink' && !groupOf.has(c));
      add({id: 'coinjoin:' + ev.txid, type: 'coinjoin', event: ev, members: [ev.txid, ...sinks], amount: ev.tainted_sat,
        label: 'CoinJoin ' + ev.subtype + ' · ' + sinks.length + ' outputs · ' + fmtSat(ev.tainted_sat)});
    }
  }
  return {byID, groupOf};
}

// view is the graph drawn: base with the collapsed groups each one node
// (edges into and out of a group merged per node pair, edges inside it
// dropped), and each node's depth (hops from the roots, transactions
// nothing flows into).
export function view(base, grp, collapsed) {
  const rep = (id) => {
    const g = grp.groupOf.get(id);
    return g !== undefined && collapsed.has(g) ? g : id;
  };
  const nodes = new Map();
  for (const n of base.nodes.values()) {
    const r = rep(n.id);
    if (!nodes.has(r)) nodes.set(r, r === n.id ? n : grp.byID.get(r));
  }
  const edges = [];
  const at = new Map();
  const children = new Map();
  for (const e of base.edges) {
    const source = rep(e.source);
    const target = rep(e.target);
    if (source === target) continue;
    if (source === e.source && target === e.target) {
      edges.push(e);
    } else {
      const key = source + '>' + target;
      const i = at.get(key);
      if (i !== undefined) {
        const m = edges[i];
        m.amount = Number(m.amount) + Number(e.amount);
        m.txs++;
        m.share = base.seed ? m.amount / base.seed : null;
        m.text = fmtSat(m.amount);
        continue;
      }
      at.set(key, edges.length);
      edges.push({...e, id: 'g:' + key, source, target, txs: 1});
    }
    if (!children.has(source)) children.set(source, []);
    children.get(source).push(target);
  }
  const incoming = new Set(edges.map((e) => e.target));
  const depth = new Map();
  const queue = [];
  for (const id of nodes.keys()) {
    if (!incoming.has(id)) {
      depth.set(id, 0);
      queue.push(id);
    }
  }
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i];
    for (const c of children.get(id) || []) {
      if (!depth.has(c)) {
        depth.set(c, depth.get(id) + 1);
        queue.push(c);
      }
    }
  }
  for (const [id, n] of nodes) n.depth = depth.has(id) ? depth.get(id) : 0;
  return {nodes, edges, children, seed: base.seed};
}

const STYLE = [
  // Labels are clipped in clip (not by cytoscape's text-wrap, which measures
  // every label while the graph is set up), edges straight (no control
  // points to compute; the graph has one edge per node pair): both keep
  // big graphs fast to draw.
  {selector: 'node', style: {'label': 'data(text)', 'font-size': 9, 'min-zoomed-font-size': 7, 'text-valign': 'bottom', 'text-margin-y': 3,
    'color': '#222', 'text-wrap': 'none', 'width': 18, 'height': 18, 'background-color': '#90a4ae'}},
  {selector: 'node.tx', style: {'shape': 'ellipse', 'background-color': '#546e7a'}},
  {selector: 'node.seed', style: {'background-color': '#d32f2f', 'width': 24, 'height': 24}},
  {selector: 'node.group', style: {'shape': 'round-octagon', 'width': 34, 'height': 24, 'border-width': 2, 'border-style': 'double',
    'border-color': '#37474f', 'font-weight': 'bold'}},
  {selector: 'node.peel_chain', style: {'background-color': '#8d6e63'}},
  {selector: 'node.coinjoin', style: {'background-color': '#c62828'}},
  {selector: 'node.more', style: {'border-width': 3, 'border-color': '#ffb300'}},
  {selector: 'node.sink', style: {'shape': 'round-rectangle', 'width': 26, 'height': 18, 'background-color': 'data(colour)'}},
  {selector: 'node:selected', style: {'border-width': 3, 'border-color': '#1e88e5'}},
  {selector: 'edge', style: {'width': 'data(w)', 'line-color': '#b0bec5', 'target-arrow-color': '#b0bec5',
    'target-arrow-shape': 'triangle', 'curve-style': 'straight', 'font-size': 8, 'color': '#37474f',
    'text-background-color': '#fff', 'text-background-opacity': 0.8, 'text-rotation': 'autorotate'}},
  {selector: 'edge.labelled', style: {'label': 'data(label)'}},
  {selector: 'edge:selected', style: {'label': 'data(label)', 'line-color': '#1e88e5', 'target-arrow-color': '#1e88e5'}},
];

// clip shortens a label for the graph (the whole label stays in the
// node's data, the detail panel and the SVG export).
export function clip(s) {
  return s.length > 28 ? s.slice(0, 27) + '…' : s;
}

// Notes: an investigator's annotation of a node (a transaction or a sink),
// kept in this browser (localStorage) under the node's id and shown as text.
const NOTE = 'heistgraph.note.';

export function getNote(id) {
  return localStorage.getItem(NOTE + id) || '';
}

export function setNote(id, text) {
  if (text) localStorage.setItem(NOTE + id, text);
  else localStorage.removeItem(NOTE + id);
}

// LAYERED_ABOVE is the node count above which render lays out by layers.
export const LAYERED_ABOVE = 250;

// layered places the shown nodes left to right by depth (hops from the
// seeds), each column ordered by the mean row of its parents (one pass of
// the barycentre heuristic), in O(nodes + edges).
export function layered(m, shown) {
  const parents = new Map();
  for (const e of m.edges) {
    if (!shown.has(e.source) || !shown.has(e.target)) continue;
    if (!parents.has(e.target)) parents.set(e.target, []);
    parents.get(e.target).push(e.source);
  }
  const cols = [];
  for (const id of shown) {
    const d = m.nodes.get(id).depth;
    (cols[d] = cols[d] || []).push(id);
  }
  const row = new Map();
  const pos = {};
  cols.forEach((col, d) => {
    if (!col) return;
    const key = (id) => {
      const ps = (parents.get(id) || []).filter((p) => row.has(p));
      return ps.length ? ps.reduce((a, p) => a + row.get(p), 0) / ps.length : 0;
    };
    col.sort((a, b) => key(a) - key(b));
    col.forEach((id, i) => {
      row.set(id, i);
      pos[id] = {x: d * 140, y: i * 28};
    });
  });
  return pos;
}

// render draws res into container, peel chains and CoinJoins collapsed
// (a click opens one back into its hops), opening `depth` hops from the
// seeds (all of it when the graph is small). onSelect(node) is called with
// the node clicked (a transaction, sink or group). It returns a controller:
// base is the trace's whole graph, model the graph as drawn now.
export function render(container, res, {depth = 3, onSelect, onChange} = {}) {
  const t0 = performance.now();
  const base = model(res);
  const grp = groups(res, base);
  const collapsed = new Set(grp.byID.keys());
  let m = view(base, grp, collapsed);
  const small = m.nodes.size <= 40;
  const seedTxs = new Set((res.seeds || []).map((s) => String(s).split(':')[0]));
  const shown = new Set();
  for (const n of m.nodes.values()) if (small || n.depth <= depth) shown.add(n.id);
  const label = (n) => {
    const note = getNote(n.id);
    const tail = note ? ' ✎ ' + note : '';
    if (n.type === 'sink') {
      const s = n.sink;
      return (s.entity ? s.entity : s.kind) + ' · ' + fmtAmount(s) + tail;
    }
    if (n.type === 'tx') return short(n.txid) + tail;
    return n.label + tail;
  };
  const nodeEl = (n) => {
    const hidden = (m.children.get(n.id) || []).some((c) => !shown.has(c));
    const cls = [n.type];
    if (n.type === 'peel_chain' || n.type === 'coinjoin') cls.push('group');
    if (n.type === 'tx' ? seedTxs.has(n.txid) : n.type !== 'sink' && n.members.some((id) => seedTxs.has(id))) cls.push('seed');
    if (hidden) cls.push('more');
    const text = label(n);
    const data = {id: n.id, label: text, text: clip(text), type: n.type};
    if (n.type === 'sink') {
      data.colour = sinkColour(n.sink);
      data.kind = n.sink.kind;
      data.entity = n.sink.entity || '';
    }
    return {group: 'nodes', data, classes: cls.join(' ')};
  };
  const edgeEl = (e) => {
    const share = e.share === null ? '' : ' · ' + (e.share * 100).toFixed(2) + '%';
    const tx = e.txs > 1 ? e.txs + ' txs' : short(e.txid);
    return {group: 'edges', data: {id: e.id, source: e.source, target: e.target, label: e.text + share + ' · ' + tx,
      w: e.share === null ? 1.5 : 1 + Math.min(6, e.share * 8)}, classes: m.edges.length <= 120 ? 'labelled' : ''};
  };
  const elements = () => {
    const out = [];
    for (const id of shown) out.push(nodeEl(m.nodes.get(id)));
    for (const e of m.edges) if (shown.has(e.source) && shown.has(e.target)) out.push(edgeEl(e));
    return out;
  };
  const els = elements();
  const t1 = performance.now();
  const cy = cytoscape({container, elements: els, style: STYLE, wheelSensitivity: 0.3, boxSelectionEnabled: false, pixelRatio: 1});
  const t2 = performance.now();
  // dagre (crossings minimised) up to LAYERED_ABOVE nodes; above, a linear
  // left-to-right layering by hops, which keeps big graphs fast.
  const layout = () => {
    if (cy.nodes().length > LAYERED_ABOVE) {
      cy.layout({name: 'preset', positions: layered(m, shown), animate: false, fit: true, padding: 20}).run();
    } else {
      cy.layout({name: 'dagre', rankDir: 'LR', nodeSep: 14, rankSep: 60, animate: false, fit: true, padding: 20}).run();
    }
  };
  layout();
  const t3 = performance.now();
  // The container may change size after the first layout (a scroll bar
  // appears, the window narrows): keep the graph fitted to it.
  let size = container.clientWidth + 'x' + container.clientHeight;
  new ResizeObserver(() => {
    const now = container.clientWidth + 'x' + container.clientHeight;
    if (now === size || !container.isConnected) return;
    size = now;
    cy.resize();
    cy.fit(undefined, 20);
  }).observe(container);
  // timings: building the elements, cytoscape's setup and the layout (ms).
  const ctl = {cy, base, groups: grp, model: m, shown, renderMS: t3 - t0, timings: {elements: t1 - t0, cytoscape: t2 - t1, layout: t3 - t2}};
  const done = () => {
    container.setAttribute('data-nodes', String(cy.nodes().length));
    container.setAttribute('data-edges', String(cy.edges().length));
    container.setAttribute('data-render-ms', ctl.renderMS.toFixed(1));
    if (onChange) onChange(ctl);
  };
  const redraw = () => {
    cy.batch(() => {
      cy.elements().remove();
      cy.add(elements());
    });
    layout();
  };
  // open opens the collapsed group gid into its hops (they take its place:
  // what it led to stays as shown); it returns how many nodes it added.
  const open = (gid) => {
    const g = grp.byID.get(gid);
    collapsed.delete(gid);
    m = ctl.model = view(base, grp, collapsed);
    const was = shown.has(gid);
    shown.delete(gid);
    if (was) for (const id of g.members) shown.add(id);
    return was ? g.members.length - 1 : 0;
  };
  // expand shows the next hops of node id, or opens the group id (or the
  // collapsed group holding transaction id); it returns how many nodes it
  // added.
  ctl.expand = (id) => {
    let added = 0;
    const gid = grp.groupOf.get(id);
    if (collapsed.has(id)) {
      added = open(id);
    } else if (gid !== undefined && collapsed.has(gid)) {
      added = open(gid);
    } else {
      const add = (m.children.get(id) || []).filter((c) => !shown.has(c));
      for (const c of add) shown.add(c);
      added = add.length;
    }
    if (added) redraw();
    done();
    return added;
  };
  // expandAll shows every node, every group opened (one layout).
  ctl.expandAll = () => {
    collapsed.clear();
    m = ctl.model = view(base, grp, collapsed);
    shown.clear();
    for (const id of m.nodes.keys()) shown.add(id);
    redraw();
    done();
  };
  ctl.expandable = () => cy.nodes('.more').map((n) => n.id());
  cy.on('tap', 'node', (ev) => {
    const id = ev.target.id();
    const n = m.nodes.get(id);
    if (n.type !== 'sink') ctl.expand(id);
    if (onSelect) onSelect(n);
  });
  // relabel redraws node id's label (after its note changed).
  ctl.relabel = (id) => {
    const el = cy.getElementById(id);
    if (el.nonempty()) {
      const text = label(m.nodes.get(id));
      el.data({label: text, text: clip(text)});
    }
  };
  ctl.png = () => cy.png({full: true, scale: 2, bg: '#ffffff', output: 'blob'});
  ctl.svg = () => svgOf(cy);
  done();
  return ctl;
}

// SVG: the graph as drawn (positions, shapes, colours, labels) written as
// an SVG document through the XML DOM, so every label is a text node the
// serializer escapes, never markup.
const SVG_NS = 'http://www.w3.org/2000/svg';

function svgOf(cy) {
  const doc = document.implementation.createDocument(SVG_NS, 'svg', null);
  const root = doc.documentElement;
  const el = (parent, tag, attrs, text) => {
    const e = doc.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    parent.appendChild(e);
    return e;
  };
  const pad = 20;
  const bb = cy.elements().boundingBox({includeLabels: true});
  const x0 = Math.floor(bb.x1 - pad);
  const y0 = Math.floor(bb.y1 - pad);
  const w = Math.ceil(bb.w + 2 * pad);
  const hgt = Math.ceil(bb.h + 2 * pad);
  root.setAttribute('version', '1.1');
  root.setAttribute('width', String(w));
  root.setAttribute('height', String(hgt));
  root.setAttribute('viewBox', [x0, y0, w, hgt].join(' '));
  root.setAttribute('font-family', 'sans-serif');
  const defs = el(root, 'defs', {});
  el(el(defs, 'marker', {id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 6, markerHeight: 6, orient: 'auto-start-reverse'}),
    'path', {d: 'M 0 0 L 10 5 L 0 10 z', fill: '#b0bec5'});
  el(root, 'rect', {x: x0, y: y0, width: w, height: hgt, fill: '#ffffff'});
  const num = (v) => Math.round(v * 10) / 10;
  const edges = el(root, 'g', {class: 'edges'});
  cy.edges().forEach((e) => {
    const s = e.sourceEndpoint();
    const t = e.targetEndpoint();
    const g = el(edges, 'g', {class: 'edge', 'data-source': e.data('source'), 'data-target': e.data('target')});
    el(g, 'title', {}, e.data('label'));
    el(g, 'line', {x1: num(s.x), y1: num(s.y), x2: num(t.x), y2: num(t.y), stroke: e.style('line-color'),
      'stroke-width': parseFloat(e.style('width')) || 1, 'marker-end': 'url(#arrow)'});
    if (e.hasClass('labelled')) {
      const mid = e.midpoint();
      el(g, 'text', {x: num(mid.x), y: num(mid.y), 'font-size': 8, fill: '#37474f', 'text-anchor': 'middle'}, e.data('label'));
    }
  });
  const nodes = el(root, 'g', {class: 'nodes'});
  cy.nodes().forEach((n) => {
    const p = n.position();
    const nw = n.width();
    const nh = n.height();
    const g = el(nodes, 'g', {class: 'node ' + n.classes().join(' '), 'data-id': n.id()});
    el(g, 'title', {}, n.data('label'));
    const paint = {fill: n.style('background-color'), stroke: n.style('border-color'), 'stroke-width': parseFloat(n.style('border-width')) || 0};
    if (n.style('shape') === 'ellipse') {
      el(g, 'ellipse', {cx: num(p.x), cy: num(p.y), rx: num(nw / 2), ry: num(nh / 2), ...paint});
    } else {
      el(g, 'rect', {x: num(p.x - nw / 2), y: num(p.y - nh / 2), width: num(nw), height: num(nh), rx: n.style('shape') === 'rectangle' ? 0 : 4, ...paint});
    }
    el(g, 'text', {x: num(p.x), y: num(p.y + nh / 2 + 12), 'font-size': 9, fill: '#222', 'text-anchor': 'middle'}, n.data('label'));
  });
  return '<?xml version="1.0" encoding="UTF-8"?>\n' + new XMLSerializer().serializeToString(doc);
}
