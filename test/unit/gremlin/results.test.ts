import assert from 'node:assert/strict';
import { executeGremlin, parseGremlin, resultGraph, resultToJSON } from '../../../src/gremlin/index.js';
import { buildAgentGraph, type AgentGraph } from './agent-graph.js';
import { query } from './helpers.js';

const ELEMENT_KEYS = ['ID', 'Metadata', 'Host', 'Origin', 'CreatedAt', 'UpdatedAt', 'DeletedAt', 'Revision'];

describe('gremlin result JSON shapes', () => {
  let a: AgentGraph;
  beforeEach(() => {
    a = buildAgentGraph();
  });

  it('V → array of nodes with the 8 element fields in order', async () => {
    const json = (await query(a.g, "G.V().Has('Name', 'lo')")) as Record<string, unknown>[];
    assert.equal(json.length, 1);
    assert.deepEqual(Object.keys(json[0]), ELEMENT_KEYS);
    assert.equal(json[0].ID, 'dev-lo');
    assert.equal(json[0].Host, 'agent1');
    assert.equal(json[0].Origin, 'agent.agent1');
    assert.equal(json[0].DeletedAt, null);
    assert.equal(json[0].Revision, 1);
    assert.equal(typeof json[0].CreatedAt, 'number');
    assert.deepEqual(await query(a.g, "G.V().Has('Name', 'nope')"), []);
  });

  it('E → array of edges with Parent and Child', async () => {
    const json = (await query(a.g, "G.E().Has('Type', 'patch')")) as Record<string, unknown>[];
    assert.deepEqual(Object.keys(json[0]), [...ELEMENT_KEYS, 'Parent', 'Child']);
    assert.deepEqual([json[0].Parent, json[0].Child], ['intf-patch-tun', 'intf-patch-int']);
    assert.deepEqual(json[0].Metadata, { RelationType: 'layer2', Type: 'patch' });
  });

  it('Count and Sum → a number', async () => {
    assert.equal(await query(a.g, 'G.V().Count()'), 19);
    assert.equal(await query(a.g, "G.V().Sum('MTU')"), 1500 * 4 + 1450 + 65536);
  });

  it('G and SubGraph → [{"Nodes": [...], "Edges": [...]}]', async () => {
    for (const q of ['G', "G.V().Has('Type', 'ovsbridge').SubGraph()"]) {
      const json = (await query(a.g, q)) as Record<string, unknown[]>[];
      assert.equal(json.length, 1, q);
      assert.deepEqual(Object.keys(json[0]), ['Nodes', 'Edges'], q);
      assert.deepEqual(Object.keys(json[0].Nodes[0] as object), ELEMENT_KEYS, q);
    }
  });

  it('ShortestPathTo → array of arrays of nodes', async () => {
    const json = (await query(a.g, "G.V().Has('Type', 'netns').ShortestPathTo(Metadata('Name', 'lo'))")) as Record<string, unknown>[][];
    assert.equal(json.length, 1);
    assert.deepEqual(
      json[0].map((n) => n.ID),
      ['netns-vm1', 'host-id', 'dev-lo'],
    );
  });

  it('Values, ValueMap, Keys → arrays, null when empty', async () => {
    assert.deepEqual(await query(a.g, "G.V().Has('Name', 'lo').Values('MTU')"), [65536]);
    assert.equal(await query(a.g, "G.V().Has('Name', 'lo').Values('Nope')"), null);
    assert.equal(await query(a.g, "G.V().Has('Name', 'nope').ValueMap('Name')"), null);
    assert.equal(await query(a.g, "G.V().Has('Name', 'nope').Keys()"), null);
    assert.ok(Array.isArray(await query(a.g, "G.V().Has('Name', 'lo').Keys()")));
  });

  it('results serialise with JSON.stringify', async () => {
    for (const q of ['G', 'G.V()', 'G.E()', "G.V().Has('Name', 'eth0').ShortestPathTo(Metadata('Type', 'host'))", "G.V().Values('IPV4')"]) {
      const text = JSON.stringify(resultToJSON(await executeGremlin(q, { graph: a.g })));
      assert.ok(text.length > 2, q);
    }
  });

  it('resultGraph: the live graph for G, a new graph for SubGraph, undefined otherwise', async () => {
    assert.equal(resultGraph(await executeGremlin('G', { graph: a.g })), a.g);
    const sub = resultGraph(await executeGremlin("G.V().Has('Type', Within('ovsbridge', 'ovsport')).SubGraph()", { graph: a.g }));
    assert.ok(sub && sub !== a.g);
    assert.equal(sub.nodeCount, 7);
    assert.equal(sub.edgeCount, 10);
    assert.equal(sub.origin, 'GremlinTraversal');
    assert.equal(resultGraph(await executeGremlin('G.V()', { graph: a.g })), undefined);
    assert.equal(resultGraph(await executeGremlin('G.V().Count()', { graph: a.g })), undefined);
  });

  it('a parsed query can be run many times, seeing graph changes', async () => {
    const q = parseGremlin("G.V().Has('Type', 'veth').Count()");
    assert.equal(resultToJSON(await executeGremlin(q, { graph: a.g })), 2);
    a.g.newNode('veth-new', { Name: 'new0', Type: 'veth' });
    assert.equal(resultToJSON(await executeGremlin(q, { graph: a.g })), 3);
  });
});
