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

// model turns a trace result into nodes and edges with each node's depth
// (hops from the seed transactions) and children.
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
  // Depth: hops from the roots (transactions nothing flows into).
  const incoming = new Set(edges.map((e) => e.target));
  const depth = new Map();
  const queue = [];
  for (const n of nodes.values()) {
    if (!incoming.has(n.id)) {
      depth.set(n.id, 0);
      queue.push(n.id);
    }
  }
  while (queue.length) {
    const id = queue.shift();
    for (const c of children.get(id) || []) {
      if (!depth.has(c)) {
        depth.set(c, depth.get(id) + 1);
        queue.push(c);
      }
    }
  }
  for (const n of nodes.values()) n.depth = depth.has(n.id) ? depth.get(n.id) : 0;
  return {nodes, edges, children, seed};
}

const STYLE = [
  {selector: 'node', style: {'label': 'data(label)', 'font-size': 9, 'min-zoomed-font-size': 7, 'text-valign': 'bottom', 'text-margin-y': 3,
    'color': '#222', 'text-wrap': 'ellipsis', 'text-max-width': 120, 'width': 18, 'height': 18, 'background-color': '#90a4ae'}},
  {selector: 'node.tx', style: {'shape': 'ellipse', 'background-color': '#546e7a'}},
  {selector: 'node.seed', style: {'background-color': '#d32f2f', 'width': 24, 'height': 24}},
  {selector: 'node.more', style: {'border-width': 3, 'border-color': '#ffb300'}},
  {selector: 'node.sink', style: {'shape': 'round-rectangle', 'width': 26, 'height': 18, 'background-color': 'data(colour)'}},
  {selector: 'node:selected', style: {'border-width': 3, 'border-color': '#1e88e5'}},
  {selector: 'edge', style: {'width': 'data(w)', 'line-color': '#b0bec5', 'target-arrow-color': '#b0bec5',
    'target-arrow-shape': 'triangle', 'curve-style': 'bezier', 'font-size': 8, 'color': '#37474f',
    'text-background-color': '#fff', 'text-background-opacity': 0.8, 'text-rotation': 'autorotate'}},
  {selector: 'edge.labelled', style: {'label': 'data(label)'}},
  {selector: 'edge:selected', style: {'label': 'data(label)', 'line-color': '#1e88e5', 'target-arrow-color': '#1e88e5'}},
];

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

// render draws res into container, opening `depth` hops from the seeds (all
// of it when the graph is small). onSelect(node) is called with the model
// node clicked. It returns a controller.
export function render(container, res, {depth = 3, onSelect, onChange} = {}) {
  const t0 = performance.now();
  const m = model(res);
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
    return short(n.txid) + tail;
  };
  const nodeEl = (n) => {
    const hidden = (m.children.get(n.id) || []).some((c) => !shown.has(c));
    const cls = [n.type];
    if (n.type === 'tx' && seedTxs.has(n.txid)) cls.push('seed');
    if (hidden) cls.push('more');
    const data = {id: n.id, label: label(n), type: n.type};
    if (n.type === 'sink') {
      data.colour = sinkColour(n.sink);
      data.kind = n.sink.kind;
      data.entity = n.sink.entity || '';
    }
    return {group: 'nodes', data, classes: cls.join(' ')};
  };
  const edgeEl = (e) => {
    const share = e.share === null ? '' : ' · ' + (e.share * 100).toFixed(2) + '%';
    return {group: 'edges', data: {id: e.id, source: e.source, target: e.target, label: e.text + share + ' · ' + short(e.txid),
      w: e.share === null ? 1.5 : 1 + Math.min(6, e.share * 8)}, classes: m.edges.length <= 120 ? 'labelled' : ''};
  };
  const elements = () => {
    const out = [];
    for (const id of shown) out.push(nodeEl(m.nodes.get(id)));
    for (const e of m.edges) if (shown.has(e.source) && shown.has(e.target)) out.push(edgeEl(e));
    return out;
  };
  const cy = cytoscape({container, elements: elements(), style: STYLE, wheelSensitivity: 0.3, boxSelectionEnabled: false, pixelRatio: 1});
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
  const ctl = {cy, model: m, shown, renderMS: performance.now() - t0};
  const done = () => {
    container.setAttribute('data-nodes', String(cy.nodes().length));
    container.setAttribute('data-edges', String(cy.edges().length));
    container.setAttribute('data-render-ms', ctl.renderMS.toFixed(1));
    if (onChange) onChange(ctl);
  };
  // expand shows the next hops of node id; it returns how many nodes it added.
  ctl.expand = (id) => {
    const add = (m.children.get(id) || []).filter((c) => !shown.has(c));
    for (const c of add) shown.add(c);
    if (add.length) {
      cy.batch(() => {
        cy.elements().remove();
        cy.add(elements());
      });
      layout();
    }
    done();
    return add.length;
  };
  // expandAll shows every node (one layout).
  ctl.expandAll = () => {
    for (const id of m.nodes.keys()) shown.add(id);
    cy.batch(() => {
      cy.elements().remove();
      cy.add(elements());
    });
    layout();
    done();
  };
  ctl.expandable = () => cy.nodes('.more').map((n) => n.id());
  cy.on('tap', 'node', (ev) => {
    const id = ev.target.id();
    const n = m.nodes.get(id);
    if (n.type === 'tx') ctl.expand(id);
    if (onSelect) onSelect(n);
  });
  // relabel redraws node id's label (after its note changed).
  ctl.relabel = (id) => {
    const el = cy.getElementById(id);
    if (el.nonempty()) el.data('label', label(m.nodes.get(id)));
  };
  ctl.png = () => cy.png({full: true, scale: 2, bg: '#ffffff', output: 'blob'});
  done();
  return ctl;
}
