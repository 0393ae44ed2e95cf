import assert from 'node:assert/strict';
import { v5 as uuidv5 } from 'uuid';
import {
  edgeFromJSON,
  genID,
  getField,
  Graph,
  lookupPath,
  matchesMetadata,
  nodeFromJSON,
  type Edge,
  type GraphListener,
  type Node,
  type PartialOp,
} from '../../../src/graph/graph.js';

const T = 1_700_000_000_000;

function newGraph(): { g: Graph; clock: { t: number } } {
  const clock = { t: T };
  return { g: new Graph({ host: 'h1', origin: 'agent.h1', now: () => clock.t }), clock };
}

/** Records listener calls as readable strings. */
function recorder(g: Graph): string[] {
  const log: string[] = [];
  const l: GraphListener = {
    onNodeAdded: (n) => log.push(`node+ ${n.id}`),
    onNodeUpdated: (n, ops) => log.push(`node~ ${n.id} r${n.revision} ${fmtOps(ops)}`),
    onNodeDeleted: (n) => log.push(`node- ${n.id} @${n.deletedAt}`),
    onEdgeAdded: (e) => log.push(`edge+ ${e.metadata.RelationType} ${e.parent}->${e.child}`),
    onEdgeUpdated: (e, ops) => log.push(`edge~ ${e.id} ${fmtOps(ops)}`),
    onEdgeDeleted: (e) => log.push(`edge- ${e.metadata.RelationType} ${e.parent}->${e.child} @${e.deletedAt}`),
  };
  g.addListener(l);
  return log;
}

function fmtOps(ops: PartialOp[]): string {
  return ops.map((o) => (o.Type === 1 ? `set ${o.Key}=${JSON.stringify(o.Value)}` : `del ${o.Key}`)).join(',');
}

