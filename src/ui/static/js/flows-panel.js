// Flows seen on the selected node: `G.V('<id>').Flows()`, refreshed while the node stays selected. While the
// analyzer cannot answer (no flow support yet, no capture, agent gone) the panel says so and shows its reason.

import { gremlin, quote } from './api.js';
import { fill, fmtAgo, fmtBytes, h } from './dom.js';

const REFRESH_MS = 5000;
const MAX_ROWS = 100;

export class FlowsPanel {
  /** @param {HTMLElement} root @param {HTMLElement} countEl @param {HTMLInputElement} autoEl */
  constructor(root, countEl, autoEl) {
    this.root = root;
    this.countEl = countEl;
    this.autoEl = autoEl;
    this.id = null;
    this.timer = null;
    this.generation = 0;
    autoEl.addEventListener('change', () => this.schedule());
    document.addEventListener('visibilitychange', () => this.schedule());
    this.show(null);
  }

  show(id) {
    this.id = id;
    this.generation++;
    clearTimeout(this.timer);
    this.countEl.textContent = '';
    if (!id) {
      fill(this.root, h('p', { class: 'placeholder' }, 'Select a node to list its flows.'));
      return;
    }
    fill(this.root, h('p', { class: 'placeholder' }, 'Loading flows…'));
    this.refresh();
  }

  async refresh() {
    const id = this.id;
    const gen = this.generation;
    if (!id) return;
    clearTimeout(this.timer);
    const query = `G.V(${quote(id)}).Flows()`;
    const res = await gremlin(query);
    if (gen !== this.generation) return; // another node was selected meanwhile
    if (!res.ok) {
      this.countEl.textContent = '';
      fill(
        this.root,
        h(
          'div',
          { class: 'flows-unavailable' },
          h('strong', {}, 'Flows not available'),
          h('div', { class: 'muted' }, `${query} → HTTP ${res.status || 'error'}`),
          h('pre', { class: 'error-text' }, res.error),
        ),
      );
    } else {
      this.renderFlows(Array.isArray(res.data) ? res.data : []);
    }
    this.schedule();
  }

  schedule() {
    clearTimeout(this.timer);
    if (this.id && this.autoEl.checked && document.visibilityState === 'visible') {
      this.timer = setTimeout(() => this.refresh(), REFRESH_MS);
    }
  }

  renderFlows(flows) {
    this.countEl.textContent = `${flows.length}`;
    if (!flows.length) {
      fill(this.root, h('p', { class: 'placeholder' }, 'No flows on this node. Start a capture on it to see its traffic.'));
      return;
    }
    const sorted = [...flows].sort((a, b) => lastOf(b) - lastOf(a)).slice(0, MAX_ROWS);
    const now = Date.now();
    fill(
      this.root,
      h(
        'ul',
        { class: 'flows' },
        sorted.map((f) => {
          const m = f.Metric ?? {};
          return h(
            'li',
            { class: 'flow', title: `UUID ${f.UUID ?? '?'}\nTrackingID ${f.TrackingID ?? '?'}\nLayers ${f.LayersPath ?? '?'}` },
            h(
              'div',
              { class: 'flow-line' },
              h('span', { class: 'app' }, String(f.Application ?? f.LayersPath ?? '?')),
              h('span', { class: 'endpoints mono' }, endpoints(f)),
            ),
            h(
              'div',
              { class: 'flow-line muted' },
              h('span', {}, `A→B ${m.ABPackets ?? 0} pkts ${fmtBytes(m.ABBytes ?? 0)}`),
              h('span', {}, `B→A ${m.BAPackets ?? 0} pkts ${fmtBytes(m.BABytes ?? 0)}`),
              h('span', {}, fmtAgo(lastOf(f), now)),
              f.ParentUUID ? h('span', { class: 'tag', title: `ParentUUID ${f.ParentUUID}` }, 'inner') : null,
            ),
          );
        }),
      ),
      flows.length > MAX_ROWS ? h('p', { class: 'muted' }, `${flows.length - MAX_ROWS} older flows not shown`) : null,
    );
  }
}

function lastOf(f) {
  return f.Last ?? f.Metric?.Last ?? 0;
}

/** "10.0.0.1:34567 → 10.0.0.2:80", falling back to link-layer addresses. */
function endpoints(f) {
  const net = f.Network;
  const tr = f.Transport;
  if (net?.A) {
    const a = tr?.A ? `${net.A}:${tr.A}` : net.A;
    const b = tr?.B ? `${net.B}:${tr.B}` : net.B;
    return `${a} → ${b}`;
  }
  if (f.Link?.A) return `${f.Link.A} → ${f.Link.B}`;
  return '—';
}
