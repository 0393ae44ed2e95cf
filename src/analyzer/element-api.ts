import type { FastifyInstance } from 'fastify';
import { Edge, Node, genID, type EdgeJSON, type Graph, type Metadata, type NodeJSON } from '../graph/graph.js';
import { UsageError } from '../common/errors.js';
import { conflict, notFound } from '../common/http-server.js';

/**
 * /api/node and /api/edge: create, list, get and delete live graph elements (the original's node/edge
 * resources). Bodies follow the original's schemas (node: Metadata.Type and Metadata.Name, netns needs Path,
 * ovsport needs UUID; edge: Parent, Child, Metadata.RelationType); the ID is generated when absent, Origin
 * defaults to `api.<analyzer host>`, times to now. A duplicate ID is a 409.
 */
const ELEMENT_FIELDS = {
  ID: { type: 'string', minLength: 1 },
  Host: { type: 'string' },
  Origin: { type: 'string' },
  CreatedAt: { type: 'integer', minimum: 0 },
  UpdatedAt: { type: 'integer', minimum: 0 },
  DeletedAt: { type: ['integer', 'null'] },
  Revision: { type: 'integer', minimum: 0 },
} as const;

const NODE_SCHEMA = {
  type: 'object',
  required: ['Metadata'],
  properties: {
    ...ELEMENT_FIELDS,
    Metadata: {
      type: 'object',
      required: ['Type', 'Name'],
      properties: { Type: { type: 'string', minLength: 1 }, Name: { type: 'string', minLength: 1 } },
      allOf: [
        { if: { properties: { Type: { const: 'netns' } } }, then: { required: ['Path'] } },
        { if: { properties: { Type: { const: 'ovsport' } } }, then: { required: ['UUID'] } },
      ],
    },
  },
} as const;

const EDGE_SCHEMA = {
  type: 'object',
  required: ['Parent', 'Child', 'Metadata'],
  properties: {
    ...ELEMENT_FIELDS,
    Parent: { type: 'string', minLength: 1 },
    Child: { type: 'string', minLength: 1 },
    Metadata: {
      type: 'object',
      required: ['RelationType'],
      properties: { RelationType: { type: 'string', minLength: 1 } },
    },
  },
} as const;

const ID_PARAMS = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1 } } } as const;

export function registerElementRoutes(app: FastifyInstance, graph: Graph, apiOrigin: string): void {
  app.get('/api/node', async () => Object.fromEntries([...graph.nodes()].map((n) => [n.id, n.toJSON()])));
  app.get<{ Params: { id: string } }>('/api/node/:id', { schema: { params: ID_PARAMS } }, async (req) => {
    const n = graph.getNode(req.params.id);
    if (!n) throw notFound('SKYDIVE_API_NODE_NOT_FOUND', `node ${req.params.id} not found`);
    return n.toJSON();
  });
  app.post<{ Body: Partial<NodeJSON> & { Metadata: Metadata } }>('/api/node', { schema: { body: NODE_SCHEMA } }, async (req, reply) => {
    const b = req.body;
    const id = b.ID ?? genID();
    if (graph.getNode(id)) throw conflict('SKYDIVE_API_DUPLICATE', `node ${id} already exists`);
    const now = Date.now();
    const n = new Node(id, b.Metadata, b.Host || graph.host, b.Origin || apiOrigin, b.CreatedAt || now, b.UpdatedAt || now);
    if (b.Revision) n.revision = b.Revision;
    graph.insertNode(n);
    return reply.status(201).send(n.toJSON());
  });
  app.delete<{ Params: { id: string } }>('/api/node/:id', { schema: { params: ID_PARAMS } }, async (req) => {
    const n = graph.getNode(req.params.id);
    if (!n) throw notFound('SKYDIVE_API_NODE_NOT_FOUND', `node ${req.params.id} not found`);
    graph.delNode(n);
    return n.toJSON();
  });

  app.get('/api/edge', async () => Object.fromEntries([...graph.edges()].map((e) => [e.id, e.toJSON()])));
  app.get<{ Params: { id: string } }>('/api/edge/:id', { schema: { params: ID_PARAMS } }, async (req) => {
    const e = graph.getEdge(req.params.id);
    if (!e) throw notFound('SKYDIVE_API_EDGE_NOT_FOUND', `edge ${req.params.id} not found`);
    return e.toJSON();
  });
  app.post<{ Body: Partial<EdgeJSON> & { Parent: string; Child: string; Metadata: Metadata } }>('/api/edge', { schema: { body: EDGE_SCHEMA } }, async (req, reply) => {
    const b = req.body;
    for (const [role, nodeID] of [['Parent', b.Parent], ['Child', b.Child]] as const) {
      if (!graph.getNode(nodeID)) throw new UsageError('SKYDIVE_API_UNKNOWN_NODE', `edge ${role} node ${nodeID} does not exist`);
    }
    const id = b.ID ?? genID(b.Parent + b.Child + String(b.Metadata.RelationType));
    if (graph.getEdge(id)) throw conflict('SKYDIVE_API_DUPLICATE', `edge ${id} already exists`);
    const now = Date.now();
    const e = new Edge(id, b.Parent, b.Child, b.Metadata, b.Host || graph.host, b.Origin || apiOrigin, b.CreatedAt || now, b.UpdatedAt || now);
    if (b.Revision) e.revision = b.Revision;
    graph.insertEdge(e);
    return reply.status(201).send(e.toJSON());
  });
  app.delete<{ Params: { id: string } }>('/api/edge/:id', { schema: { params: ID_PARAMS } }, async (req) => {
    const e = graph.getEdge(req.params.id);
    if (!e) throw notFound('SKYDIVE_API_EDGE_NOT_FOUND', `edge ${req.params.id} not found`);
    graph.delEdge(e);
    return e.toJSON();
  });
}
