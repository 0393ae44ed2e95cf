import assert from 'node:assert/strict';
import { lookupPath, type Node } from '../../../src/graph/graph.js';
import {
  compileKeyValues,
  defaultRegistry,
  DYNAMIC,
  executeGremlin,
  GRAPH,
  GremlinArgumentError,
  GremlinSyntaxError,
  NODES,
  nodes,
  parseGremlin,
  resultToJSON,
  SAME,
  StepRegistry,
  type CollectionValue,
  type EvalState,
  type Filter,
  type ItemKind,
} from '../../../src/gremlin/index.js';
import { buildAgentGraph, type AgentGraph } from './agent-graph.js';
import { assertSyntaxError } from './helpers.js';

/** A small flow extension built only with the public API, as the analyzer's flow steps are. */
interface Flow {
  UUID: string;
  NodeTID: string;
  TrackingID: string;
  LayersPath: string;
  Network: { A: string; B: string };
  Metric: { ABPackets: number; BAPackets: number };
  Last: number;
}

const FLOWS: ItemKind<Flow> = {
  name: 'flows',
  label: 'flows (from Flows())',
  getField: (f, key) => lookupPath(f, key),
  keys: (f) => Object.keys(f),
  identity: (f) => f.UUID,
  toJSON: (f) => f,
  defaultSortKey: 'Last',
};

function flowTable(state: EvalState): Flow[] {
  return state.ctx.ext?.flows as Flow[];
}

function registerFlowSteps(r: StepRegistry, stats: { folded: number }): void {
  r.defineKind(FLOWS);
  const flows = (items: Flow[]): CollectionValue<Flow> => ({ type: 'collection', of: FLOWS, items });
  r.defineStep<Filter | undefined>({
    name: 'Flows',
    compile: (args) => (args.length ? compileKeyValues(args, 'and', 'Flows()') : undefined),
    on: {
      [GRAPH]: {
        output: FLOWS.name,
        exec(_input, { args, state, following, skip }) {
          let items = flowTable(state).filter((f) => !args || args.match(f, FLOWS.getField));
          // fold a following Limit into the "storage query"
          const next = following[0];
          if (next?.name === 'Limit' && next.args[0]?.type === 'number') {
            items = items.slice(0, next.args[0].value);
            stats.folded++;
            skip(1);
          }
          return flows(items);
        },
      },
      [NODES.name]: {
        output: FLOWS.name,
        exec(input, { args, state }) {
          const tids = new Set((input as CollectionValue<Node>).items.map((n) => n.metadata.TID));
          return flows(flowTable(state).filter((f) => tids.has(f.NodeTID) && (!args || args.match(f, FLOWS.getField))));
        },
      },
    },
  });
  r.defineStep({
    name: 'Hops',
    compile(args) {
      if (args.length) throw new GremlinArgumentError('Hops() takes no argument', args[0]);
    },
    on: {
      flows: {
        output: NODES.name,
        exec(input, { state }) {
          const tids = new Set((input as CollectionValue<Flow>).items.map((f) => f.NodeTID));
          return nodes([...state.view.nodes()].filter((n) => tids.has(n.metadata.TID as string)));
        },
      },
    },
  });
  // on flows, Has('Network', ip) means Network.A or Network.B
  r.addHandler<Filter>('Has', FLOWS.name, {
    output: SAME,
    compile(args) {
      const expanded = args.flatMap((a, i) =>
        i % 2 === 0 && a.type === 'string' && a.value === 'Network' ? [{ ...a, value: 'Network.A' }] : [a],
      );
      return compileKeyValues(expanded, 'and', 'Has()');
    },
    exec(input, { args, step }) {
      const c = input as CollectionValue<Flow>;
      const wantsNetwork = step.args.some((a) => a.type === 'string' && a.value === 'Network');
      const asB = wantsNetwork ? compileKeyValues(step.args.map((a) => (a.type === 'string' && a.value === 'Network' ? { ...a, value: 'Network.B' } : a)), 'and', 'Has()') : undefined;
      return { ...c, items: c.items.filter((f) => args.match(f, FLOWS.getField) || (asB?.match(f, FLOWS.getField) ?? false)) };
    },
  });
  // a step whose output kind is only known at run time
  r.defineStep({
    name: 'Whatever',
    on: { [GRAPH]: { output: DYNAMIC, exec: (input, { state }) => nodes([...state.view.nodes()].filter((n) => n.metadata.Type === 'host')) } },
  });
}

