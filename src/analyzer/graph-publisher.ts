import type { Logger } from 'pino';
import { edgeFromJSON, nodeFromJSON, type Edge, type EdgeJSON, type Element, type Graph, type GraphJSON, type Metadata, type Node, type NodeJSON, type PartialOp } from '../graph/graph.js';

/**
 * Applies the `Graph` messages of a publisher (an agent) to the analyzer graph, as the original's
 * PublisherEndpoint: `Sync` replaces the publisher's whole subgraph, incremental messages are applied only when
 * their Revision is newer than what the analyzer holds. Elements take the publisher's origin so that its
 * subgraph can be removed when it goes away. Malformed messages are logged and skipped.
 */
export function applyGraphMessage(graph: Graph, type: string, obj: unknown, origin: string, log: Logger): void {
  switch (type) {
    case 'Sync':
    case 'SyncReply':
      return applySync(graph, obj, origin, log);
    case 'NodeAdded':
    case 'NodeUpdated': {
      const j = asNode(obj);
      if (!j) return malformed(log, type, obj);
      const existing = graph.getNode(j.ID);
      if (!existing) graph.insertNode(withOrigin(nodeFromJSON(j), origin));
      else graph.applyRemoteUpdate(existing, j.Metadata ?? {}, j.Revision ?? 0, j.UpdatedAt || Date.now());
      return;
    }
    case 'EdgeAdded':
    case 'EdgeUpdated': {
      const j = asEdge(obj);
      if (!j) return malformed(log, type, obj);
      const existing = graph.getEdge(j.ID);
      if (!existing) {
        if (!graph.insertEdge(withOrigin(edgeFromJSON(j), origin))) log.debug({ edge: j.ID }, 'edge ignored: an endpoint is missing');
      } else graph.applyRemoteUpdate(existing, j.Metadata ?? {}, j.Revision ?? 0, j.UpdatedAt || Date.now());
      return;
    }
    case 'NodeDeleted': {
      const id = idOf(obj);
      if (!id) return malformed(log, type, obj);
      graph.delNode(id);
      return;
    }
    case 'EdgeDeleted': {
      const id = idOf(obj);
      if (!id) return malformed(log, type, obj);
      graph.delEdge(id);
      return;
    }
    case 'NodePartiallyUpdated':
    case 'EdgePartiallyUpdated': {
      const p = asPartial(obj);
      if (!p) return malformed(log, type, obj);
      const el: Element | undefined = type === 'NodePartiallyUpdated' ? graph.getNode(p.ID) : graph.getEdge(p.ID);
      if (!el) {
        log.debug({ id: p.ID, type }, 'partial update of an unknown element ignored');
        return;
      }
      if (p.Revision <= el.revision) return;
      graph.applyRemoteUpdate(el, applyOps(el.metadata, p.Ops), p.Revision, p.UpdatedAt || Date.now());
      return;
    }
    default:
      log.debug({ type }, 'unhandled Graph message type');
  }
}

function applySync(graph: Graph, obj: unknown, origin: string, log: Logger): void {
  const g = obj as Partial<GraphJSON> | null;
  if (!g || typeof g !== 'object' || (g.Nodes !== undefined && !Array.isArray(g.Nodes)) || (g.Edges !== undefined && !Array.isArray(g.Edges))) {
    return malformed(log, 'Sync', obj);
  }
  graph.delSubGraphOfOrigin(origin);
  let skipped = 0;
  for (const n of g.Nodes ?? []) {
    const j = asNode(n);
    if (!j) skipped++;
    else if (!graph.getNode(j.ID)) graph.insertNode(withOrigin(nodeFromJSON(j), origin));
  }
  for (const e of g.Edges ?? []) {
    const j = asEdge(e);
    if (!j) skipped++;
    else if (!graph.getEdge(j.ID)) graph.insertEdge(withOrigin(edgeFromJSON(j), origin));
  }
  if (skipped) log.warn({ skipped }, 'malformed elements skipped in Sync');
}

/**
 * Ops carry top-level metadata keys (as the agent graph emits them): Type 1 sets the key, Type 2 removes it.
 * The metadata object is copied so that the graph can compute its own diff.
 */
export function applyOps(metadata: Metadata, ops: PartialOp[]): Metadata {
  const out: Metadata = { ...metadata };
  for (const op of ops) {
    if (op.Type === 2) delete out[op.Key];
    else out[op.Key] = op.Value;
  }
  return out;
}

function withOrigin<T extends Node | Edge>(el: T, origin: string): T {
  el.origin = origin;
  return el;
}

function isObj(o: unknown): o is Record<string, unknown> {
  return o !== null && typeof o === 'object' && !Array.isArray(o);
}

function asNode(o: unknown): NodeJSON | undefined {
  if (!isObj(o) || typeof o.ID !== 'string' || o.ID === '') return undefined;
  if (o.Metadata !== undefined && !isObj(o.Metadata)) return undefined;
  return o as unknown as NodeJSON;
}

function asEdge(o: unknown): EdgeJSON | undefined {
  const n = asNode(o) as EdgeJSON | undefined;
  if (!n || typeof n.Parent !== 'string' || !n.Parent || typeof n.Child !== 'string' || !n.Child) return undefined;
  return n;
}

function idOf(o: unknown): string | undefined {
  return isObj(o) && typeof o.ID === 'string' && o.ID ? o.ID : undefined;
}

function asPartial(o: unknown): { ID: string; Revision: number; UpdatedAt: number; Ops: PartialOp[] } | undefined {
  if (!isObj(o) || typeof o.ID !== 'string' || typeof o.Revision !== 'number' || !Array.isArray(o.Ops)) return undefined;
  for (const op of o.Ops) {
    if (!isObj(op) || (op.Type !== 1 && op.Type !== 2) || typeof op.Key !== 'string') return undefined;
  }
  return o as unknown as { ID: string; Revision: number; UpdatedAt: number; Ops: PartialOp[] };
}

function malformed(log: Logger, type: string, obj: unknown): void {
  log.warn({ type, obj: JSON.stringify(obj)?.slice(0, 200) }, 'malformed Graph message ignored');
}
