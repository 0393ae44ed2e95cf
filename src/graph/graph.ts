import { createHash, randomUUID } from 'node:crypto';

/**
 * The topology graph: nodes and edges with the original's JSON shape (graffiti/graph), revisions on every change,
 * events for listeners, and removal of an origin's whole subgraph. It is the one in-memory source of truth of an
 * agent (its own host) and of an analyzer (every agent's graph plus its own fabric nodes).
 */

export type Metadata = Record<string, unknown>;

export interface ElementJSON {
  ID: string;
  Metadata: Metadata;
  Host: string;
  Origin: string;
  CreatedAt: number;
  UpdatedAt: number;
  DeletedAt: number | null;
  Revision: number;
}
export type NodeJSON = ElementJSON;
export interface EdgeJSON extends ElementJSON {
  Parent: string;
  Child: string;
}
export interface GraphJSON {
  Nodes: NodeJSON[];
  Edges: EdgeJSON[];
}

/** uuid's NamespaceOID, as the original uses for GenID(s...). */
const NAMESPACE_OID = Buffer.from('6ba7b8129dad11d180b400c04fd430c8', 'hex');
const HEX = Buffer.from('0123456789abcdef');

/**
 * GenID(): random UUIDv4; GenID(a, b, ...): UUIDv5(OID, "a/b/...") so that ids are stable across restarts.
 * UUIDv5 is computed here rather than with the uuid package, which re-parses the namespace on every call: probes and
 * topology imports generate an ID per element.
 */
export function genID(...parts: string[]): string {
  if (parts.length === 0) return randomUUID();
  const h = createHash('sha1').update(NAMESPACE_OID).update(parts.join('/'), 'utf8').digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  // one flat string: concatenated slices would keep a rope per ID, doubling the memory of a large graph
  const out = Buffer.allocUnsafe(36);
  let j = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) out[j++] = 45;
    out[j++] = HEX[h[i] >> 4];
    out[j++] = HEX[h[i] & 15];
  }
  return out.toString('latin1');
}

export abstract class GraphElement {
  metadata: Metadata;
  revision = 1;
  deletedAt: number | null = null;
  constructor(
    readonly id: string,
    metadata: Metadata,
    public host: string,
    public origin: string,
    public createdAt: number,
    public updatedAt: number,
  ) {
    this.metadata = metadata;
  }

  /** Metadata value at a dotted path ('Ovs.Options.remote_ip'); a path through a list yields the list of values. */
  get(path: string): unknown {
    return getField(this, path);
  }

  protected baseJSON(): ElementJSON {
    return {
      ID: this.id,
      Metadata: this.metadata,
      Host: this.host,
      Origin: this.origin,
      CreatedAt: this.createdAt,
      UpdatedAt: this.updatedAt,
      DeletedAt: this.deletedAt,
      Revision: this.revision,
    };
  }
}

export class Node extends GraphElement {
  readonly kind = 'node' as const;
  toJSON(): NodeJSON {
    return this.baseJSON();
  }
}

export class Edge extends GraphElement {
  readonly kind = 'edge' as const;
  constructor(
    id: string,
    readonly parent: string,
    readonly child: string,
    metadata: Metadata,
    host: string,
    origin: string,
    createdAt: number,
    updatedAt: number,
  ) {
    super(id, metadata, host, origin, createdAt, updatedAt);
  }
  toJSON(): EdgeJSON {
    return { ...this.baseJSON(), Parent: this.parent, Child: this.child };
  }
}

export type Element = Node | Edge;

/** Element fields reachable with '@' in filters, as in the original (times in ms). */
export function getField(el: GraphElement, path: string): unknown {
  if (path.startsWith('@')) {
    switch (path) {
      case '@ID':
        return el.id;
      case '@Host':
        return el.host;
      case '@Origin':
        return el.origin;
      case '@CreatedAt':
        return el.createdAt;
      case '@UpdatedAt':
        return el.updatedAt;
      case '@DeletedAt':
        return el.deletedAt ?? undefined;
      case '@Revision':
        return el.revision;
      default:
        return undefined;
    }
  }
  if (el instanceof Edge) {
    if (path === 'Parent') return el.parent;
    if (path === 'Child') return el.child;
  }
  const p = path.startsWith('Metadata.') ? path.slice(9) : path;
  return lookupPath(el.metadata, p);
}

