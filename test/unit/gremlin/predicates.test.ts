import assert from 'node:assert/strict';
import { parseCidr, parseIPv4 } from '../../../src/gremlin/predicates.js';
import { buildAgentGraph, type AgentGraph } from './agent-graph.js';
import { query, sortedNames } from './helpers.js';

describe('gremlin predicates and matching rules', () => {
  let a: AgentGraph;
  let has: (key: string, value: string) => Promise<string[]>;
  beforeEach(() => {
    a = buildAgentGraph();
    has = (key, value) => sortedNames(a.g, `G.V().Has('${key}', ${value})`);
  });

  describe('types', () => {
    it("integral numbers compare as numbers; the string '1500' does not match 1500", async () => {
      assert.deepEqual(await has('MTU', '1500'), ['br0', 'eth0', 'eth1', 'vm1-eth0']);
      assert.deepEqual(await has('MTU', '1500.0'), ['br0', 'eth0', 'eth1', 'vm1-eth0']);
      assert.deepEqual(await has('MTU', "'1500'"), []);
      assert.deepEqual(await has('OfPort', '3'), ['gre-1']);
    });

    it('booleans match booleans only', async () => {
      assert.deepEqual(await has('Features.highdma', 'true'), ['eth1']);
      assert.deepEqual(await has('Features.tso', 'false'), ['eth1']);
      assert.deepEqual(await has('Features.tso', 'true'), []);
      assert.deepEqual(await has('Features.highdma', "'true'"), []);
    });
  });

  describe('keys', () => {
    it('nested keys descend maps, with or without the Metadata. prefix', async () => {
      assert.deepEqual(await has('Ovs.Options.remote_ip', "'10.0.0.2'"), ['gre-1']);
      assert.deepEqual(await has('ExtID.iface-id', "'port-123'"), ['vm1-eth0']);
      assert.deepEqual(await has('Metadata.Name', "'lo'"), ['lo']);
    });

    it('a list value matches if any element matches, also through lists of maps', async () => {
      assert.deepEqual(await has('IPV4', "'192.168.1.1/24'"), ['eth0']);
      assert.deepEqual(await has('LinkFlags', "'MULTICAST'"), ['eth0']);
      assert.deepEqual(await has('Neighbors.MAC', "'aa:bb:cc:00:00:03'"), ['eth0']);
      assert.deepEqual(await has('CPU.Cores', '2'), ['agent1']);
    });

    it('find OVS tunnel ports and their remote_ip', async () => {
      assert.deepEqual(await query(a.g, "G.V().Has('Type', Within('gre', 'vxlan', 'geneve')).Values('Ovs.Options.remote_ip')"), ['10.0.0.2', '10.0.0.3']);
      assert.deepEqual(await sortedNames(a.g, "G.V().HasKey('Ovs.Options.remote_ip')"), ['gre-1', 'vxlan-1']);
    });
  });

  describe('predicates', () => {
    it('Ne (key must exist) and Nee (absent key matches)', async () => {
      assert.deepEqual(await has('State', "Ne('UP')"), ['tap0']);
      const nee = await has('State', "Nee('UP')");
      assert.ok(nee.includes('tap0') && nee.includes('agent1') && !nee.includes('eth0'));
      assert.equal(nee.length, 19 - 5);
      assert.deepEqual(await has('IPV4', "Ne('127.0.0.1/8')"), ['eth0', 'eth1']);
    });

    it('Lt, Gt, Lte, Gte', async () => {
      assert.deepEqual(await has('MTU', 'Lt(1500)'), ['tap0']);
      assert.deepEqual(await has('MTU', 'Gt(1500)'), ['lo']);
      assert.deepEqual(await has('MTU', 'Lte(1500)'), ['br0', 'eth0', 'eth1', 'tap0', 'vm1-eth0']);
      assert.deepEqual(await has('MTU', 'Gte(1500)'), ['br0', 'eth0', 'eth1', 'lo', 'vm1-eth0']);
      assert.deepEqual(await has('MTU', "Gt('1450')"), ['br0', 'eth0', 'eth1', 'lo', 'vm1-eth0']);
      assert.deepEqual(await has('Name', 'Gt(0)'), []);
    });

    it('Inside (a < x < b), Between (a <= x < b), Outside (x < a or x > b)', async () => {
      assert.deepEqual(await has('MTU', 'Inside(1450, 65536)'), ['br0', 'eth0', 'eth1', 'vm1-eth0']);
      assert.deepEqual(await has('MTU', 'Between(1450, 1500)'), ['tap0']);
      assert.deepEqual(await has('MTU', 'Between(1500, 65537)'), ['br0', 'eth0', 'eth1', 'lo', 'vm1-eth0']);
      assert.deepEqual(await has('MTU', 'Outside(1450, 1500)'), ['lo']);
      assert.deepEqual(await has('MTU', 'Outside(1500, 9000)'), ['lo', 'tap0']);
    });

    it('Within and Without (Without also matches an absent key, as the original)', async () => {
      assert.deepEqual(await has('Type', "Within('veth', 'tun')"), ['eth0', 'tap0', 'vm1-eth0']);
      assert.deepEqual(await has('MTU', 'Within(1450, 65536)'), ['lo', 'tap0']);
      assert.deepEqual(await has('MTU', "Within('1450')"), []);
      assert.equal((await has('Type', "Without('veth', 'ovsport')")).length, 19 - 7);
      const without = await has('State', "Without('UP')");
      assert.ok(without.includes('tap0') && without.includes('agent1') && !without.includes('lo'));
    });

    it('Regex is anchored and applies to strings (any list element)', async () => {
      assert.deepEqual(await has('Name', "Regex('eth[0-9]+')"), ['eth0', 'eth1']);
      assert.deepEqual(await has('Name', "Regex('.*eth0')"), ['eth0', 'vm1-eth0', 'vm1-eth0']);
      assert.deepEqual(await has('LinkFlags', "Regex('MULTI.*')"), ['eth0']);
      assert.deepEqual(await has('MTU', "Regex('1500')"), []);
      assert.deepEqual(await has('Name', "Regex('eth|lo')"), ['lo']);
    });

    it('Ipv4Range on single values and lists (prefix lengths ignored)', async () => {
      assert.deepEqual(await has('IPV4', "Ipv4Range('192.168.1.0/24')"), ['eth0']);
      assert.deepEqual(await has('IPV4', "Ipv4Range('10.0.0.0/8')"), ['eth1']);
      assert.deepEqual(await has('IPV4', "Ipv4Range('0.0.0.0/0')"), ['eth0', 'eth1', 'lo']);
      assert.deepEqual(await has('IPV4', "Ipv4Range('127.0.0.1')"), ['lo']);
      assert.deepEqual(await has('RemoteIP', "Ipv4Range('10.0.0.0/30')"), ['gre-1']);
      assert.deepEqual(await has('Name', "Ipv4Range('0.0.0.0/0')"), []);
    });

    it('predicates in V(), Out() and ShortestPathTo filters', async () => {
      assert.deepEqual(await sortedNames(a.g, "G.V('MTU', Gt(1500))"), ['lo']);
      assert.deepEqual(await sortedNames(a.g, "G.V().Has('Type', 'host').Out('MTU', Lt(1500))"), ['tap0']);
      const paths = (await query(a.g, "G.V('veth-eth0').ShortestPathTo(Metadata('IPV4', Ipv4Range('10.0.0.0/8')))")) as unknown[][];
      assert.equal(paths[0].length, 4);
    });
  });

  describe('IPv4 parsing', () => {
    it('parses addresses with optional prefix, rejects garbage', () => {
      assert.equal(parseIPv4('10.0.0.1', false), 0x0a000001);
      assert.equal(parseIPv4('255.255.255.255/32', true), 0xffffffff);
      for (const bad of ['10.0.0', '10.0.0.256', '1..2.3', 'a.b.c.d', '10.0.0.1/24', '', '1.2.3.4.5', '1234.1.1.1']) {
        assert.equal(parseIPv4(bad, false), -1, bad);
      }
      assert.deepEqual(parseCidr('10.1.2.3/16'), { base: 0x0a010000, mask: 0xffff0000 });
      assert.deepEqual(parseCidr('0.0.0.0/0'), { base: 0, mask: 0 });
      assert.equal(parseCidr('10.0.0.0/33'), undefined);
      assert.equal(parseCidr('10.0.0.0/x'), undefined);
    });
  });
});
