import assert from 'node:assert/strict';
import type { Graph } from '../../../src/graph/graph.js';
import { executeGremlin, GremlinSyntaxError, parseGremlin, resultToJSON, type GremlinContext } from '../../../src/gremlin/index.js';

/** Run a query and return its reference JSON. */
export async function query(graph: Graph, q: string, ctx: Partial<GremlinContext> = {}): Promise<unknown> {
  return resultToJSON(await executeGremlin(q, { graph, ...ctx }));
}

/** Names of the nodes/edges of a V/E result, in result order. */
export async function names(graph: Graph, q: string, ctx: Partial<GremlinContext> = {}): Promise<string[]> {
  const json = (await query(graph, q, ctx)) as { Metadata: { Name?: string } }[];
  return json.map((el) => el.Metadata.Name ?? '?');
}

export async function sortedNames(graph: Graph, q: string, ctx: Partial<GremlinContext> = {}): Promise<string[]> {
  return (await names(graph, q, ctx)).sort();
}

/** Assert a query is rejected at parse time with a message containing each fragment. */
export function assertSyntaxError(q: string, ...fragments: (string | RegExp)[]): GremlinSyntaxError {
  let caught: unknown;
  try {
    parseGremlin(q);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof GremlinSyntaxError, `expected a GremlinSyntaxError for ${q}, got ${String(caught)}`);
  for (const f of fragments) {
    if (typeof f === 'string') assert.ok(caught.message.includes(f), `message of ${q} lacks "${f}": ${caught.message}`);
    else assert.match(caught.message, f);
  }
  return caught;
}