/** Descend a dotted path in nested objects; through a list, collect the sub-values of every element. */
export function lookupPath(obj: unknown, path: string): unknown {
  if (path === '') return obj;
  // fast path: a flat key (the common case: Type, Name, MAC...)
  if (obj !== null && typeof obj === 'object' && !Array.isArray(obj)) {
    const direct = (obj as Record<string, unknown>)[path];
    if (direct !== undefined) return direct;
  }
  const dot = path.indexOf('.');
  if (dot < 0) {
    if (Array.isArray(obj)) return collect(obj, path);
    return undefined;
  }
  const head = path.slice(0, dot);
  const rest = path.slice(dot + 1);
  if (Array.isArray(obj)) return collect(obj, path);
  if (obj === null || typeof obj !== 'object') return undefined;
  const next = (obj as Record<string, unknown>)[head];
  if (next === undefined) return undefined;
  return lookupPath(next, rest);
}

function collect(list: unknown[], path: string): unknown {
  const out: unknown[] = [];
  for (const item of list) {
    const v = lookupPath(item, path);
    if (v === undefined) continue;
    if (Array.isArray(v)) out.push(...v);
    else out.push(v);
  }
  return out.length ? out : undefined;
}

/** Ops of NodePartiallyUpdated/EdgePartiallyUpdated messages: Type 1 = add/set, 2 = delete. */
export interface PartialOp {
  Type: 1 | 2;
  Key: string;
  Value?: unknown;
}

export interface GraphListener {
  onNodeAdded?(node: Node): void;
  onNodeUpdated?(node: Node, ops: PartialOp[]): void;
  onNodeDeleted?(node: Node): void;
  onEdgeAdded?(edge: Edge): void;
  onEdgeUpdated?(edge: Edge, ops: PartialOp[]): void;
  onEdgeDeleted?(edge: Edge): void;
}

export interface GraphOptions {
  host: string;
  origin: string;
  now?: () => number;
}

export class Graph {
  readonly host: string;
  readonly origin: string;
  private readonly nodeMap = new Map<string, Node>();
  private readonly edgeMap = new Map<string, Edge>();
  private readonly outIdx = new Map<string, Set<Edge>>();
  private readonly inIdx = new Map<string, Set<Edge>>();
  private readonly listeners = new Set<GraphListener>();
  readonly now: () => number;

  constructor(opts: GraphOptions) {
    this.host = opts.host;
    this.origin = opts.origin;
    this.now = opts.now ?? Date.now;
  }

  // ---- reading

  get nodeCount(): number {
    return this.nodeMap.size;
  }
  get edgeCount(): number {
    return this.edgeMap.size;
  }
  nodes(): IterableIterator<Node> {
    return this.nodeMap.values();
  }
  edges(): IterableIterator<Edge> {
    return this.edgeMap.values();
  }
  getNode(id: string): Node | undefined {
    return this.nodeMap.get(id);
  }
  getEdge(id: string): Edge | undefined {
    return this.edgeMap.get(id);
  }
  /** Edges where the node is the Parent. */
  outEdges(node: Node | string): Iterable<Edge> {
    return this.outIdx.get(typeof node === 'string' ? node : node.id) ?? EMPTY;
  }
  /** Edges where the node is the Child. */
  inEdges(node: Node | string): Iterable<Edge> {
    return this.inIdx.get(typeof node === 'string' ? node : node.id) ?? EMPTY;
  }
  *nodeEdges(node: Node | string): IterableIterator<Edge> {
    yield* this.outEdges(node);
    yield* this.inEdges(node);
  }
  /** Nodes whose metadata match every key/value of the filter (exact equality on dotted paths). */
  *lookupNodes(filter: Metadata): IterableIterator<Node> {
    for (const n of this.nodeMap.values()) if (matchesMetadata(n, filter)) yield n;
  }
  lookupFirstNode(filter: Metadata): Node | undefined {
    for (const n of this.lookupNodes(filter)) return n;
    return undefined;
  }
  /** Children of a node through edges matching edgeFilter (default: any). */
  lookupChildren(node: Node, filter: Metadata = {}, edgeFilter: Metadata = {}): Node[] {
    const out: Node[] = [];
    for (const e of this.outEdges(node)) {
      if (!matchesMetadata(e, edgeFilter)) continue;
      const c = this.nodeMap.get(e.child);
      if (c && matchesMetadata(c, filter)) out.push(c);
    }
    return out;
  }
  lookupParents(node: Node, filter: Metadata = {}, edgeFilter: Metadata = {}): Node[] {
    const out: Node[] = [];
    for (const e of this.inEdges(node)) {
      if (!matchesMetadata(e, edgeFilter)) continue;
      const p = this.nodeMap.get(e.parent);
      if (p && matchesMetadata(p, filter)) out.push(p);
    }
    return out;
  }
  /** The edge between parent and child matching edgeFilter, if any. */
  findEdge(parent: string, child: string, edgeFilter: Metadata = {}): Edge | undefined {
    for (const e of this.outEdges(parent)) if (e.child === child && matchesMetadata(e, edgeFilter)) return e;
    return undefined;
  }

