import type { Edge, Node } from '../../graph/graph.js';
import type { GremlinArg } from '../ast.js';
import { edges, EDGES, elementField, nodes, NODES } from '../elements.js';
import { GremlinArgumentError } from '../errors.js';
import { compileKeyValues, compileMetadata, equalsFilter, type Filter } from '../predicates.js';
import { PATHS, type CollectionValue, type StepRegistry } from '../registry.js';
import type { TopologyView } from '../view.js';
import { nonNegativeInt, optionalFilter } from './args.js';

/**
 * Moving along edges: Out/In/Both (nodes → nodes), OutE/InE/BothE (nodes → edges), OutV/InV/BothV (edges → nodes;
 * OutV is the Child and InV the Parent, as in the original), ShortestPathTo, and Skydive's Descendants, Ascendants
 * and Neighbors.
 */

type Direction = 'out' | 'in' | 'both';

export function registerNavigationSteps(r: StepRegistry): void {
  const nodeStep = (name: string, dir: Direction) =>
    r.defineStep<Filter | undefined>({
      name,
      compile: (args) => optionalFilter(args, name),
      on: {
        [NODES.name]: {
          output: NODES.name,
          exec: (input, { args, state }) => nodes(adjacentNodes(state.view, (input as CollectionValue<Node>).items, dir, args)),
        },
      },
    });
  nodeStep('Out', 'out');
  nodeStep('In', 'in');
  nodeStep('Both', 'both');

  const edgeStep = (name: string, dir: Direction) =>
    r.defineStep<Filter | undefined>({
      name,
      compile: (args) => optionalFilter(args, name),
      on: {
        [NODES.name]: {
          output: EDGES.name,
          exec: (input, { args, state }) => edges(adjacentEdges(state.view, (input as CollectionValue<Node>).items, dir, args)),
        },
      },
    });
  edgeStep('OutE', 'out');
  edgeStep('InE', 'in');
  edgeStep('BothE', 'both');

  const endpointStep = (name: string, ends: ('parent' | 'child')[]) =>
    r.defineStep<Filter | undefined>({
      name,
      compile: (args) => optionalFilter(args, name),
      on: {
        [EDGES.name]: {
          output: NODES.name,
          exec(input, { args, state }) {
            const out: Node[] = [];
            for (const e of (input as CollectionValue<Edge>).items) {
              for (const end of ends) {
                for (const n of state.view.nodesByID(end === 'parent' ? e.parent : e.child)) {
                  if (!args || args.match(n, elementField)) out.push(n);
                }
              }
            }
            return nodes(out);
          },
        },
      },
    });
  endpointStep('OutV', ['child']);
  endpointStep('InV', ['parent']);
  endpointStep('BothV', ['parent', 'child']);

  r.defineStep<{ target: Filter; edgeFilter?: Filter }>({
    name: 'ShortestPathTo',
    compile(args) {
      if (args.length < 1 || args.length > 2) {
        throw new GremlinArgumentError(
          `ShortestPathTo() expects Metadata(...) of the target and optionally Metadata(...) of the edges to follow, e.g. ShortestPathTo(Metadata('Name', 'eth0'), Metadata('RelationType', 'layer2')), got ${args.length} arguments`,
          args[2],
        );
      }
      return {
        target: compileMetadata(args[0], 'ShortestPathTo()', 'the target node'),
        edgeFilter: args[1] ? compileMetadata(args[1], 'ShortestPathTo()', 'the edge filter') : undefined,
      };
    },
    on: {
      [NODES.name]: {
        output: PATHS,
        exec(input, { args, state }) {
          const paths: Node[][] = [];
          const sources = (input as CollectionValue<Node>).items;
          const targets = sources.length ? targetIDs(state.view, args.target) : new Set<string>();
          const done = new Set<string>();
          for (const n of sources) {
            if (done.has(n.id) || !targets.size) continue;
            done.add(n.id);
            const p = shortestPath(state.view, n, targets, args.edgeFilter);
            if (p) paths.push(p);
          }
          return { type: 'paths', paths };
        },
      },
    },
  });

  const walkStep = (name: string, dir: Direction) =>
    r.defineStep<Walk>({
      name,
      compile: (args) => compileWalk(args, name),
      on: {
        [NODES.name]: {
          output: NODES.name,
          exec: (input, { args, state }) => nodes(walk(state.view, (input as CollectionValue<Node>).items, dir, args)),
        },
      },
    });
  walkStep('Descendants', 'out');
  walkStep('Ascendants', 'in');
  walkStep('Neighbors', 'both');
}

/**
 * Each neighbour once per starting node: an ovsbridge owns AND layer2-links its ports, and the original listing
 * the port once per edge made `Out().Out()` return every interface twice.
 */
