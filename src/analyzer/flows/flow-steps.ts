import { lookupPath, type Node } from '../../graph/graph.js';
import {
  GRAPH,
  PATHS,
  VALUE,
  GremlinArgumentError,
  GremlinError,
  compileKeyValues,
  nodes,
  type CollectionValue,
  type EvalState,
  type Filter,
  type GremlinArg,
  type ItemKind,
  type PathsValue,
  type ScalarValue,
  type StepDefinition,
  type StepHandler,
  type StepRegistry,
  type TraversalValue,
} from '../../gremlin/index.js';
import { compileBPF, type BPFFilter } from '../../flow/bpf.js';
import type { FlowJSON, FlowStore, RawPacket } from './flow-store.js';

/**
 * Skydive's flow steps (reference §2.4) on the analyzer's flow store: `G.Flows(...)`, `V(...).Flows()`, then the
 * generic collection steps (Has, HasEither, Dedup, Sort, Count, Sum, Values, Limit...) on flows, and Hops(),
 * CaptureNode() / Node(), Nodes(), In(), Out(), Both(), Metrics(), RawPackets(), BPF(), Group(), MoreThan().
 * The store reaches the steps through the query context: `ext[FLOW_STORE_EXT]`.
 */

export const FLOW_STORE_EXT = 'flowStore';
/** `flow.expire` in ms, also in ext: a flow is active in a Context() slice if it was seen up to expire before it. */
export const FLOW_EXPIRE_EXT = 'flowExpireMs';

/** Keys that stand for both endpoints of a layer: Has('Network', ip) = Network.A or Network.B. */
const BOTH_ENDS = new Set(['Network', 'Link', 'Transport']);

function flowField(f: FlowJSON, key: string): unknown {
  const k = key.startsWith('Metadata.') ? key.slice(9) : key;
  if (BOTH_ENDS.has(k)) {
    const layer = f[k] as { A?: unknown; B?: unknown } | undefined;
    if (!layer) return undefined;
    const ends = [layer.A, layer.B].filter((v) => v !== undefined);
    return ends.length ? ends : undefined;
  }
  return lookupPath(f, k);
}

function flowKeys(f: FlowJSON): string[] {
  const out: string[] = [];
  const walk = (o: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(o)) {
      out.push(prefix + k);
      if (v && typeof v === 'object' && !Array.isArray(v)) walk(v as Record<string, unknown>, `${prefix}${k}.`);
    }
  };
  walk(f, '');
  return out;
}

export const FLOWS: ItemKind<FlowJSON> = {
  name: 'flows',
  label: 'flows (from Flows())',
  getField: flowField,
  keys: flowKeys,
  identity: (f) => f.UUID,
  toJSON: (f) => f,
  defaultSortKey: 'Last',
};

export function flowsValue(items: FlowJSON[]): CollectionValue<FlowJSON> {
  return { type: 'collection', of: FLOWS, items };
}

/** Raw packets of flows (RawPackets()), what BPF() filters and what the API renders as pcap. */
export interface FlowPackets {
  uuid: string;
  packets: RawPacket[];
}

export const RAW_PACKETS: ItemKind<FlowPackets> = {
  name: 'rawpackets',
  label: 'raw packets (from RawPackets())',
  getField: (p, key) => (key === 'UUID' ? p.uuid : undefined),
  keys: () => ['UUID'],
  identity: (p) => p.uuid,
  toJSON: (p) => ({ [p.uuid]: p.packets.map((r) => ({ Timestamp: r.Timestamp, Index: r.Index, Data: r.Data })) }),
  defaultSortKey: 'UUID',
};

function store(state: EvalState): FlowStore {
  const s = state.ctx.ext?.[FLOW_STORE_EXT] as FlowStore | undefined;
  if (!s) throw new GremlinError('flow steps are not available here: no flow store (flows are queried on the analyzer)');
  return s;
}

/** Flows of the store, restricted to the Context() slice when there is one. */
function storedFlows(state: EvalState): FlowJSON[] {
  const all = store(state).flows();
  const t = state.time;
  if (!t) return all;
  const expire = (state.ctx.ext?.[FLOW_EXPIRE_EXT] as number | undefined) ?? 600_000;
  return all.filter((f) => (f.Start as number) <= t.slice.last && (f.Last as number) >= t.slice.start - expire);
}

function optionalFilter(args: readonly GremlinArg[], step: string): Filter | undefined {
  return args.length ? compileKeyValues(args, 'and', `${step}()`) : undefined;
}

function filtered(flows: FlowJSON[], filter: Filter | undefined): FlowJSON[] {
  return filter ? flows.filter((f) => filter.match(f, flowField)) : flows;
}