  // ---- writing

  /** Create and insert a node; an existing id is returned unchanged (idempotent for probes). */
  newNode(id: string, metadata: Metadata, opts: { host?: string; origin?: string } = {}): Node {
    const existing = this.nodeMap.get(id);
    if (existing) return existing;
    const t = this.now();
    const n = new Node(id, metadata, opts.host ?? this.host, opts.origin ?? this.origin, t, t);
    this.insertNode(n);
    return n;
  }

  /** Insert a node built elsewhere (sync from an agent, REST); returns false if the id already exists. */
  insertNode(n: Node): boolean {
    if (this.nodeMap.has(n.id)) return false;
    this.nodeMap.set(n.id, n);
    for (const l of this.listeners) l.onNodeAdded?.(n);
    return true;
  }

  /** Create and insert an edge (Parent -> Child); an existing id is returned unchanged. */
  newEdge(id: string | undefined, parent: Node | string, child: Node | string, metadata: Metadata, opts: { host?: string; origin?: string } = {}): Edge {
    const p = typeof parent === 'string' ? parent : parent.id;
    const c = typeof child === 'string' ? child : child.id;
    const eid = id ?? genID(p + c);
    const existing = this.edgeMap.get(eid);
    if (existing) return existing;
    const t = this.now();
    const e = new Edge(eid, p, c, metadata, opts.host ?? this.host, opts.origin ?? this.origin, t, t);
    this.insertEdge(e);
    return e;
  }

  /** Insert an edge built elsewhere; false if the id exists or an endpoint is missing. */
  insertEdge(e: Edge): boolean {
    if (this.edgeMap.has(e.id)) return false;
    if (!this.nodeMap.has(e.parent) || !this.nodeMap.has(e.child)) return false;
    this.edgeMap.set(e.id, e);
    addIdx(this.outIdx, e.parent, e);
    addIdx(this.inIdx, e.child, e);
    for (const l of this.listeners) l.onEdgeAdded?.(e);
    return true;
  }

  /** Topology link id: UUIDv5(parent+child+relationType), as the original's topology.NewLink. */
  link(parent: Node, child: Node, relationType: string, extra: Metadata = {}): Edge {
    return this.newEdge(genID(parent.id + child.id + relationType), parent, child, { RelationType: relationType, ...extra });
  }

  /** An ownership link; a child has at most one ownership parent, so an older one is removed. */
  ownershipLink(parent: Node, child: Node, extra: Metadata = {}): Edge {
    for (const e of [...this.inEdges(child)]) {
      if (e.metadata.RelationType === 'ownership' && e.parent !== parent.id) this.delEdge(e);
    }
    return this.link(parent, child, 'ownership', extra);
  }

  unlink(parent: Node, child: Node, relationType: string): void {
    const e = this.edgeMap.get(genID(parent.id + child.id + relationType));
    if (e) this.delEdge(e);
  }

  /** Set one metadata key (dotted keys are stored as given, at the top level). No event if the value is unchanged. */
  addMetadata(el: Element, key: string, value: unknown): void {
    if (deepEqual(el.metadata[key], value)) return;
    el.metadata[key] = value;
    this.touched(el, [{ Type: 1, Key: key, Value: value }]);
  }

  /** Replace the whole metadata; no event if nothing changed. */
  setMetadata(el: Element, metadata: Metadata): void {
    const ops = diffMetadata(el.metadata, metadata);
    if (!ops.length) return;
    el.metadata = metadata;
    this.touched(el, ops);
  }

