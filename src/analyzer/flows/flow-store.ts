/**
 * The analyzer's live flow store: the latest state of every flow the agents reported (`Flow`/`FlowUpdate`), by
 * flow UUID, what `G.Flows()` queries. It is bounded (the least recently updated flow is evicted first) and
 * forgets flows that no update refreshed for `flow.expire` seconds (their capture was stopped, or they ended).
 * Kept raw packets (RawPacketLimit) are stored with their flow.
 */

export type FlowJSON = Record<string, unknown> & { UUID: string };

export interface RawPacket {
  Timestamp: number;
  Index: number;
  /** base64 */
  Data: string;
  LinkType: number;
}

interface Entry {
  flow: FlowJSON;
  receivedAt: number;
  raw?: RawPacket[];
  /** LastUpdateMetric of each update, oldest first (what Metrics() returns). */
  metrics?: unknown[];
}

/** Update windows kept per flow for Metrics(). */
const METRICS_PER_FLOW = 256;

export interface FlowStoreOptions {
  maxFlows?: number;
  /** ms without an update after which a flow is forgotten */
  retentionMs?: number;
  now?: () => number;
}

export type FlowListener = (flows: FlowJSON[], captureID: string) => void;

export class FlowStore {
  private readonly entries = new Map<string, Entry>();
  private readonly listeners = new Set<FlowListener>();
  private readonly maxFlows: number;
  private readonly retentionMs: number;
  private readonly now: () => number;
  /** Flows pushed out because the store was full. */
  evicted = 0;

  constructor(opts: FlowStoreOptions = {}) {
    this.maxFlows = opts.maxFlows ?? 100000;
    this.retentionMs = opts.retentionMs ?? 600_000;
    this.now = opts.now ?? Date.now;
  }

  /** Stores a batch of flow states (each replaces the previous state of its UUID) and notifies subscribers. */
  add(flows: readonly unknown[], rawPackets?: Record<string, RawPacket[]>, captureID = ''): FlowJSON[] {
    const now = this.now();
    const accepted: FlowJSON[] = [];
    for (const f of flows) {
      if (!f || typeof f !== 'object' || typeof (f as FlowJSON).UUID !== 'string' || !(f as FlowJSON).UUID) continue;
      const flow = f as FlowJSON;
      const prev = this.entries.get(flow.UUID);
      // an older state arriving late (e.g. from a second path) never replaces a newer one
      if (prev && typeof prev.flow.Last === 'number' && typeof flow.Last === 'number' && flow.Last < prev.flow.Last) continue;
      if (prev) this.entries.delete(flow.UUID);
      const raw = rawPackets?.[flow.UUID] ?? prev?.raw;
      const metrics = withMetric(prev?.metrics, flow.LastUpdateMetric);
      this.entries.set(flow.UUID, { flow, receivedAt: now, ...(raw ? { raw } : {}), ...(metrics ? { metrics } : {}) });
      accepted.push(flow);
    }
    while (this.entries.size > this.maxFlows) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
      this.evicted++;
    }
    if (accepted.length) for (const l of this.listeners) l(accepted, captureID);
    return accepted;
  }

  /** The flow's update windows (LastUpdateMetric of each update), oldest first. */
  metrics(uuid: string): unknown[] {
    return this.entries.get(uuid)?.metrics ?? [];
  }

  rawPackets(uuid: string): RawPacket[] {
    return this.entries.get(uuid)?.raw ?? [];
  }

  /** All flows, least recently updated first. */
  flows(): FlowJSON[] {
    this.sweep();
    return [...this.entries.values()].map((e) => e.flow);
  }

  /** Forgets flows not updated within the retention time. */
  sweep(): number {
    const limit = this.now() - this.retentionMs;
    let removed = 0;
    for (const [uuid, e] of this.entries) {
      // entries are in update order: the first recent one ends the scan
      if (e.receivedAt >= limit) break;
      this.entries.delete(uuid);
      removed++;
    }
    return removed;
  }

  subscribe(l: FlowListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}

function withMetric(list: unknown[] | undefined, m: unknown): unknown[] | undefined {
  if (!m || typeof m !== 'object') return list;
  const last = list?.[list.length - 1] as { Start?: unknown; Last?: unknown } | undefined;
  const cur = m as { Start?: unknown; Last?: unknown };
  if (last && last.Start === cur.Start && last.Last === cur.Last) return list;
  const out = list ? [...list, m] : [m];
  return out.length > METRICS_PER_FLOW ? out.slice(-METRICS_PER_FLOW) : out;
}