function flowsOfNodes(state: EvalState, ns: Iterable<Node>, filter: Filter | undefined): CollectionValue<FlowJSON> {
  const tids = new Set<unknown>();
  for (const n of ns) if (n.metadata.TID !== undefined) tids.add(n.metadata.TID);
  return flowsValue(filtered(storedFlows(state).filter((f) => tids.has(f.NodeTID)), filter));
}

/** Nodes of the current view matching a predicate, in view order, each once. */
function nodesWhere(state: EvalState, keep: (n: Node) => boolean, filter?: Filter): CollectionValue<Node> {
  const out: Node[] = [];
  for (const n of state.view.nodes()) if (keep(n) && (!filter || filter.match(n, (x, k) => x.get(k)))) out.push(n);
  return nodes(out);
}

function layerEnds(flows: FlowJSON[], layer: string, ends: Array<'A' | 'B'>): Set<unknown> {
  const out = new Set<unknown>();
  for (const f of flows) {
    const l = f[layer] as { A?: unknown; B?: unknown } | undefined;
    if (!l) continue;
    for (const e of ends) if (l[e] !== undefined) out.add(l[e]);
  }
  return out;
}

function hasAny(v: unknown, set: Set<unknown>): boolean {
  if (Array.isArray(v)) return v.some((x) => set.has(x));
  return v !== undefined && set.has(v);
}

/** Adds a handler to an existing step, or defines the step with it. */
function extend<C>(r: StepRegistry, name: string, kind: string, handler: StepHandler<C>, def?: Omit<StepDefinition<C>, 'name' | 'on'>): void {
  if (r.canonicalName(name)) r.addHandler(name, kind, handler);
  else r.defineStep<C>({ name, ...def, on: { [kind]: handler } });
}

function noArgs(step: string) {
  return (args: readonly GremlinArg[]): undefined => {
    if (args.length) throw new GremlinArgumentError(`${step}() takes no argument`, args[0]);
    return undefined;
  };
}

