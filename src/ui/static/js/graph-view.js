// Draws the TopologyModel with cytoscape. Ownership is shown by nesting rather than by lines: every node is drawn
// inside the box of its nearest owning host, network namespace or fabric switch (cytoscape compound nodes), and
// edges between a node and the box that contains it are not drawn. The model is the source of truth; each
// animation frame after a change re-derives the drawing from it and applies the difference.

import cytoscape from '/ui/vendor/cytoscape.esm.min.mjs';
import { nestedPositions } from './layout.js';
import { edgeClass, nodeCategory, stylesheet } from './style.js';

const GROUP_CATEGORIES = new Set(['host', 'netns']);
const MAX_OWNERSHIP_DEPTH = 32;
const LAYOUT_QUIET_MS = 500;
const LAYOUT_MAX_WAIT_MS = 2000;

export class GraphView {
  /**
   * @param {HTMLElement} container
   * @param {import('./model.js').TopologyModel} model
   */
  constructor(container, model) {
    this.model = model;
    this.cy = cytoscape({
      container,
      style: stylesheet(),
      minZoom: 0.05,
      maxZoom: 4,
      boxSelectionEnabled: false,
      selectionType: 'single',
    });
    this.layoutMode = 'force';
    this.autoLayout = true;
    this.fitted = false;
    this.highlight = null; // {nodes:Set, edges:Set} while a query result is shown
    this.pendingFrame = 0;
    this.needsLayout = false;
    this.layoutTimer = null;
    this.layoutDeadline = undefined;
    this.runningLayout = null;
    this.selectListeners = new Set();

    model.onChange((c) => {
      if (c.structural) this.needsLayout = true;
      if (c.kind === 'sync') this.fitted = false;
      this.scheduleRender();
    });
    // the canvas follows its box (query result strip, legend folding), not only the window
    new ResizeObserver(() => this.cy.resize()).observe(container);
    // until the user zooms, pans or drags, the view keeps showing the whole graph as it grows
    this.userMovedView = false;
    for (const ev of ['wheel', 'mousedown', 'touchstart']) {
      container.addEventListener(ev, () => (this.userMovedView = true), { passive: true, capture: true });
    }
    this.cy.on('tap', 'node', (ev) => this.emitSelect(ev.target.id()));
    this.cy.on('tap', (ev) => {
      if (ev.target === this.cy) this.emitSelect(null);
    });
  }

  onSelect(fn) {
    this.selectListeners.add(fn);
  }

  emitSelect(id) {
    for (const fn of this.selectListeners) fn(id);
  }

  /** Select a node programmatically (side panel links) and bring it into view. */
  select(id) {
    this.cy.$(':selected').unselect();
    const n = this.cy.getElementById(id);
    if (n.nonempty()) {
      n.select();
      if (!n.visible() || !isInViewport(this.cy, n)) this.cy.animate({ center: { eles: n }, duration: 250 });
    }
    this.emitSelect(id);
  }

  scheduleRender() {
    if (this.pendingFrame) return;
    this.pendingFrame = requestAnimationFrame(() => {
      this.pendingFrame = 0;
      this.render();
    });
  }

  /** The box a node is drawn in: its nearest ownership ancestor that is a group, or null. */
  groupOf(id, owners, groups) {
    let cur = owners.get(id);
    for (let depth = 0; cur && depth < MAX_OWNERSHIP_DEPTH; depth++) {
      if (groups.has(cur)) return cur;
      cur = owners.get(cur);
    }
    return null;
  }