describe('gremlin extension API (step registry)', () => {
  let a: AgentGraph;
  let registry: StepRegistry;
  let stats: { folded: number };
  let table: Flow[];
  const run = async (q: string) => resultToJSON(await executeGremlin(q, { graph: a.g, registry, ext: { flows: table } }));

  beforeEach(() => {
    a = buildAgentGraph();
    a.g.addMetadata(a.n.eth0, 'TID', 'tid-eth0');
    a.g.addMetadata(a.n.eth1, 'TID', 'tid-eth1');
    stats = { folded: 0 };
    registry = new StepRegistry(defaultRegistry);
    registerFlowSteps(registry, stats);
    const flow = (UUID: string, NodeTID: string, TrackingID: string, A: string, B: string, ab: number, Last: number, LayersPath = 'Ethernet/IPv4/ICMPv4'): Flow => ({
      UUID,
      NodeTID,
      TrackingID,
      LayersPath,
      Network: { A, B },
      Metric: { ABPackets: ab, BAPackets: ab },
      Last,
    });
    table = [
      flow('f1', 'tid-eth0', 't1', '192.168.0.1', '192.168.0.2', 5, 100),
      flow('f2', 'tid-eth1', 't1', '10.0.0.1', '10.0.0.2', 5, 300, 'Ethernet/IPv4/GRE/IPv4/ICMPv4'),
      flow('f3', 'tid-eth0', 't2', '192.168.0.3', '192.168.0.1', 7, 200, 'Ethernet/IPv4/TCP'),
    ];
  });

  it('the default registry (agents) does not know extension steps, nor is it changed by a child registry', () => {
    assertSyntaxError('G.Flows()', 'Flows() is not available here');
    assert.ok(!defaultRegistry.canonicalName('Hops'));
    assertSyntaxError('G.V().Hops()', 'Hops() is not available here');
    assert.equal(parseGremlin('g.flows().hops()', registry).steps[0].name, 'Flows');
  });

  it('generic collection steps work on the new kind (Has, Sort, Dedup, Count, Limit, Values, Sum, Keys)', async () => {
    assert.deepEqual(await run("G.Flows().Has('LayersPath', Regex('.*ICMPv4')).Sort(DESC).Values('UUID')"), ['f2', 'f1']);
    assert.deepEqual(await run('G.Flows().Sort().Values("UUID")'), ['f1', 'f3', 'f2']);
    assert.equal(await run("G.Flows().Dedup('TrackingID').Count()"), 2);
    assert.equal(await run("G.Flows().Sum('Metric.ABPackets')"), 17);
    assert.ok((await run('G.Flows().Keys()') as string[]).includes('TrackingID'));
    assert.equal(((await run("G.Flows('TrackingID', 't1')")) as Flow[]).length, 2);
  });

  it('steps from nodes to the new kind and back', async () => {
    assert.deepEqual(await run("G.V().Has('Name', 'eth0').Flows().Values('UUID')"), ['f1', 'f3']);
    const hops = (await run("G.Flows().Has('TrackingID', 't1').Hops()")) as { Metadata: { Name: string } }[];
    assert.deepEqual(hops.map((n) => n.Metadata.Name).sort(), ['eth0', 'eth1']);
    assert.equal(await run("G.Flows().Has('UUID', 'f2').Hops().Out().Count()"), 0);
  });

  it('a kind-specific handler overrides the generic one (Has Network = A or B)', async () => {
    assert.deepEqual(await run("G.Flows().Has('Network', '192.168.0.1').Values('UUID')"), ['f1', 'f3']);
    assert.deepEqual(await run("G.V().Has('Name', 'lo').Has('Name', 'lo').Values('Name')"), ['lo']);
  });

  it('a step may fold the following steps (skip)', async () => {
    const json = (await run('G.Flows().Limit(1)')) as Flow[];
    assert.equal(json.length, 1);
    assert.equal(stats.folded, 1);
  });

  it('static checks know the new kind', () => {
    assert.throws(
      () => parseGremlin('G.Flows().Out()', registry),
      (err: unknown) => err instanceof GremlinSyntaxError && err.column === 11 && /Out\(\) cannot follow flows \(from Flows\(\)\): it applies to nodes/.test(err.message),
    );
    parseGremlin("G.Flows().Has('Network', '10.0.0.1').Hops().Out().Count()", registry);
    assert.throws(() => parseGremlin('G.Flows().Hops(1)', registry), /at column 16 .*Hops\(\) takes no argument/);
  });

  it('after a step of dynamic output, the following steps are checked at run time', async () => {
    assert.equal(await run('G.Whatever().Out().Count()'), 8);
    await assert.rejects(run('G.Whatever().OutV()'), (err: unknown) => err instanceof GremlinSyntaxError && /OutV\(\) cannot follow nodes/.test(err.message));
  });

  it('registration errors are programming errors', () => {
    assert.throws(() => registry.defineStep({ name: 'has', on: {} }), /already defined/);
    assert.throws(() => registry.addHandler('Nope', 'flows', { output: SAME, exec: (v) => v }), /not defined/);
    assert.throws(() => registry.defineKind({ ...FLOWS, name: 'graph' }), /reserved/);
  });
});
