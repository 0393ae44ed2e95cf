import assert from 'node:assert/strict';
import { UsageError } from '../../../src/common/errors.js';
import { genID, Graph } from '../../../src/graph/graph.js';
import { FabricProbe, parseFabricRule } from '../../../src/probes/topology/fabric.js';

function parseError(rule: string): UsageError {
  try {
    parseFabricRule(rule);
  } catch (err) {
    assert.ok(err instanceof UsageError, `expected a UsageError, got ${err}`);
    assert.equal(err.code, 'SKYDIVE_FABRIC_RULE');
    return err;
  }
  assert.fail(`rule ${JSON.stringify(rule)} was accepted`);
}

describe('fabric rule parser', () => {
  it('parses the reference example', () => {
    const r = parseFabricRule('TOR1[Name=tor1] -> TOR1_PORT1[Name=port1, MTU=1500]');
    assert.deepEqual(r, {
      parent: { name: 'TOR1', attrs: { Name: 'tor1' } },
      child: { name: 'TOR1_PORT1', attrs: { Name: 'port1', MTU: '1500' } },
      linkAttrs: {},
      ownership: true,
    });
  });

  it('parses layer2-only arrows, link attributes, quoted values and names with dashes', () => {
    const r = parseFabricRule(`spine-1-->[color=red, Label="a, b"]leaf-2[Desc='x=y']`);
    assert.equal(r.ownership, false);
    assert.deepEqual(r.parent, { name: 'spine-1', attrs: {} });
    assert.deepEqual(r.child, { name: 'leaf-2', attrs: { Desc: 'x=y' } });
    assert.deepEqual(r.linkAttrs, { color: 'red', Label: 'a, b' });
  });

  it('parses a wildcard child', () => {
    const r = parseFabricRule('TOR1_PORT1 -> *[Type=host, Name=agent1]/eth1');
    assert.deepEqual(r.wildcard, { Type: 'host', Name: 'agent1' });
    assert.deepEqual(r.child, { name: 'eth1', attrs: {} });
    assert.deepEqual(parseFabricRule('A -> */eth0').wildcard, {});
  });

  it('says where a rule is wrong and what was expected', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /at column 1: expected a node name, got end of rule/],
      ['*[Type=host]/eth0 -> TOR1', /at column 1: expected a node name \(a wildcard "\*" can only be the child of a rule\), got "\*"/],
      ['TOR1 TOR2', /at column 6: expected "->" or "-->", got "T"/],
      ['TOR1 => TOR2', /at column 6: expected "->" or "-->", got "="/],
      ['TOR1 -> ', /at column 9: expected a node name, got end of rule/],
      ['TOR1[Name] -> TOR2', /at column 10: expected "=" after attribute "Name", got "]"/],
      ['TOR1[Name=tor1 -> TOR2', /at column 23: expected "," or "\]", got end of rule/],
      ['TOR1[] -> TOR2', /at column 6: expected an attribute key=value, got "]"/],
      ['TOR1[Name=] -> TOR2', /at column 11: expected an attribute value, got "]"/],
      ['TOR1[Name="tor1] -> TOR2', /at column 25: expected a closing ", got end of rule/],
      ['TOR1 -> TOR2 junk', /at column 14: expected end of rule, got "j"/],
      ['TOR1 -> *[Type=host]eth1', /at column 21: expected "\/" then the interface name after the wildcard, got "e"/],
    ];
    for (const [rule, re] of cases) {
      const err = parseError(rule);
      assert.match(err.message, re, `rule ${JSON.stringify(rule)}: ${err.message}`);
      assert.ok(err.message.includes(`"${rule}"`), 'the message quotes the rule');
    }
  });
});