  /** Merge keys into the metadata (undefined deletes a key). */
  updateMetadata(el: Element, patch: Metadata): void {
    const ops: PartialOp[] = [];
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined) {
        if (k in el.metadata) {
          delete el.metadata[k];
          ops.push({ Type: 2, Key: k });
        }
      } else if (!deepEqual(el.metadata[k], v)) {
        el.metadata[k] = v;
        ops.push({ Type: 1, Key: k, Value: v });
      }
    }
    if (ops.length) this.touched(el, ops);
  }

  delMetadata(el: Element, key: string): void {
    if (!(key in el.metadata)) return;
    delete el.metadata[key];
    this.touched(el, [{ Type: 2, Key: key }]);
  }

  /** Apply a remote revision of an element (agent sync): only if it is newer. */
  applyRemoteUpdate(el: Element, metadata: Metadata, revision: number, updatedAt: number): boolean {
    if (revision <= el.revision) return false;
    const ops = diffMetadata(el.metadata, metadata);
    el.metadata = metadata;
    el.revision = revision;
    el.updatedAt = updatedAt;
    this.emitUpdated(el, ops);
    return true;
  }

  private touched(el: Element, ops: PartialOp[]): void {
    el.revision++;
    el.updatedAt = this.now();
    this.emitUpdated(el, ops);
  }

  private emitUpdated(el: Element, ops: PartialOp[]): void {
    if (el instanceof Node) for (const l of this.listeners) l.onNodeUpdated?.(el, ops);
    else for (const l of this.listeners) l.onEdgeUpdated?.(el, ops);
  }

  /** Delete a node and, first, all its edges (same DeletedAt). */
  delNode(n: Node | string): void {
    const node = typeof n === 'string' ? this.nodeMap.get(n) : n;
    if (!node || !this.nodeMap.has(node.id)) return;
    const t = this.now();
    for (const e of [...this.nodeEdges(node)]) this.delEdge(e, t);
    this.nodeMap.delete(node.id);
    this.outIdx.delete(node.id);
    this.inIdx.delete(node.id);
    node.deletedAt = t;
    for (const l of this.listeners) l.onNodeDeleted?.(node);
  }

  delEdge(e: Edge | string, at?: number): void {
    const edge = typeof e === 'string' ? this.edgeMap.get(e) : e;
    if (!edge || !this.edgeMap.has(edge.id)) return;
    this.edgeMap.delete(edge.id);
    this.outIdx.get(edge.parent)?.delete(edge);
    this.inIdx.get(edge.child)?.delete(edge);
    edge.deletedAt = at ?? this.now();
    for (const l of this.listeners) l.onEdgeDeleted?.(edge);
  }

  /** Remove every node (and its edges) and every edge whose Origin is the given one: an agent that went away. */
  delSubGraphOfOrigin(origin: string): number {
    let count = 0;
    for (const e of [...this.edgeMap.values()]) {
      if (e.origin === origin) {
        this.delEdge(e);
        count++;
      }
    }
    for (const n of [...this.nodeMap.values()]) {
      if (n.origin === origin) {
        this.delNode(n);
        count++;
      }
    }
    return count;
  }

  /** Delete a node and everything it owns (ownership descendants), children first. */
  delOwnedSubtree(n: Node): void {
    for (const c of this.lookupChildren(n, {}, { RelationType: 'ownership' })) this.delOwnedSubtree(c);
    this.delNode(n);
  }

  addListener(l: GraphListener): void {
    this.listeners.add(l);
  }
  removeListener(l: GraphListener): void {
    this.listeners.delete(l);
  }

  toJSON(): GraphJSON {
    return {
      Nodes: [...this.nodeMap.values()].map((n) => n.toJSON()),
      Edges: [...this.edgeMap.values()].map((e) => e.toJSON()),
    };
  }
}

const EMPTY: Edge[] = [];

function addIdx(idx: Map<string, Set<Edge>>, key: string, e: Edge): void {
  let s = idx.get(key);
  if (!s) idx.set(key, (s = new Set()));
  s.add(e);
}

/** Exact match of every filter key (dotted path); a list-valued field matches if any element equals. */
export function matchesMetadata(el: GraphElement, filter: Metadata): boolean {
  for (const k in filter) {
    const want = filter[k];
    const got = getField(el, k);
    if (Array.isArray(got) && !Array.isArray(want)) {
      if (!got.some((g) => deepEqual(g, want))) return false;
    } else if (!deepEqual(got, want)) return false;
  }
  return true;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  for (const k of ka) if (!deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  return true;
}

function diffMetadata(before: Metadata, after: Metadata): PartialOp[] {
  const ops: PartialOp[] = [];
  for (const k of Object.keys(before)) if (!(k in after)) ops.push({ Type: 2, Key: k });
  for (const [k, v] of Object.entries(after)) if (!deepEqual(before[k], v)) ops.push({ Type: 1, Key: k, Value: v });
  return ops;
}

export function nodeFromJSON(j: NodeJSON): Node {
  const now = Date.now();
  const n = new Node(j.ID, j.Metadata ?? {}, j.Host ?? '', j.Origin ?? '', j.CreatedAt || now, j.UpdatedAt || now);
  n.revision = j.Revision || 1;
  n.deletedAt = j.DeletedAt ?? null;
  return n;
}

export function edgeFromJSON(j: EdgeJSON): Edge {
  const now = Date.now();
  const e = new Edge(j.ID, j.Parent, j.Child, j.Metadata ?? {}, j.Host ?? '', j.Origin ?? '', j.CreatedAt || now, j.UpdatedAt || now);
  e.revision = j.Revision || 1;
  e.deletedAt = j.DeletedAt ?? null;
  return e;
}
