import type { FastifyInstance } from 'fastify';
import type { Graph } from '../graph/graph.js';
import { executeGremlin, resultGraph, resultToJSON, type GremlinContext } from '../gremlin/index.js';
import { SkydiveError } from './errors.js';
import { graphToDot } from './dot.js';

/**
 * GET/POST /api/topology, shared by the analyzer (Skydive Gremlin extensions available through the context) and
 * the agent (core steps on its own graph). POST `{"GremlinQuery": "..."}` answers the result JSON, 204 for an
 * empty query, DOT when the client accepts `text/vnd.graphviz` and the result is a graph.
 */
export interface TopologyQuerySource {
  readonly graph: Graph;
  gremlinContext(): GremlinContext;
}

const QUERY_BODY = {
  type: 'object',
  properties: { GremlinQuery: { type: 'string' } },
} as const;

export function registerTopologyRoutes(app: FastifyInstance, source: TopologyQuerySource): void {
  app.get('/api/topology', async (req, reply) => {
    const g = source.graph.toJSON();
    if (wantsDot(req.headers.accept)) return reply.type('text/vnd.graphviz').send(graphToDot(g));
    return g;
  });

  app.post<{ Body: { GremlinQuery?: string } }>('/api/topology', { schema: { body: QUERY_BODY } }, async (req, reply) => {
    const query = (req.body?.GremlinQuery ?? '').trim();
    if (query === '') return reply.status(204).send();
    const result = await executeGremlin(query, source.gremlinContext());
    if (wantsDot(req.headers.accept)) {
      const g = resultGraph(result);
      if (!g) throw new SkydiveError('SKYDIVE_API_NOT_ACCEPTABLE', 'only graph results (G, SubGraph()) can be rendered as DOT', 406);
      return reply.type('text/vnd.graphviz').send(graphToDot(g.toJSON()));
    }
    return reply.type('application/json').send(JSON.stringify(resultToJSON(result)));
  });
}

function wantsDot(accept: string | undefined): boolean {
  return !!accept && accept.includes('vnd.graphviz');
}