  render() {
    const { nodes, edges } = this.model;
    const cy = this.cy;

    // Ownership tree (a child has at most one owner) and the nodes that become boxes.
    const owners = new Map();
    const ownsSomething = new Set();
    const layer2Pairs = new Set();
    const aNeighbour = new Map();
    for (const e of edges.values()) {
      const rel = e.Metadata?.RelationType;
      if (rel === 'ownership' && nodes.has(e.Parent) && nodes.has(e.Child)) {
        owners.set(e.Child, e.Parent);
        ownsSomething.add(e.Parent);
      }
      if (rel === 'layer2') layer2Pairs.add(`${e.Parent} ${e.Child}`);
      aNeighbour.set(e.Parent, e.Child);
      aNeighbour.set(e.Child, e.Parent);
    }
    const groups = new Set();
    for (const [id, n] of nodes) {
      const cat = nodeCategory(n.Metadata);
      if (GROUP_CATEGORIES.has(cat) || (cat === 'fabric' && ownsSomething.has(id))) groups.add(id);
    }
    const parentOf = new Map();
    for (const id of nodes.keys()) parentOf.set(id, this.groupOf(id, owners, groups));
    const isAncestor = (anc, id) => {
      for (let cur = parentOf.get(id), d = 0; cur && d < MAX_OWNERSHIP_DEPTH; cur = parentOf.get(cur), d++) {
        if (cur === anc) return true;
      }
      return false;
    };

    let added = 0;
    cy.batch(() => {
      // 1. new nodes, outside any box for now, placed next to where they will end up
      const fresh = [];
      for (const [id, n] of nodes) {
        if (cy.getElementById(id).nonempty()) continue;
        fresh.push({ group: 'nodes', data: { id, ...nodeData(n) }, position: this.placeNear(parentOf.get(id) ?? aNeighbour.get(id)) });
      }
      if (fresh.length) cy.add(fresh);
      added = fresh.length;

      // 2. boxes: parents before children so that a box exists when its children move in
      const order = [...nodes.keys()].sort((a, b) => depthOf(a, parentOf) - depthOf(b, parentOf));
      for (const id of order) {
        const el = cy.getElementById(id);
        const want = parentOf.get(id) ?? null;
        const have = el.parent().nonempty() ? el.parent().id() : null;
        if (want !== have) el.move({ parent: want });
      }

      // 3. gone nodes: their children have moved out in step 2, so removing a box removes nothing else
      cy.nodes().forEach((el) => {
        if (!nodes.has(el.id())) el.remove();
      });

      // 4. data (label, type, state...) of every node
      for (const [id, n] of nodes) {
        const el = cy.getElementById(id);
        const data = nodeData(n);
        const cur = el.data();
        if (Object.keys(data).some((k) => cur[k] !== data[k])) el.data(data);
      }

      // 5. edges, except those joining a node to the box it is drawn in
      const wanted = new Set();
      for (const [id, e] of edges) {
        if (!nodes.has(e.Parent) || !nodes.has(e.Child) || e.Parent === e.Child) continue;
        if (isAncestor(e.Parent, e.Child) || isAncestor(e.Child, e.Parent)) continue;
        // ovsbridge→ovsport and fabric switch→port carry both ownership and layer2: the layer2 line says it all
        if (e.Metadata?.RelationType === 'ownership' && layer2Pairs.has(`${e.Parent} ${e.Child}`)) continue;
        wanted.add(id);
        const cls = edgeClass(e.Metadata);
        const el = cy.getElementById(id);
        if (el.empty()) cy.add({ group: 'edges', data: { id, source: e.Parent, target: e.Child }, classes: cls });
        else if (!el.hasClass(cls)) el.classes(cls);
      }
      cy.edges().forEach((el) => {
        if (!wanted.has(el.id())) el.remove();
      });
      this.applyHighlight();
    });

    if (this.needsLayout) {
      this.needsLayout = false;
      if (!this.fitted) this.runLayout({ fit: true, fresh: true });
      else if (this.autoLayout && added) this.scheduleLayout();
    }
  }

  /** Position for a new node: beside its future box or a neighbour already drawn, else near the view centre. */
  placeNear(anchorId) {
    const anchor = anchorId ? this.cy.getElementById(anchorId) : null;
    const jitter = () => (Math.random() - 0.5) * 60;
    if (anchor && anchor.nonempty()) {
      const p = anchor.position();
      return { x: p.x + jitter(), y: p.y + jitter() };
    }
    const ext = this.cy.extent();
    return { x: (ext.x1 + ext.x2) / 2 + jitter() * 3, y: (ext.y1 + ext.y2) / 2 + jitter() * 3 };
  }

