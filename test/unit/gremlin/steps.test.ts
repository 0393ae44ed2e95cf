import assert from 'node:assert/strict';
import { executeGremlin, GremlinError, GremlinSyntaxError } from '../../../src/gremlin/index.js';
import { buildAgentGraph, T0, type AgentGraph } from './agent-graph.js';
import { names, query, sortedNames } from './helpers.js';

describe('gremlin steps on the canonical agent graph', () => {
  let a: AgentGraph;
  beforeEach(() => {
    a = buildAgentGraph();
  });

  it('the seed query: interfaces behind OVS ports, except br-int', async () => {
    const q = "G.V().Has('Type','ovsbridge').Out().Out().Has('Name', Without('br-int'))";
    assert.deepEqual(await sortedNames(a.g, q), ['gre-1', 'patch-int', 'patch-int', 'patch-tun', 'vm1-eth0', 'vxlan-1']);
    assert.deepEqual(await sortedNames(a.g, q + '.Dedup()'), ['gre-1', 'patch-int', 'patch-tun', 'vm1-eth0', 'vxlan-1']);
    assert.deepEqual(await names(a.g, "G.V().Has('Type','ovsbridge').Has('Name', Without('br-int'))"), ['br-tun']);
  });

  it('is case-insensitive for steps, predicates and keywords (not for keys)', async () => {
    assert.equal(await query(a.g, "g.v().has('Type','host').out().count()"), 8);
    assert.deepEqual(await names(a.g, "G.V().HAS('Type', WITHIN('bridge')).SORT(desc)"), ['br0']);
    assert.equal(await query(a.g, "G.V().Has('type','host').Count()"), 0);
  });

  describe('V and E', () => {
    it('V() lists every node, V(id) one node, V(k, v...) filters', async () => {
      assert.equal(await query(a.g, 'G.V().Count()'), 19);
      assert.deepEqual(await names(a.g, "G.V('veth-eth0')"), ['eth0']);
      assert.deepEqual(await sortedNames(a.g, "G.V('Type', 'veth', 'State', 'UP')"), ['eth0', 'vm1-eth0']);
    });

    it('V(unknown id) is a not-found GremlinError', async () => {
      await assert.rejects(executeGremlin("G.V('nope')", { graph: a.g }), (err: unknown) => {
        assert.ok(err instanceof GremlinError);
        assert.equal(err.code, 'SKYDIVE_GREMLIN_NOT_FOUND');
        assert.equal(err.statusCode, 400);
        assert.match(err.message, /node 'nope' does not exist/);
        return true;
      });
      await assert.rejects(executeGremlin("G.E('nope')", { graph: a.g }), /edge 'nope' does not exist/);
    });

    it('E() lists edges, E(id) one edge, E(k, v) filters', async () => {
      assert.equal(await query(a.g, 'G.E().Count()'), 31);
      assert.equal(await query(a.g, "G.E('RelationType', 'layer2').Count()"), 13);
      assert.equal(await query(a.g, "G.E().Has('RelationType', 'ownership').Count()"), 18);
      const edge = [...a.g.outEdges(a.n['vm1-eth0'])][0];
      const json = (await query(a.g, `G.E('${edge.id}')`)) as { Parent: string; Child: string }[];
      assert.deepEqual([json[0].Parent, json[0].Child], ['veth-vm1-eth0', 'veth-eth0']);
      assert.equal(await query(a.g, "G.E().Has('Parent', 'host-id').Count()"), 8);
    });
  });

  describe('filters', () => {
    it('Has(k) (key exists), Has(k, v, k2, v2) (all), HasKey, HasNot', async () => {
      assert.deepEqual(await sortedNames(a.g, "G.V().Has('IPV4')"), ['eth0', 'eth1', 'lo']);
      assert.deepEqual(await sortedNames(a.g, "G.V().Has('Type', 'veth', 'Name', 'eth0')"), ['eth0']);
      assert.deepEqual(await sortedNames(a.g, "G.V().HasKey('PeerIfIndex')"), ['eth0', 'vm1-eth0']);
      assert.deepEqual(await names(a.g, "G.V().Has('Type', 'device').HasNot('Speed')"), ['lo']);
    });

    it('HasEither (any of the pairs)', async () => {
      assert.deepEqual(await sortedNames(a.g, "G.V().HasEither('Type', 'bridge', 'Type', 'tun')"), ['br0', 'tap0']);
      assert.deepEqual(await sortedNames(a.g, "G.V().HasEither('MTU', Gt(9000), 'Type', 'tun')"), ['lo', 'tap0']);
    });

    it('on edges, and on element fields (@ID, @CreatedAt)', async () => {
      assert.equal(await query(a.g, "G.E().Has('Type', 'veth').Count()"), 1);
      assert.deepEqual(await names(a.g, "G.V().Has('@ID', 'dev-lo')"), ['lo']);
      assert.deepEqual(await names(a.g, `G.V().Has('@CreatedAt', Lt(${T0 + 2}))`), ['agent1', 'vm1']);
    });
  });

  describe('navigation', () => {
    it('Out, In, Both with optional filters on the target nodes', async () => {
      assert.deepEqual(await sortedNames(a.g, "G.V().Has('Type', 'host').Out()"), ['br-int', 'br-tun', 'br0', 'eth1', 'lo', 'tap0', 'vm1', 'vm1-eth0']);
      assert.deepEqual(await sortedNames(a.g, "G.V().Has('Name', 'br-tun').Out('Type', 'ovsport')"), ['gre-1', 'patch-int', 'vxlan-1']);
      assert.deepEqual(await sortedNames(a.g, "G.V('veth-eth0').In()"), ['vm1', 'vm1-eth0']);
      assert.deepEqual(await sortedNames(a.g, "G.V('veth-vm1-eth0').Both()"), ['agent1', 'eth0', 'vm1-eth0']);
    });

    it('lists a neighbour once per node even when ownership and layer2 edges both link them', async () => {
      assert.deepEqual(await sortedNames(a.g, "G.V().Has('Name', 'br-int').Out('Type', 'ovsport')"), ['patch-tun', 'vm1-eth0']);
      // two starting nodes sharing a neighbour still give it twice (use Dedup)
      assert.equal(await query(a.g, "G.V().Has('Type', 'ovsbridge').In().Count()"), 2);
    });

    it('OutE, InE, BothE with optional edge filters', async () => {
      assert.equal(await query(a.g, "G.V().Has('Name', 'br-int').OutE().Count()"), 5);
      assert.equal(await query(a.g, "G.V().Has('Name', 'br-int').OutE('RelationType', 'layer2').Count()"), 2);
      assert.equal(await query(a.g, "G.V('veth-vm1-eth0').InE().Count()"), 2);
      assert.equal(await query(a.g, "G.V('veth-vm1-eth0').BothE().Count()"), 3);
    });

    it('OutV is the Child, InV the Parent (inverse of TinkerPop), BothV both', async () => {
      const base = "G.V().Has('Name', 'br-int').OutE('RelationType', 'layer2')";
      assert.deepEqual(await sortedNames(a.g, `${base}.OutV()`), ['patch-tun', 'vm1-eth0']);
      assert.deepEqual(await names(a.g, `${base}.InV()`), ['br-int', 'br-int']);
      assert.equal(await query(a.g, `${base}.BothV().Count()`), 4);
      assert.deepEqual(await names(a.g, `${base}.OutV('Name', 'patch-tun')`), ['patch-tun']);
    });

    it('follows a veth to its peer', async () => {
      assert.deepEqual(await names(a.g, "G.V().Has('Name', 'eth0').BothE('Type', 'veth').BothV().Has('Name', Ne('eth0'))"), ['vm1-eth0']);
    });

    it('finds the interfaces of a namespace', async () => {
      assert.deepEqual(await names(a.g, "G.V().Has('Type', 'netns', 'Name', 'vm1').Out()"), ['eth0']);
    });

    it('ShortestPathTo follows any edge by default, only matching edges when given', async () => {
      const path = (await query(a.g, "G.V().Has('Name', 'eth0').ShortestPathTo(Metadata('Name', 'gre-1'))")) as { Metadata: { Name: string } }[][];
      assert.equal(path.length, 1);
      assert.deepEqual(
        path[0].map((n) => n.Metadata.Name),
        ['eth0', 'vm1', 'agent1', 'br-tun', 'gre-1'],
      );
      const l2 = (await query(
        a.g,
        "G.V().Has('Name', 'eth0').ShortestPathTo(Metadata('Name', 'gre-1', 'Type', 'gre'), Metadata('RelationType', 'layer2'))",
      )) as { Metadata: { Name: string; Type: string } }[][];
      assert.deepEqual(
        l2[0].map((n) => `${n.Metadata.Type}:${n.Metadata.Name}`),
        [
          'veth:eth0',
          'veth:vm1-eth0',
          'ovsport:vm1-eth0',
          'ovsbridge:br-int',
          'ovsport:patch-tun',
          'patch:patch-tun',
          'patch:patch-int',
          'ovsport:patch-int',
          'ovsbridge:br-tun',
          'ovsport:gre-1',
          'gre:gre-1',
        ],
      );
    });

    it('ShortestPathTo: no path gives no entry; a matching source gives [source]', async () => {
      assert.deepEqual(await query(a.g, "G.V().Has('Name', 'eth0').ShortestPathTo(Metadata('Name', 'nope'))"), []);
      const self = (await query(a.g, "G.V().Has('Name', 'eth0').ShortestPathTo(Metadata('Type', 'veth'))")) as unknown[][];
      assert.equal(self[0].length, 1);
      // the layer2 graph does not reach the host
      assert.deepEqual(await query(a.g, "G.V('veth-eth0').ShortestPathTo(Metadata('Type', 'host'), Metadata('RelationType', 'layer2'))"), []);
    });

    it('Descendants: ownership by default, depth 1 by default, 0 = unlimited, start nodes included', async () => {
      assert.deepEqual(await sortedNames(a.g, "G.V().Has('Name', 'br-tun').Descendants()"), ['br-tun', 'gre-1', 'gre-1', 'patch-int', 'patch-int', 'vxlan-1', 'vxlan-1']);
      assert.equal(await query(a.g, "G.V().Has('Type', 'host').Descendants().Count()"), 9);
      assert.equal(await query(a.g, "G.V().Has('Type', 'host').Descendants(0).Count()"), 19);
      assert.deepEqual(
        await sortedNames(a.g, "G.V().Has('Name', 'br-int').Descendants('RelationType', 'layer2', 0)"),
        ['br-int', 'eth0', 'patch-int', 'patch-tun', 'patch-tun', 'vm1-eth0', 'vm1-eth0'],
      );
    });

    it('Ascendants and Neighbors', async () => {
      assert.deepEqual(await names(a.g, "G.V('veth-eth0').Ascendants()"), ['eth0', 'vm1']);
      assert.deepEqual(await names(a.g, "G.V('veth-eth0').Ascendants(0)"), ['eth0', 'vm1', 'agent1']);
      assert.deepEqual(await names(a.g, "G.V('veth-eth0').Neighbors()"), ['eth0', 'vm1']);
      assert.deepEqual(await names(a.g, "G.V('veth-eth0').Neighbors(2)"), ['eth0', 'vm1', 'agent1']);
      assert.deepEqual(await names(a.g, "G.V('veth-eth0').Neighbors('RelationType', 'layer2', 2)"), ['eth0', 'vm1-eth0', 'vm1-eth0']);
      assert.deepEqual(
        await sortedNames(a.g, "G.V('veth-eth0').Neighbors('Type', 'veth', 'RelationType', 'ownership', 2)"),
        ['agent1', 'eth0', 'vm1', 'vm1-eth0'],
      );
    });
  });

  describe('collections', () => {
    it('Dedup() by ID, Dedup(keys) by values (elements without the keys are kept)', async () => {
      assert.equal(await query(a.g, 'G.V().Dedup(\'Type\').Count()'), 11);
      // 6 nodes have an MTU with 3 distinct values; the 13 others have none
      assert.equal(await query(a.g, "G.V().Dedup('MTU').Count()"), 16);
      assert.equal(await query(a.g, "G.V().Has('Type', 'ovsbridge').Out().Out().Dedup().Count()"), 5);
    });

    it('Count, Range, Limit', async () => {
      assert.equal(await query(a.g, "G.V().Has('Type', 'ovsport').Count()"), 5);
      assert.deepEqual(await names(a.g, 'G.V().Sort().Range(2, 4)'), ['eth0', 'vm1-eth0']);
      assert.deepEqual(await names(a.g, 'G.V().Sort().Limit(2)'), ['agent1', 'vm1']);
      assert.deepEqual(await names(a.g, 'G.V().Range(5, 2)'), []);
      assert.equal(await query(a.g, 'G.E().Limit(3).Count()'), 3);
    });

    it('Sort: by @CreatedAt by default, ASC/DESC, by key with missing values last', async () => {
      const all = await names(a.g, 'G.V().Sort()');
      assert.deepEqual(all.slice(0, 4), ['agent1', 'vm1', 'eth0', 'vm1-eth0']);
      assert.deepEqual(await names(a.g, 'G.V().Sort(DESC)'), [...all].reverse());
      assert.deepEqual(await names(a.g, "G.V().Has('Type', 'ovsbridge').Sort(DESC, 'Name')"), ['br-tun', 'br-int']);
      assert.deepEqual(await names(a.g, "G.V().Has('Type', Within('device', 'tun', 'bridge')).Sort('Name')"), ['br0', 'eth1', 'lo', 'tap0']);
      const byMTU = await names(a.g, "G.V().Sort(DESC, 'MTU')");
      assert.deepEqual(byMTU.slice(0, 6), ['lo', 'eth0', 'vm1-eth0', 'br0', 'eth1', 'tap0']);
      assert.equal(byMTU.length, 19);
    });

    it('Values: one entry per element having the key, lists kept whole, empty maps skipped', async () => {
      assert.deepEqual(await query(a.g, "G.V().Has('Type', 'ovsbridge').Values('Name')"), ['br-int', 'br-tun']);
      assert.deepEqual(await query(a.g, "G.V().Has('Name', 'eth0').Values('IPV4')"), [['192.168.0.1/24', '192.168.1.1/24']]);
      assert.deepEqual(await query(a.g, "G.V().Has('Type', 'ovsbridge').Values('Ovs.OtherConfig')"), [{ 'datapath-id': '0000a' }]);
      assert.deepEqual(await query(a.g, "G.V().Values('Ovs.Options.remote_ip')"), ['10.0.0.2', '10.0.0.3']);
      assert.deepEqual(await query(a.g, "G.E().Values('RelationType').Dedup()"), ['ownership', 'layer2']);
      assert.equal(await query(a.g, "G.V().Values('Type').Dedup().Count()"), 11);
      assert.equal(await query(a.g, "G.V().Values('Nope')"), null);
    });

    it('ValueMap and Keys', async () => {
      assert.deepEqual(await query(a.g, "G.V().Has('Type', 'veth').ValueMap('Name', 'MTU', 'Nope')"), [
        { Name: 'eth0', MTU: 1500 },
        { Name: 'vm1-eth0', MTU: 1500 },
      ]);
      assert.equal(await query(a.g, "G.V().ValueMap('Nope')"), null);
      const keys = (await query(a.g, "G.V().Has('Name', 'gre-1').Keys()")) as string[];
      for (const k of ['@ID', '@CreatedAt', 'Name', 'Ovs', 'Ovs.Options', 'Ovs.Options.remote_ip', 'LocalIP']) assert.ok(keys.includes(k), k);
      assert.ok(((await query(a.g, "G.V().Has('Name', 'eth0').Keys()")) as string[]).includes('Neighbors.MAC'));
      assert.ok(((await query(a.g, 'G.E().Limit(1).Keys()')) as string[]).includes('Parent'));
      assert.equal(await query(a.g, "G.V().Has('Type', 'none').Keys()"), null);
    });

    it('Sum of a numeric key; a non-numeric value is an error', async () => {
      assert.equal(await query(a.g, "G.V().Has('Type', 'veth').Sum('MTU')"), 3000);
      assert.equal(await query(a.g, "G.V().Sum('Nope')"), 0);
      await assert.rejects(executeGremlin("G.V().Sum('Name')", { graph: a.g }), /Sum\('Name'\): a value is the string "agent1", not a number/);
    });

    it('As and Select', async () => {
      const q = "G.V().Has('Name', 'br-int').As('br').Out('Type', 'ovsport').As('ports').Select('br', 'ports')";
      assert.deepEqual(await names(a.g, q), ['br-int', 'vm1-eth0', 'patch-tun']);
      assert.deepEqual(await names(a.g, "G.V().Has('Name', 'lo').As('x').In().Select('x')"), ['lo']);
    });
  });

  describe('graphs', () => {
    it('G alone is the whole graph', async () => {
      const [g] = (await query(a.g, 'G')) as { Nodes: unknown[]; Edges: unknown[] }[];
      assert.equal(g.Nodes.length, 19);
      assert.equal(g.Edges.length, 31);
    });

    it('SubGraph of nodes keeps the edges between them; following V()/E() run on the subgraph', async () => {
      const q = "G.V().Has('Type', Within('ovsbridge', 'ovsport')).SubGraph()";
      const [g] = (await query(a.g, q)) as { Nodes: unknown[]; Edges: unknown[] }[];
      assert.equal(g.Nodes.length, 7);
      assert.equal(g.Edges.length, 10);
      assert.equal(await query(a.g, `${q}.V().Count()`), 7);
      assert.equal(await query(a.g, `${q}.E().Count()`), 10);
      assert.equal(await query(a.g, `${q}.V().Has('Name', 'br-tun').Out().Count()`), 3);
      const [l2] = (await query(a.g, "G.V().Has('Type', Within('ovsbridge', 'ovsport')).SubGraph('RelationType', 'layer2')")) as { Edges: unknown[] }[];
      assert.equal(l2.Edges.length, 5);
    });

    it('SubGraph of edges and of paths', async () => {
      const [e] = (await query(a.g, "G.E().Has('Type', 'patch').SubGraph()")) as { Nodes: { Metadata: { Name: string } }[]; Edges: unknown[] }[];
      assert.deepEqual(e.Nodes.map((n) => n.Metadata.Name).sort(), ['patch-int', 'patch-tun']);
      assert.equal(e.Edges.length, 1);
      const [p] = (await query(
        a.g,
        "G.V().Has('Name', 'eth0').ShortestPathTo(Metadata('Name', 'gre-1', 'Type', 'gre'), Metadata('RelationType', 'layer2')).SubGraph()",
      )) as { Nodes: unknown[]; Edges: unknown[] }[];
      assert.equal(p.Nodes.length, 11);
      assert.ok(p.Edges.length >= 10);
      assert.equal(await query(a.g, "G.V().Has('Name', 'eth0').ShortestPathTo(Metadata('Name', 'gre-1')).Dedup().Count()"), 5);
    });

    it('.G restarts from the graph', async () => {
      assert.equal(await query(a.g, "G.V().Has('Type', 'host').G.V().Count()"), 19);
      assert.equal(await query(a.g, "G.V().Has('Type', 'host').G.E().Count()"), 31);
    });

    it('Context without a history backend is a clear error', async () => {
      for (const q of ["G.Context('-5m').V()", 'G.At(NOW, 60).V()']) {
        await assert.rejects(executeGremlin(q, { graph: a.g }), (err: unknown) => {
          assert.ok(err instanceof GremlinError && !(err instanceof GremlinSyntaxError));
          assert.equal(err.code, 'SKYDIVE_GREMLIN_NO_HISTORY');
          assert.equal(err.statusCode, 400);
          assert.match(err.message, /^history is not available: .*configure a storage backend with history/);
          return true;
        });
      }
    });
  });
});