describe('graph engine', () => {
  describe('ids', () => {
    it('genID() is a random UUIDv4, genID(parts) a stable UUIDv5', () => {
      assert.match(genID(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.notEqual(genID(), genID());
      assert.match(genID('a', 'b'), /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-/);
      assert.equal(genID('a', 'b'), genID('a/b'));
      assert.notEqual(genID('a', 'b'), genID('b', 'a'));
      for (const name of ['a/b', 'host1', 'é/ü', '']) assert.equal(genID(name), uuidv5(name, '6ba7b812-9dad-11d1-80b4-00c04fd430c8'), name);
    });

    it('edge ids: UUIDv5 of parent+child by default, of parent+child+relation for topology links', () => {
      const { g } = newGraph();
      const a = g.newNode('a', { Name: 'a', Type: 'host' });
      const b = g.newNode('b', { Name: 'b', Type: 'netns' });
      assert.equal(g.newEdge(undefined, a, b, { RelationType: 'x' }).id, genID('ab'));
      assert.equal(g.link(a, b, 'layer2').id, genID('ablayer2'));
      assert.equal(g.ownershipLink(a, b).id, genID('abownership'));
    });
  });

  describe('nodes and revisions', () => {
    it('a new node has revision 1, creation times from the clock, and the element JSON shape', () => {
      const { g } = newGraph();
      const n = g.newNode('n1', { Name: 'eth0', Type: 'device' });
      assert.deepEqual(Object.keys(n.toJSON()), ['ID', 'Metadata', 'Host', 'Origin', 'CreatedAt', 'UpdatedAt', 'DeletedAt', 'Revision']);
      assert.deepEqual(n.toJSON(), {
        ID: 'n1',
        Metadata: { Name: 'eth0', Type: 'device' },
        Host: 'h1',
        Origin: 'agent.h1',
        CreatedAt: T,
        UpdatedAt: T,
        DeletedAt: null,
        Revision: 1,
      });
    });

    it('newNode with an existing id returns the existing node unchanged, without event', () => {
      const { g } = newGraph();
      const n = g.newNode('n1', { Name: 'a' });
      const log = recorder(g);
      assert.equal(g.newNode('n1', { Name: 'b' }), n);
      assert.equal(n.metadata.Name, 'a');
      assert.deepEqual(log, []);
      assert.equal(g.insertNode(nodeFromJSON({ ...n.toJSON() })), false);
    });

    it('each metadata change bumps Revision and UpdatedAt and emits the ops; no-op changes emit nothing', () => {
      const { g, clock } = newGraph();
      const n = g.newNode('n1', { Name: 'eth0', MTU: 1500 });
      const log = recorder(g);
      clock.t = T + 10;
      g.addMetadata(n, 'MTU', 9000);
      g.addMetadata(n, 'MTU', 9000);
      clock.t = T + 20;
      g.updateMetadata(n, { State: 'UP', MTU: undefined, Name: 'eth0' });
      g.delMetadata(n, 'State');
      g.delMetadata(n, 'State');
      g.setMetadata(n, { Name: 'eth1' });
      g.setMetadata(n, { Name: 'eth1' });
      assert.deepEqual(log, ['node~ n1 r2 set MTU=9000', 'node~ n1 r3 set State="UP",del MTU', 'node~ n1 r4 del State', 'node~ n1 r5 set Name="eth1"']);
      assert.equal(n.revision, 5);
      assert.equal(n.updatedAt, T + 20);
      assert.equal(n.createdAt, T);
    });

    it('remote updates apply only with a higher revision', () => {
      const { g } = newGraph();
      const n = g.newNode('n1', { Name: 'a' });
      g.addMetadata(n, 'x', 1);
      assert.equal(g.applyRemoteUpdate(n, { Name: 'old' }, 2, T + 5), false);
      assert.equal(g.applyRemoteUpdate(n, { Name: 'new' }, 3, T + 5), true);
      assert.deepEqual(n.metadata, { Name: 'new' });
      assert.equal(n.revision, 3);
      assert.equal(n.updatedAt, T + 5);
    });
  });

  describe('edges', () => {
    let g: Graph;
    let host: Node, ns: Node, veth: Node;
    beforeEach(() => {
      ({ g } = newGraph());
      host = g.newNode('host', { Name: 'h1', Type: 'host' });
      ns = g.newNode('ns', { Name: 'ns1', Type: 'netns' });
      veth = g.newNode('veth', { Name: 'eth0', Type: 'veth', IPV4: ['10.0.0.1/24'] });
      g.ownershipLink(host, ns);
      g.ownershipLink(ns, veth);
      g.link(host, veth, 'layer2', { Type: 'veth' });
    });

    it('indexes edges by parent and child', () => {
      assert.deepEqual([...g.outEdges(host)].map((e) => e.child).sort(), ['ns', 'veth']);
      assert.deepEqual([...g.inEdges('veth')].map((e) => e.parent).sort(), ['host', 'ns']);
      assert.equal([...g.nodeEdges(ns)].length, 2);
      assert.deepEqual(g.lookupChildren(host, {}, { RelationType: 'ownership' }).map((n) => n.id), ['ns']);
      assert.deepEqual(g.lookupParents(veth, { Type: 'host' }).map((n) => n.id), ['host']);
      assert.equal(g.findEdge('host', 'veth', { RelationType: 'layer2' })?.metadata.Type, 'veth');
      assert.equal(g.findEdge('veth', 'host'), undefined);
    });

    it('an edge needs both endpoints', () => {
      const e = edgeFromJSON({ ...g.link(host, ns, 'layer2').toJSON(), ID: 'e-x', Child: 'missing' });
      assert.equal(g.insertEdge(e), false);
      assert.equal(g.getEdge('e-x'), undefined);
    });

    it('edge JSON has Parent and Child after the element fields', () => {
      const e = g.findEdge('host', 'ns')!;
      assert.deepEqual(Object.keys(e.toJSON()), ['ID', 'Metadata', 'Host', 'Origin', 'CreatedAt', 'UpdatedAt', 'DeletedAt', 'Revision', 'Parent', 'Child']);
      assert.deepEqual(edgeFromJSON(e.toJSON()).toJSON(), e.toJSON());
    });

    it('a child has at most one ownership parent: a new one replaces the old, other relations stay', () => {
      const log = recorder(g);
      g.ownershipLink(host, veth);
      assert.deepEqual(log, ['edge- ownership ns->veth @' + T, 'edge+ ownership host->veth']);
      assert.deepEqual(g.lookupParents(veth, {}, { RelationType: 'ownership' }).map((n) => n.id), ['host']);
      assert.ok(g.findEdge('host', 'veth', { RelationType: 'layer2' }));
      // same parent again: nothing changes
      log.length = 0;
      g.ownershipLink(host, veth);
      assert.deepEqual(log, []);
    });

    it('unlink removes one relation', () => {
      g.unlink(host, veth, 'layer2');
      assert.equal(g.findEdge('host', 'veth', { RelationType: 'layer2' }), undefined);
      assert.equal(g.edgeCount, 2);
    });

    it('deleting a node first deletes its edges, with the same DeletedAt, and cleans the indexes', () => {
      const { g: g2, clock } = newGraph();
      const a = g2.newNode('a', { Name: 'a' });
      const b = g2.newNode('b', { Name: 'b' });
      const c = g2.newNode('c', { Name: 'c' });
      g2.ownershipLink(a, b);
      g2.link(b, c, 'layer2');
      const log = recorder(g2);
      clock.t = T + 100;
      g2.delNode(b);
      assert.deepEqual(log.slice(0, 2).sort(), [`edge- layer2 b->c @${T + 100}`, `edge- ownership a->b @${T + 100}`]);
      assert.equal(log[2], `node- b @${T + 100}`);
      assert.equal(g2.edgeCount, 0);
      assert.deepEqual([...g2.outEdges(a)], []);
      assert.deepEqual([...g2.inEdges(c)], []);
      assert.equal(g2.getNode('b'), undefined);
      assert.equal(b.toJSON().DeletedAt, T + 100);
      g2.delNode(b);
      assert.equal(log.length, 3);
    });

    it('delOwnedSubtree removes a node and what it owns', () => {
      g.delOwnedSubtree(ns);
      assert.deepEqual([...g.nodes()].map((n) => n.id), ['host']);
      assert.equal(g.edgeCount, 0);
    });
  });

  describe('origins', () => {
    it('delSubGraphOfOrigin removes the nodes and edges of an origin, and edges attached to its nodes', () => {
      const { g } = newGraph();
      const fabric = g.newNode('tor', { Name: 'tor1', Type: 'device' }, { origin: 'analyzer.a1' });
      const h1 = g.newNode('h1', { Name: 'h1', Type: 'host' }, { origin: 'agent.h1' });
      const eth1 = g.newNode('eth1', { Name: 'eth1' }, { origin: 'agent.h1' });
      const h2 = g.newNode('h2', { Name: 'h2', Type: 'host' }, { origin: 'agent.h2' });
      g.ownershipLink(h1, eth1);
      g.newEdge('fab', fabric, eth1, { RelationType: 'layer2', Type: 'fabric' }, { origin: 'analyzer.a1' });
      g.newEdge('cross', h2, h1, { RelationType: 'layer2' }, { origin: 'agent.h2' });
      const log = recorder(g);
      const removed = g.delSubGraphOfOrigin('agent.h1');
      assert.ok(removed >= 3);
      assert.deepEqual([...g.nodes()].map((n) => n.id).sort(), ['h2', 'tor']);
      assert.equal(g.edgeCount, 0);
      assert.ok(log.includes('node- h1 @' + T) && log.includes('node- eth1 @' + T));
      assert.equal(g.delSubGraphOfOrigin('agent.unknown'), 0);
    });
  });

  describe('fields and matching', () => {
    const { g } = newGraph();
    const n = g.newNode('n', {
      Name: 'eth0',
      IPV4: ['10.0.0.1/24', '10.0.1.1/24'],
      Ovs: { Options: { remote_ip: '10.0.0.2' } },
      Neighbors: [{ MAC: 'a', IP: '1' }, { MAC: 'b' }],
      'ExtID.flat': 'x',
    });

    it('getField: @ fields, Metadata. prefix, dotted paths, lists of maps, flat dotted keys', () => {
      assert.equal(getField(n, '@ID'), 'n');
      assert.equal(getField(n, '@Revision'), 1);
      assert.equal(getField(n, '@DeletedAt'), undefined);
      assert.equal(getField(n, '@Nope'), undefined);
      assert.equal(getField(n, 'Metadata.Name'), 'eth0');
      assert.equal(getField(n, 'Ovs.Options.remote_ip'), '10.0.0.2');
      assert.deepEqual(getField(n, 'Neighbors.MAC'), ['a', 'b']);
      assert.deepEqual(getField(n, 'Neighbors.IP'), ['1']);
      assert.equal(getField(n, 'Neighbors.Nope'), undefined);
      assert.equal(getField(n, 'ExtID.flat'), 'x');
      assert.deepEqual(lookupPath({ a: [{ b: [1, 2] }, { b: [3] }] }, 'a.b'), [1, 2, 3]);
      const e = g.newEdge('e', n, n, { RelationType: 'self' });
      assert.equal(getField(e as Edge, 'Parent'), 'n');
    });

    it('matchesMetadata: exact values, any element of a list, dotted paths', () => {
      assert.ok(matchesMetadata(n, { Name: 'eth0', IPV4: '10.0.1.1/24' }));
      assert.ok(matchesMetadata(n, { 'Ovs.Options.remote_ip': '10.0.0.2' }));
      assert.ok(!matchesMetadata(n, { Name: 'eth1' }));
      assert.ok(matchesMetadata(n, {}));
    });

    it('graph JSON lists nodes and edges', () => {
      const json = g.toJSON();
      assert.deepEqual(Object.keys(json), ['Nodes', 'Edges']);
      assert.equal(json.Nodes.length, g.nodeCount);
      assert.equal(json.Edges.length, g.edgeCount);
    });
  });
});