  /**
   * Live changes arrive in bursts (a namespace and its interfaces): lay out once the burst is over, but at least
   * every LAYOUT_MAX_WAIT_MS while changes keep coming.
   */
  scheduleLayout() {
    clearTimeout(this.layoutTimer);
    const now = Date.now();
    this.layoutDeadline ??= now + LAYOUT_MAX_WAIT_MS;
    this.layoutTimer = setTimeout(() => {
      this.layoutDeadline = undefined;
      this.runLayout({ fit: !this.userMovedView });
    }, Math.max(0, Math.min(LAYOUT_QUIET_MS, this.layoutDeadline - now)));
  }

  /** `fresh`: forget the current positions (a new picture); otherwise move what is there as little as possible. */
  runLayout({ fit = false, fresh = false } = {}) {
    this.runningLayout?.stop();
    const leaves = this.cy.nodes(':childless');
    if (leaves.empty()) return;
    const previous = new Map();
    if (!fresh) leaves.forEach((n) => previous.set(n.id(), { ...n.position() }));
    const positions = nestedPositions(this.cy, { mode: this.layoutMode, previous });
    const layout = leaves.layout({
      name: 'preset',
      positions: (n) => positions.get(n.id()) ?? n.position(),
      fit,
      padding: 30,
      animate: this.fitted,
      animationDuration: 350,
    });
    this.runningLayout = layout;
    layout.one('layoutstop', () => {
      if (this.runningLayout === layout) this.runningLayout = null;
    });
    layout.run();
    if (fit) this.fitted = true;
  }

  setLayout(mode) {
    this.layoutMode = mode;
    this.runLayout({ fit: true, fresh: true });
  }

  fit() {
    this.userMovedView = false;
    this.cy.animate({ fit: { eles: this.cy.elements(), padding: 30 }, duration: 250 });
  }

  /** Show a query result: these elements stand out, the rest fades. `null` clears. */
  setHighlight(ids) {
    this.highlight = ids;
    this.cy.batch(() => this.applyHighlight());
    const hl = this.cy.elements('.hl');
    if (hl.nonempty()) this.cy.animate({ fit: { eles: hl, padding: 80 }, duration: 300 });
  }

  applyHighlight() {
    const cy = this.cy;
    if (!this.highlight) {
      cy.elements().removeClass('hl dim');
      return;
    }
    const { nodes, edges } = this.highlight;
    cy.nodes().forEach((n) => {
      const on = nodes.has(n.id());
      n.toggleClass('hl', on);
      // a box stays plain when something highlighted is inside it
      n.toggleClass('dim', !on && !(n.isParent() && n.descendants().some((d) => nodes.has(d.id()))));
    });
    cy.edges().forEach((e) => {
      const on = edges.has(e.id());
      e.toggleClass('hl', on);
      e.toggleClass('dim', !on);
    });
  }

  /** Ids of the nodes currently drawn (tests and the status bar). */
  drawnNodeIds() {
    return this.cy.nodes().map((n) => n.id());
  }
}

function nodeData(n) {
  const md = n.Metadata ?? {};
  const cat = nodeCategory(md);
  const name = md.Name ?? n.ID;
  let label = String(name);
  if (GROUP_CATEGORIES.has(cat)) label = `${cat}: ${name}`;
  else {
    const ip = Array.isArray(md.IPV4) ? md.IPV4[0] : typeof md.IPV4 === 'string' ? md.IPV4 : undefined;
    if (ip) label += `\n${ip}`;
    else if (cat === 'tunnel' && md.Ovs?.Options?.remote_ip) label += `\n→ ${md.Ovs.Options.remote_ip}`;
  }
  return {
    label,
    cat,
    type: String(md.Type ?? ''),
    state: String(md.State ?? ''),
    captured: Array.isArray(md.Captures) ? md.Captures.length > 0 : Boolean(md.Captures),
  };
}

function depthOf(id, parentOf) {
  let d = 0;
  for (let cur = parentOf.get(id); cur && d < MAX_OWNERSHIP_DEPTH; cur = parentOf.get(cur)) d++;
  return d;
}

function isInViewport(cy, n) {
  const bb = n.renderedBoundingBox();
  return bb.x1 >= 0 && bb.y1 >= 0 && bb.x2 <= cy.width() && bb.y2 <= cy.height();
}