export function registerFlowSteps(r: StepRegistry): void {
  r.defineKind(FLOWS);
  r.defineKind(RAW_PACKETS);

  const flowsCompile = (args: readonly GremlinArg[]) => optionalFilter(args, 'Flows');
  r.defineStep<Filter | undefined>({
    name: 'Flows',
    compile: flowsCompile,
    on: {
      [GRAPH]: { output: FLOWS.name, exec: (_i, { args, state }) => flowsValue(filtered(storedFlows(state), args)) },
      nodes: { output: FLOWS.name, exec: (input, { args, state }) => flowsOfNodes(state, (input as CollectionValue<Node>).items, args) },
      [PATHS]: { output: FLOWS.name, exec: (input, { args, state }) => flowsOfNodes(state, (input as PathsValue).paths.flat(), args) },
    },
  });

  const captureNodes: StepHandler<undefined> = {
    output: 'nodes',
    compile: noArgs('Hops'),
    exec(input, { state }) {
      const tids = new Set((input as CollectionValue<FlowJSON>).items.map((f) => f.NodeTID).filter((t) => t));
      return nodesWhere(state, (n) => tids.has(n.metadata.TID as string));
    },
  };
  r.defineStep({ name: 'Hops', on: { flows: captureNodes } });
  r.defineStep({ name: 'CaptureNode', aliases: ['Node'], on: { flows: { ...captureNodes, compile: noArgs('CaptureNode') } } });

  r.defineStep({
    name: 'Nodes',
    compile: noArgs('Nodes'),
    on: {
      flows: {
        output: 'nodes',
        exec(input, { state }) {
          const flows = (input as CollectionValue<FlowJSON>).items;
          const tids = new Set(flows.map((f) => f.NodeTID).filter((t) => t));
          const macs = layerEnds(flows, 'Link', ['A', 'B']);
          return nodesWhere(state, (n) => tids.has(n.metadata.TID as string) || hasAny(n.metadata.MAC, macs));
        },
      },
    },
  });

  // In()/Out()/Both() from flows: the interfaces whose MAC (or PeerIntfMAC) is the flow's source / destination
  for (const [name, ends] of [
    ['In', ['A']],
    ['Out', ['B']],
    ['Both', ['A', 'B']],
  ] as const) {
    extend<Filter | undefined>(r, name, 'flows', {
      output: 'nodes',
      compile: (args) => optionalFilter(args, name),
      exec(input, { args, state }) {
        const macs = layerEnds((input as CollectionValue<FlowJSON>).items, 'Link', [...ends]);
        return nodesWhere(state, (n) => hasAny(n.metadata.MAC, macs) || hasAny(n.metadata.PeerIntfMAC, macs), args);
      },
    });
  }

  extend<string>(
    r,
    'Metrics',
    'flows',
    {
      output: VALUE,
      compile(args) {
        if (args.length > 1 || (args[0] && args[0].type !== 'string')) throw new GremlinArgumentError('Metrics() on flows takes no argument', args[0]);
        return undefined as unknown as string;
      },
      exec(input, { state }) {
        const s = store(state);
        const out: Record<string, unknown[]> = {};
        for (const f of (input as CollectionValue<FlowJSON>).items) out[f.UUID] = s.metrics(f.UUID);
        return { type: 'value', value: Object.keys(out).length ? [out] : [] };
      },
    },
  );

  r.defineStep({
    name: 'RawPackets',
    compile: noArgs('RawPackets'),
    on: {
      flows: {
        output: RAW_PACKETS.name,
        exec(input, { state }) {
          const s = store(state);
          const items: FlowPackets[] = [];
          for (const f of (input as CollectionValue<FlowJSON>).items) {
            const packets = s.rawPackets(f.UUID);
            if (packets.length) items.push({ uuid: f.UUID, packets });
          }
          return { type: 'collection', of: RAW_PACKETS, items };
        },
      },
    },
  });

  r.defineStep<string>({
    name: 'BPF',
    compile(args) {
      const a = args[0];
      if (args.length !== 1 || a.type !== 'string') throw new GremlinArgumentError("BPF() expects one filter expression, e.g. BPF('icmp')", a ?? args[1]);
      try {
        compileBPF(a.value, 1);
      } catch (err) {
        throw new GremlinArgumentError((err as Error).message, a);
      }
      return a.value;
    },
    on: {
      [RAW_PACKETS.name]: {
        output: RAW_PACKETS.name,
        exec(input, { args }) {
          const filters = new Map<number, BPFFilter>();
          const items: FlowPackets[] = [];
          for (const fp of (input as CollectionValue<FlowPackets>).items) {
            const packets = fp.packets.filter((p) => {
              let f = filters.get(p.LinkType);
              if (!f) filters.set(p.LinkType, (f = compileBPF(args, p.LinkType)));
              const data = Buffer.from(p.Data, 'base64');
              return f.matches(data, 0, data.length, data.length);
            });
            if (packets.length) items.push({ uuid: fp.uuid, packets });
          }
          return { type: 'collection', of: RAW_PACKETS, items };
        },
      },
    },
  });

  r.defineStep<string>({
    name: 'Group',
    compile(args) {
      if (args.length > 1 || (args[0] && args[0].type !== 'string')) throw new GremlinArgumentError("Group() expects at most one key, e.g. Group('TrackingID')", args[1] ?? args[0]);
      return args[0]?.type === 'string' ? args[0].value : 'TrackingID';
    },
    on: {
      flows: {
        output: VALUE,
        exec(input, { args }) {
          const groups: Record<string, FlowJSON[]> = {};
          for (const f of (input as CollectionValue<FlowJSON>).items) {
            const v = flowField(f, args);
            if (v === undefined || v === null) continue;
            (groups[String(v)] ??= []).push(f);
          }
          return { type: 'value', value: Object.keys(groups).length ? [groups] : [] };
        },
      },
    },
  });

  r.defineStep<number>({
    name: 'MoreThan',
    compile(args) {
      if (args.length > 1) throw new GremlinArgumentError("MoreThan() expects at most one count, e.g. MoreThan('1')", args[1]);
      const a = args[0];
      if (!a) return 1;
      const n = a.type === 'string' ? Number(a.value) : a.type === 'number' ? a.value : NaN;
      if (!Number.isInteger(n) || n < 0) throw new GremlinArgumentError(`MoreThan() expects a non-negative integer, got ${a.text}`, a);
      return n;
    },
    on: {
      [VALUE]: {
        output: VALUE,
        exec(input, { args }) {
          const v = (input as ScalarValue).value;
          const groups = Array.isArray(v) ? (v[0] as Record<string, unknown[]> | undefined) : undefined;
          if (groups === undefined && !(Array.isArray(v) && v.length === 0)) throw new GremlinError('MoreThan() applies to the result of Group()');
          const kept = Object.fromEntries(Object.entries(groups ?? {}).filter(([, list]) => Array.isArray(list) && list.length > args));
          return { type: 'value', value: Object.keys(kept).length ? [kept] : [] };
        },
      },
    },
  });
}

/** The raw packets of a RawPackets()/BPF() result, for a pcap answer; undefined for any other result. */
export function rawPacketsOf(result: TraversalValue): RawPacket[] | undefined {
  if (result.type !== 'collection' || result.of !== RAW_PACKETS) return undefined;
  return (result.items as FlowPackets[]).flatMap((p) => p.packets);
}
