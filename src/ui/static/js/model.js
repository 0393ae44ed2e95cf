// The page's copy of the analyzer graph: nodes and edges in the analyzer's JSON (ID, Metadata, Host, Origin,
// CreatedAt, UpdatedAt, DeletedAt, Revision [, Parent, Child]), kept in sync from the /ws/subscriber messages.

export class TopologyModel {
  constructor() {
    /** @type {Map<string, any>} */
    this.nodes = new Map();
    /** @type {Map<string, any>} */
    this.edges = new Map();
    this.listeners = new Set();
    this.lastEventAt = 0;
  }

  /** `fn({kind: 'sync'|'node'|'edge', id?, structural})` after each change; structural = nodes/edges added/removed. */
  onChange(fn) {
    this.listeners.add(fn);
  }

  emit(change) {
    this.lastEventAt = Date.now();
    for (const fn of this.listeners) fn(change);
  }

  /** Replace everything with a {Nodes, Edges} graph (SyncReply). */
  reset(graph) {
    this.nodes.clear();
    this.edges.clear();
    for (const n of graph?.Nodes ?? []) if (n?.ID) this.nodes.set(n.ID, n);
    for (const e of graph?.Edges ?? []) if (e?.ID && e.Parent && e.Child) this.edges.set(e.ID, e);
    this.emit({ kind: 'sync', structural: true });
  }

  /**
   * Apply one Graph-namespace message. Returns false for messages the model does not handle.
   * Updates older than what we hold are ignored, as the analyzer itself does (Revision only grows).
   */
  apply(type, obj) {
    switch (type) {
      case 'SyncReply':
      case 'Sync':
        this.reset(obj);
        return true;
      case 'NodeAdded':
      case 'NodeUpdated':
        return this.putNode(obj);
      case 'NodeDeleted':
        return this.deleteNode(obj);
      case 'EdgeAdded':
      case 'EdgeUpdated':
        return this.putEdge(obj);
      case 'EdgeDeleted':
        return this.deleteEdge(obj);
      case 'NodePartiallyUpdated':
        return this.patch(this.nodes, 'node', obj);
      case 'EdgePartiallyUpdated':
        return this.patch(this.edges, 'edge', obj);
      default:
        return false;
    }
  }

  putNode(n) {
    if (!n?.ID) return false;
    const old = this.nodes.get(n.ID);
    if (old && typeof old.Revision === 'number' && typeof n.Revision === 'number' && n.Revision < old.Revision) return true;
    this.nodes.set(n.ID, n);
    this.emit({ kind: 'node', id: n.ID, structural: !old });
    return true;
  }

  deleteNode(n) {
    if (!n?.ID || !this.nodes.delete(n.ID)) return true;
    // The analyzer deletes a node's edges first; drop any the page still holds so none dangles.
    for (const [id, e] of this.edges) if (e.Parent === n.ID || e.Child === n.ID) this.edges.delete(id);
    this.emit({ kind: 'node', id: n.ID, structural: true });
    return true;
  }

  putEdge(e) {
    if (!e?.ID || !e.Parent || !e.Child) return false;
    const old = this.edges.get(e.ID);
    if (old && typeof old.Revision === 'number' && typeof e.Revision === 'number' && e.Revision < old.Revision) return true;
    this.edges.set(e.ID, e);
    this.emit({ kind: 'edge', id: e.ID, structural: !old || old.Metadata?.RelationType !== e.Metadata?.RelationType });
    return true;
  }

  deleteEdge(e) {
    if (!e?.ID || !this.edges.delete(e.ID)) return true;
    this.emit({ kind: 'edge', id: e.ID, structural: true });
    return true;
  }

  /** *PartiallyUpdated: Ops [{Type: 1 (set), Key: 'a.b', Value} | {Type: 2 (delete), Key}]. */
  patch(map, kind, obj) {
    const el = obj?.ID && map.get(obj.ID);
    if (!el) return true;
    if (typeof obj.Revision === 'number' && typeof el.Revision === 'number' && obj.Revision <= el.Revision) return true;
    const md = structuredClone(el.Metadata ?? {});
    for (const op of obj.Ops ?? []) {
      if (typeof op?.Key !== 'string') continue;
      if (op.Type === 2) deletePath(md, op.Key);
      else setPath(md, op.Key, op.Value);
    }
    map.set(obj.ID, { ...el, Metadata: md, Revision: obj.Revision ?? el.Revision, UpdatedAt: obj.UpdatedAt ?? el.UpdatedAt });
    this.emit({ kind, id: obj.ID, structural: false });
    return true;
  }

  /** Edges touching a node, with the node at the other end. */
  neighbours(id) {
    const out = [];
    for (const e of this.edges.values()) {
      if (e.Parent === id) out.push({ edge: e, other: this.nodes.get(e.Child), direction: 'out' });
      else if (e.Child === id) out.push({ edge: e, other: this.nodes.get(e.Parent), direction: 'in' });
    }
    return out;
  }
}

function setPath(obj, key, value) {
  const parts = key.split('.');
  let cur = obj;
  for (const p of parts.slice(0, -1)) {
    if (!cur[p] || typeof cur[p] !== 'object') cur[p] = {};
    cur = cur[p];
  }
  cur[parts[parts.length - 1]] = value;
}

function deletePath(obj, key) {
  const parts = key.split('.');
  let cur = obj;
  for (const p of parts.slice(0, -1)) {
    cur = cur?.[p];
    if (!cur || typeof cur !== 'object') return;
  }
  delete cur[parts[parts.length - 1]];
}

/** Metadata value at a dotted path ('Ovs.Options.remote_ip'), as the Gremlin dialect reads it. */
export function getPath(md, path) {
  let cur = md;
  for (const p of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = cur[p];
  }
  return cur;
}
