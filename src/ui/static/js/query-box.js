// Gremlin box: runs a query on the analyzer, highlights the nodes and edges it returns, shows any other result
// (counts, values, flows) as JSON, and shows the analyzer's error message as it wrote it.

import { gremlin } from './api.js';
import { fill, h } from './dom.js';

const HISTORY_KEY = 'skydive.gremlin.history';
const HISTORY_MAX = 30;

export class QueryBox {
  /**
   * @param {{form: HTMLFormElement, input: HTMLInputElement, clear: HTMLButtonElement, result: HTMLElement, history: HTMLDataListElement}} els
   * @param {import('./graph-view.js').GraphView} view
   */
  constructor(els, view) {
    this.els = els;
    this.view = view;
    this.history = loadHistory();
    this.renderHistory();
    els.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.run(els.input.value);
    });
    els.clear.addEventListener('click', () => this.clear());
    document.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape' && document.activeElement !== els.input) this.clear();
      if (ev.key === '/' && document.activeElement?.tagName !== 'INPUT') {
        ev.preventDefault();
        els.input.focus();
      }
    });
  }

  async run(query) {
    const q = query.trim();
    if (!q) return this.clear();
    this.els.input.value = q;
    this.remember(q);
    this.show('pending', h('span', {}, 'Running ', h('code', {}, q), '…'));
    const res = await gremlin(q);
    if (!res.ok) {
      this.view.setHighlight(null);
      this.show(
        'error',
        h(
          'div',
          { class: 'result-head' },
          h('strong', {}, `Query failed (HTTP ${res.status || 'error'})`),
          res.code ? h('span', { class: 'muted mono' }, res.code) : null,
          this.closeButton(),
        ),
        h('pre', { class: 'error-text', id: 'query-error' }, res.error),
      );
      return;
    }
    const { nodes, edges, other } = elementsOf(res.data);
    const known = this.view.model;
    if (nodes.size || edges.size) {
      this.view.setHighlight({ nodes, edges });
      const missing = [...nodes].filter((id) => !known.nodes.has(id)).length;
      this.show(
        'ok',
        h(
          'div',
          { class: 'result-head' },
          h('strong', { id: 'query-summary' }, `${nodes.size} node${nodes.size === 1 ? '' : 's'}, ${edges.size} edge${edges.size === 1 ? '' : 's'} highlighted`),
          missing ? h('span', { class: 'muted' }, ` (${missing} not in the live graph)`) : null,
          this.closeButton(),
        ),
        other.length ? h('pre', { class: 'json' }, JSON.stringify(other, null, 2)) : null,
      );
    } else {
      this.view.setHighlight(null);
      const empty = res.data === null || (Array.isArray(res.data) && res.data.length === 0);
      this.show(
        'ok',
        h('div', { class: 'result-head' }, h('strong', { id: 'query-summary' }, empty ? 'No result' : 'Result'), this.closeButton()),
        empty ? null : h('pre', { class: 'json' }, JSON.stringify(res.data, null, 2)),
      );
    }
  }

  clear() {
    this.view.setHighlight(null);
    this.els.result.hidden = true;
    fill(this.els.result);
  }

  closeButton() {
    return h('button', { type: 'button', class: 'close', title: 'Clear result (Esc)', onclick: () => this.clear() }, '×');
  }

  show(kind, ...children) {
    const el = this.els.result;
    el.hidden = false;
    el.className = `query-result ${kind}`;
    fill(el, ...children);
  }

  remember(q) {
    this.history = [q, ...this.history.filter((x) => x !== q)].slice(0, HISTORY_MAX);
    try {
      localStorage.setItem(HISTORY_KEY, JSON.stringify(this.history));
    } catch {
      /* private browsing: history lives for this page only */
    }
    this.renderHistory();
  }

  renderHistory() {
    const examples = [
      "G.V().Has('Type', 'host')",
      "G.V().Has('Type', 'netns')",
      "G.V().Has('Type', Within('gre', 'vxlan', 'geneve'))",
      "G.V().Has('Type', 'ovsbridge').Descendants()",
      "G.V().Has('State', 'DOWN')",
      'G.Flows()',
    ];
    const all = [...this.history, ...examples.filter((e) => !this.history.includes(e))];
    fill(this.els.history, all.map((q) => h('option', { value: q })));
  }
}

function loadHistory() {
  try {
    const v = JSON.parse(localStorage.getItem(HISTORY_KEY) ?? '[]');
    return Array.isArray(v) ? v.filter((x) => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * Node and edge IDs in a result of any shape the analyzer returns: [Node…], [Edge…], [{Nodes, Edges}] (G,
 * SubGraph), [[Node…]…] (ShortestPathTo). Whatever is not a graph element is kept as `other`.
 */
export function elementsOf(data) {
  const nodes = new Set();
  const edges = new Set();
  const other = [];
  const visit = (v) => {
    if (Array.isArray(v)) return v.forEach(visit);
    if (v && typeof v === 'object') {
      if (Array.isArray(v.Nodes) || Array.isArray(v.Edges)) {
        (v.Nodes ?? []).forEach(visit);
        (v.Edges ?? []).forEach(visit);
        return;
      }
      if (typeof v.ID === 'string' && v.Metadata) {
        if (v.Parent && v.Child) edges.add(v.ID);
        else nodes.add(v.ID);
        return;
      }
    }
    if (v !== undefined) other.push(v);
  };
  visit(data);
  return { nodes, edges, other };
}
