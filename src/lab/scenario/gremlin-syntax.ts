import { GremlinSyntaxError, parseGremlin } from '../../gremlin/index.js';

/**
 * Steps only the analyzer's API serves (flows, metrics...: reference §2.4). The local parser knows the core
 * steps; when it stops at one of these, the query is well-formed up to there and the analyzer checks the rest.
 */
const ANALYZER_ONLY_STEPS = new Set(
  ['Flows', 'Hops', 'CaptureNode', 'Node', 'Nodes', 'Metrics', 'Aggregates', 'RawPackets', 'BPF', 'Sockets', 'NextHop', 'Group', 'MoreThan', 'Workflow'].map((s) =>
    s.toUpperCase(),
  ),
);

/** The syntax error of a scenario's Gremlin query (message and 1-based column in the query), if any. */
export function gremlinProblem(query: string): { message: string; column: number } | undefined {
  try {
    parseGremlin(query);
    return undefined;
  } catch (err) {
    if (!(err instanceof GremlinSyntaxError)) throw err;
    if (ANALYZER_ONLY_STEPS.has(err.near.toUpperCase())) return undefined;
    return { message: err.message, column: err.column };
  }
}
