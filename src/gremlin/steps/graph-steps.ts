import { Graph, type Edge, type Node } from '../../graph/graph.js';
import type { GremlinArg } from '../ast.js';
import { edges, EDGES, elementField, nodes, NODES } from '../elements.js';
import { GremlinArgumentError, GremlinError } from '../errors.js';
import { parseDurationArg, parseTimeArg, resolveTime, type DurationSpec, type TimeSpec } from '../history.js';
import { compileKeyValues, type Filter } from '../predicates.js';
import { GRAPH, PATHS, type CollectionValue, type GraphValue, type PathsValue, type StepRegistry } from '../registry.js';
import { GraphView, RevisionsView, type TopologyView } from '../view.js';
import { optionalFilter } from './args.js';

/** Steps on the graph itself: V, E, Context/At, and SubGraph which makes a new graph. */

interface Lookup {
  id?: string;
  filter?: Filter;
}

function compileLookup(step: string) {
  return (args: readonly GremlinArg[]): Lookup => {
    if (args.length === 0) return {};
    if (args.length === 1) {
      const a = args[0];
      if (a.type !== 'string') throw new GremlinArgumentError(`${step}() with one argument looks up an ID (a quoted string), got ${a.text}`, a);
      return { id: a.value };
    }
    return { filter: compileKeyValues(args, 'and', `${step}()`) };
  };
}

interface ContextArgs {
  time: TimeSpec;
  duration?: DurationSpec;
}

function compileContext(args: readonly GremlinArg[]): ContextArgs {
  if (args.length === 0 || args.length > 2) {
    throw new GremlinArgumentError(
      `Context() expects a time and an optional duration, e.g. Context('-5m') or Context(NOW, '1h'), got ${args.length} arguments`,
      args[2],
    );
  }
  return { time: parseTimeArg(args[0]), duration: args[1] ? parseDurationArg(args[1]) : undefined };
}

export function registerGraphSteps(r: StepRegistry): void {
  r.defineStep<Lookup>({
    name: 'V',
    compile: compileLookup('V'),
    on: {
      [GRAPH]: {
        output: NODES.name,
        exec(input, { args, following, skip }) {
          const view = (input as GraphValue).view;
          if (args.id !== undefined) {
            const found = view.nodesByID(args.id);
            if (!found.length) {
              throw new GremlinError(
                `node '${args.id}' does not exist (V('id') looks a node up by ID; use V().Has('Name', '${args.id}') to find it by name)`,
                'SKYDIVE_GREMLIN_NOT_FOUND',
              );
            }
            return nodes([...found]);
          }
          // V().Has(...).Has(...) in one pass over the graph, as the original folds Has into V
          const filters = args.filter ? [args.filter] : [];
          let folded = 0;
          while (following[folded]?.name === 'Has' && following[folded].args.length) {
            filters.push(compileKeyValues(following[folded].args, 'and', 'Has()'));
            folded++;
          }
          skip(folded);
          const out: Node[] = [];
          for (const n of view.nodes()) if (matchesAll(filters, n)) out.push(n);
          return nodes(out);
        },
      },
    },
  });

  r.defineStep<Lookup>({
    name: 'E',
    compile: compileLookup('E'),
    on: {
      [GRAPH]: {
        output: EDGES.name,
        exec(input, { args }) {
          const view = (input as GraphValue).view;
          if (args.id !== undefined) {
            const found = view.edgesByID(args.id);
            if (!found.length) throw new GremlinError(`edge '${args.id}' does not exist`, 'SKYDIVE_GREMLIN_NOT_FOUND');
            return edges([...found]);
          }
          const out: Edge[] = [];
          const f = args.filter;
          for (const e of view.edges()) if (!f || f.match(e, elementField)) out.push(e);
          return edges(out);
        },
      },
    },
  });

  r.defineStep<ContextArgs>({
    name: 'Context',
    aliases: ['At'],
    compile: compileContext,
    on: {
      [GRAPH]: {
        output: GRAPH,
        async exec(input, { args, state }) {
          const history = state.ctx.history;
          if (!history) {
            throw new GremlinError(
              'history is not available: Context()/At() read the topology history, which the in-memory topology backend does not keep; configure a storage backend with history (analyzer.topology.backend naming a storage.<name> entry whose driver is elasticsearch)',
              'SKYDIVE_GREMLIN_NO_HISTORY',
            );
          }
          const now = state.now();
          const last = resolveTime(args.time, now);
          let view: TopologyView;
          if (!args.duration) {
            view = new GraphView(await history.graphAt(last));
            state.time = { slice: { start: last, last }, point: true };
          } else {
            const start = args.duration.kind === 'forever' ? 0 : last - args.duration.ms;
            view = new RevisionsView(await history.revisions({ start, last }), (input as GraphValue).view.host);
            state.time = { slice: { start, last }, point: false };
          }
          state.view = view;
          return { type: 'graph', view };
        },
      },
    },
  });

  const subGraph = {
    output: GRAPH,
    compile: (args: readonly GremlinArg[]) => optionalFilter(args, 'SubGraph'),
  };
  r.defineStep<Filter | undefined>({
    name: 'SubGraph',
    on: {
      [NODES.name]: {
        ...subGraph,
        exec(input, { args, state }) {
          return graphValue(state, subGraphOfNodes(state.view, (input as CollectionValue<Node>).items, args));
        },
      },
      [PATHS]: {
        ...subGraph,
        exec(input, { args, state }) {
          return graphValue(state, subGraphOfNodes(state.view, (input as PathsValue).paths.flat(), args));
        },
      },
      [EDGES.name]: {
        ...subGraph,
        exec(input, { args, state }) {
          const g = newResultGraph(state.view);
          const kept = (input as CollectionValue<Edge>).items.filter((e) => !args || args.match(e, elementField));
          for (const e of kept) {
            for (const id of [e.parent, e.child]) {
              const n = state.view.nodesByID(id)[0];
              if (n) g.insertNode(n);
            }
            g.insertEdge(e);
          }
          return graphValue(state, g);
        },
      },
    },
  });
}

function matchesAll(filters: Filter[], n: Node): boolean {
  for (let i = 0; i < filters.length; i++) if (!filters[i].match(n, elementField)) return false;
  return true;
}

function newResultGraph(view: TopologyView): Graph {
  return new Graph({ host: view.host, origin: 'GremlinTraversal' });
}

/** The nodes and the edges between them (optionally only edges matching the filter). */
function subGraphOfNodes(view: TopologyView, list: Node[], edgeFilter: Filter | undefined): Graph {
  const g = newResultGraph(view);
  for (const n of list) g.insertNode(n);
  for (const n of list) {
    for (const e of view.outEdges(n.id)) {
      if (g.getNode(e.child) && (!edgeFilter || edgeFilter.match(e, elementField))) g.insertEdge(e);
    }
  }
  return g;
}

/** Following V()/E() steps run on the new graph, as in the original. */
function graphValue(state: { view: TopologyView }, g: Graph): GraphValue {
  state.view = new GraphView(g);
  return { type: 'graph', view: state.view };
}