function adjacentNodes(view: TopologyView, from: Node[], dir: Direction, filter: Filter | undefined): Node[] {
  const out: Node[] = [];
  const seen = new Set<Node>();
  const visit = (id: string) => {
    if (!view.multiRevision) {
      const c = view.nodeByID(id);
      if (c) pushMatching(out, seen, c, filter);
    } else for (const c of view.nodesByID(id)) pushMatching(out, seen, c, filter);
  };
  for (const n of from) {
    seen.clear();
    if (dir !== 'in') for (const e of view.outEdges(n.id)) visit(e.child);
    if (dir !== 'out') for (const e of view.inEdges(n.id)) visit(e.parent);
  }
  return out;
}

function pushMatching(out: Node[], seen: Set<Node>, c: Node, filter: Filter | undefined): void {
  if (seen.has(c) || (filter && !filter.match(c, elementField))) return;
  seen.add(c);
  out.push(c);
}

function adjacentEdges(view: TopologyView, from: Node[], dir: Direction, filter: Filter | undefined): Edge[] {
  const out: Edge[] = [];
  for (const n of from) {
    if (dir !== 'in') for (const e of view.outEdges(n.id)) if (!filter || filter.match(e, elementField)) out.push(e);
    if (dir !== 'out') for (const e of view.inEdges(n.id)) if (!filter || filter.match(e, elementField)) out.push(e);
  }
  return out;
}

/**
 * Breadth-first search over edges in both directions (unit weights: the original's Dijkstra) to the nearest of the
 * target nodes; the path goes from the source to the target, [source] if the source itself is one.
 */
export function shortestPath(view: TopologyView, source: Node, targets: ReadonlySet<string>, edgeFilter: Filter | undefined): Node[] | undefined {
  if (targets.has(source.id)) return [source];
  const prev = new Map<string, string>([[source.id, '']]);
  let frontier = [source.id];
  while (frontier.length) {
    const next: string[] = [];
    for (const id of frontier) {
      for (const e of view.outEdges(id)) {
        if (step(e.child, id, e)) return pathTo(view, prev, e.child);
      }
      for (const e of view.inEdges(id)) {
        if (step(e.parent, id, e)) return pathTo(view, prev, e.parent);
      }
    }
    frontier = next;

    /** Visit `other` from `from`; true when it is a target. */
    function step(other: string, from: string, e: Edge): boolean {
      if (prev.has(other) || (edgeFilter && !edgeFilter.match(e, elementField))) return false;
      prev.set(other, from);
      if (targets.has(other)) return true;
      next.push(other);
      return false;
    }
  }
  return undefined;
}

/** IDs of the nodes matching the target filter: one scan, then the searches only compare IDs. */
function targetIDs(view: TopologyView, target: Filter): Set<string> {
  const ids = new Set<string>();
  for (const n of view.nodes()) if (target.match(n, elementField)) ids.add(n.id);
  return ids;
}

function pathTo(view: TopologyView, prev: Map<string, string>, last: string): Node[] {
  const ids: string[] = [];
  for (let id = last; id !== ''; id = prev.get(id)!) ids.push(id);
  return ids.reverse().map((id) => view.nodeByID(id)!);
}

interface Walk {
  edgeFilter: Filter;
  /** 0 = unlimited. */
  depth: number;
}

/** `[k, v, ...][, depth]`: the pairs are OR'ed into the edge filter (default RelationType ownership), depth default 1. */
function compileWalk(args: readonly GremlinArg[], step: string): Walk {
  const pairs = args.length - (args.length % 2);
  const depth = args.length % 2 === 1 ? nonNegativeInt(args[args.length - 1], step, 'the depth (last argument, 0 = unlimited)') : 1;
  const edgeFilter = pairs ? compileKeyValues(args.slice(0, pairs), 'or', `${step}()`, false) : equalsFilter('RelationType', 'ownership');
  return { edgeFilter, depth };
}

/** The start nodes, then level by level the nodes reached through matching edges, each once. */
function walk(view: TopologyView, start: Node[], dir: Direction, w: Walk): Node[] {
  const seen = new Set<string>();
  const out: Node[] = [];
  let level: Node[] = [];
  for (const n of start) {
    if (seen.has(n.id)) continue;
    seen.add(n.id);
    out.push(n);
    level.push(n);
  }
  for (let d = 0; level.length && (w.depth === 0 || d < w.depth); d++) {
    const next: Node[] = [];
    for (const n of level) {
      for (const e of adjacentEdges(view, [n], dir, w.edgeFilter)) {
        const other = e.parent === n.id ? e.child : e.parent;
        if (seen.has(other)) continue;
        seen.add(other);
        const found = view.nodesByID(other);
        out.push(...found);
        if (found.length) next.push(found[0]);
      }
    }
    level = next;
  }
  return out;
}