describe('FabricProbe', () => {
  const rules = ['TOR1[Name=tor1] -> TOR1_PORT1[Name=port1, MTU=1500]', 'TOR1 --> [Speed=10G] TOR2[Name=tor2, Type=switch]', 'TOR1_PORT1 -> [Cable=c1] *[Type=host, Name=agent1]/eth1'];

  it('creates the declared nodes and edges', async () => {
    const g = new Graph({ host: 'an', origin: 'analyzer.an' });
    const p = new FabricProbe(g, rules);
    await p.start();
    const tor1 = g.getNode(genID('fabricTOR1'))!;
    const port1 = g.getNode(genID('fabricTOR1_PORT1'))!;
    const tor2 = g.getNode(genID('fabricTOR2'))!;
    assert.deepEqual(tor1.metadata, { Name: 'tor1', Type: 'device', Probe: 'fabric', TID: tor1.id });
    assert.deepEqual(port1.metadata, { Name: 'port1', Type: 'device', Probe: 'fabric', MTU: '1500', TID: port1.id });
    assert.equal(tor2.metadata.Type, 'switch');
    assert.deepEqual(g.findEdge(tor1.id, port1.id, { RelationType: 'ownership' })?.metadata, { RelationType: 'ownership' });
    assert.deepEqual(g.findEdge(tor1.id, port1.id, { RelationType: 'layer2' })?.metadata, { RelationType: 'layer2', Type: 'fabric' });
    assert.deepEqual(g.findEdge(tor1.id, tor2.id, { RelationType: 'layer2' })?.metadata, { RelationType: 'layer2', Type: 'fabric', Speed: '10G' });
    assert.equal(g.findEdge(tor1.id, tor2.id, { RelationType: 'ownership' }), undefined, '--> makes no ownership');
    assert.equal(g.nodeCount, 3, 'a wildcard creates no node');
    await p.stop();
  });

  it('links a matching agent interface while it exists under the matching host', async () => {
    const g = new Graph({ host: 'an', origin: 'analyzer.an' });
    const agentOrigin = { origin: 'agent.agent1', host: 'agent1' };
    const otherHost = g.newNode('h2', { Type: 'host', Name: 'agent2' }, agentOrigin);
    const otherEth1 = g.newNode('h2-eth1', { Type: 'device', Name: 'eth1' }, agentOrigin);
    g.ownershipLink(otherHost, otherEth1);
    const host = g.newNode('h1', { Type: 'host', Name: 'agent1' }, agentOrigin);
    const earlyEth = g.newNode('h1-eth1', { Type: 'device', Name: 'eth1' }, agentOrigin);
    g.ownershipLink(host, earlyEth);

    const p = new FabricProbe(g, rules);
    await p.start();
    const port1 = g.getNode(genID('fabricTOR1_PORT1'))!;
    assert.deepEqual(g.findEdge(port1.id, earlyEth.id)?.metadata, { RelationType: 'layer2', Type: 'fabric', Cable: 'c1' }, 'existing interface linked at start');
    assert.equal(g.findEdge(port1.id, otherEth1.id), undefined, 'eth1 of another host is not linked');
    assert.equal(g.findEdge(port1.id, earlyEth.id, { RelationType: 'ownership' }), undefined, 'the wildcard link is layer2 only');

    g.delNode(earlyEth);
    assert.equal([...g.outEdges(port1)].filter((e) => e.metadata.Type === 'fabric').length, 0, 'link gone with the interface');

    const eth1 = g.newNode('h1-eth1-b', { Type: 'device', Name: 'eth1' }, agentOrigin);
    assert.equal(g.findEdge(port1.id, eth1.id), undefined);
    g.ownershipLink(host, eth1);
    assert.ok(g.findEdge(port1.id, eth1.id, { RelationType: 'layer2', Type: 'fabric' }), 'link appears with the ownership edge');

    g.unlink(host, eth1, 'ownership');
    assert.equal(g.findEdge(port1.id, eth1.id), undefined, 'link removed when the interface leaves the host');

    await p.stop();
    g.ownershipLink(host, eth1);
    assert.equal(g.findEdge(port1.id, eth1.id), undefined, 'no more linking once stopped');
  });

  it('rejects a bad rule at construction', () => {
    const g = new Graph({ host: 'an', origin: 'analyzer.an' });
    assert.throws(() => new FabricProbe(g, ['A -> B', 'A ->']), (e: unknown) => e instanceof UsageError && /"A ->" at column 5/.test(e.message));
  });
});
