import assert from 'node:assert/strict';
import { Graph } from '../../../src/graph/graph.js';
import { FlowTable } from '../../../src/flow/table.js';
import { StepRegistry, defaultRegistry, executeGremlin, resultToJSON, type GremlinContext } from '../../../src/gremlin/index.js';
import { buildFrame, type FrameSpec } from '../../../src/injector/packet-builder.js';
import { FlowStore, type FlowJSON } from '../../../src/analyzer/flows/flow-store.js';
import { FLOW_STORE_EXT, registerFlowSteps, rawPacketsOf } from '../../../src/analyzer/flows/flow-steps.js';
import { numericPredicateCases } from '../../helpers/metric-predicates.js';

/**
 * The flow steps on flows that a real flow table made from crafted frames: two hosts pinging through a capture
 * point, plus a TCP exchange, stored as the analyzer stores agents' updates.
 */

const MAC1 = '02:00:00:00:00:01';
const MAC2 = '02:00:00:00:00:02';
const IP1 = '169.254.33.33';
const IP2 = '169.254.33.34';

function frames(): Array<{ data: Buffer; tsMs: number }> {
  const out: Array<{ data: Buffer; tsMs: number }> = [];
  const t0 = 1_700_000_000_000;
  const icmp = (i: number, reply: boolean): Buffer => {
    const spec: FrameSpec = reply
      ? { type: 'icmp4', srcMAC: MAC2, dstMAC: MAC1, srcIP: IP2, dstIP: IP1, icmpID: 7, icmpSeq: i, payload: Buffer.alloc(1024) }
      : { type: 'icmp4', srcMAC: MAC1, dstMAC: MAC2, srcIP: IP1, dstIP: IP2, icmpID: 7, icmpSeq: i, payload: Buffer.alloc(1024) };
    const f = buildFrame(spec);
    if (reply) f[34] = 0; // echo reply: same checksum rules are irrelevant to the flow table
    return f;
  };
  for (let i = 0; i < 3; i++) {
    out.push({ data: icmp(i, false), tsMs: t0 + i * 1000 });
    out.push({ data: icmp(i, true), tsMs: t0 + i * 1000 + 1 });
  }
  out.push({ data: buildFrame({ type: 'tcp4', srcMAC: MAC1, dstMAC: MAC2, srcIP: IP1, dstIP: IP2, srcPort: 12345, dstPort: 54321 }), tsMs: t0 + 5000 });
  return out;
}

describe('flow Gremlin steps', () => {
  let ctx: GremlinContext;
  let store: FlowStore;
  let icmpUUID: string;

  before(() => {
    const graph = new Graph({ host: 'h', origin: 'analyzer.h' });
    const host = graph.newNode('host', { Name: 'h', Type: 'host', TID: 'tid-host' });
    const br = graph.newNode('br', { Name: 'br-fh', Type: 'ovsbridge', TID: 'tid-bridge' });
    const i1 = graph.newNode('i1', { Name: 'fh-intf1', Type: 'internal', TID: 'tid-1', MAC: MAC1 });
    const i2 = graph.newNode('i2', { Name: 'fh-intf2', Type: 'internal', TID: 'tid-2', MAC: MAC2 });
    graph.newNode('i3', { Name: 'other', Type: 'veth', TID: 'tid-3', PeerIntfMAC: MAC2 });
    graph.ownershipLink(host, br);
    graph.link(br, i1, 'layer2');
    graph.link(br, i2, 'layer2');

    const table = new FlowTable({ nodeTID: 'tid-bridge', captureID: 'cap', rawPacketLimit: 4 });
    for (const f of frames()) table.processPacket(f.data, 0, f.data.length, f.data.length, f.tsMs, 1);
    const updated = table.update(1_700_000_010_000);
    store = new FlowStore({ now: () => 1_700_000_010_000 });
    const raw: Record<string, any[]> = {};
    for (const f of updated) raw[f.uuid] = f.rawPackets().map((p, i) => ({ Timestamp: Math.floor(p.tsMs), Index: i, Data: Buffer.from(p.data).toString('base64'), LinkType: 1 }));
    store.add(updated.map((f) => f.toJSON() as unknown as FlowJSON), raw, 'cap');
    icmpUUID = (store.flows().find((f) => f.LayersPath === 'Ethernet/IPv4/ICMPv4') as FlowJSON).UUID;

    const registry = new StepRegistry(defaultRegistry);
    registerFlowSteps(registry);
    ctx = { graph, registry, ext: { [FLOW_STORE_EXT]: store } };
  });

  const q = async (query: string) => resultToJSON(await executeGremlin(query, ctx)) as any;

  it('lists flows from G and from the capture nodes, filtered by Flows(k, v)', async () => {
    assert.equal(await q('G.Flows().Count()'), 2);
    assert.equal(await q("G.V().Has('Name', 'br-fh').Flows().Count()"), 2);
    assert.equal(await q("G.V().Has('Name', 'fh-intf1').Flows().Count()"), 0);
    assert.equal(await q("G.Flows('LayersPath', 'Ethernet/IPv4/TCP').Count()"), 1);
    const [f] = await q("G.Flows().Has('LayersPath', Regex('.*ICMPv4.*'))");
    assert.equal(f.UUID, icmpUUID);
    assert.equal(f.NodeTID, 'tid-bridge');
  });

  it('expands Network, Link and Transport to either endpoint', async () => {
    assert.equal(await q(`G.Flows().Has('Network', '${IP2}').Count()`), 2);
    assert.equal(await q(`G.Flows().Has('Network.B', '${IP1}').Count()`), 0);
    assert.equal(await q(`G.Flows().Has('Link', '${MAC2}').Count()`), 2);
    assert.equal(await q('G.Flows().Has(\'Transport\', 54321).Count()'), 1);
    assert.equal(await q("G.Flows().HasEither('Transport', 54321, 'ICMP.ID', 7).Count()"), 2);
    assert.equal(await q("G.Flows().HasEither('Transport', 1, 'ICMP.ID', 7).Count()"), 1);
    assert.equal(await q("G.Flows().Has('Network', Ipv4Range('169.254.33.0/24')).Count()"), 2);
  });

  it('applies predicates to nested metrics (TestFlowMetrics)', async () => {
    const L = 1066 * 3;
    const hit = async (pred: string) => (await q(`G.Flows().Has('LayersPath', 'Ethernet/IPv4/ICMPv4', 'Metric.ABBytes', ${pred}).Count()`)) === 1;
    assert.equal(await q("G.Flows().Has('Metric.ABPackets', 3).Count()"), 1);
    for (const [pred, expected] of numericPredicateCases(L)) {
      assert.equal(await hit(pred), expected, pred);
    }
    assert.equal(await q("G.Flows().Has('Metric.RTT', Gt(0)).Count()"), 1);
    assert.equal(await q("G.Flows().Sum('Metric.ABPackets')"), 4);
  });

  it('finds capture nodes (Hops, CaptureNode, Node) and endpoint nodes (Nodes, In, Out, Both)', async () => {
    const names = async (query: string) => ((await q(query)) as any[]).map((n) => n.Metadata.Name).sort();
    const icmp = "G.Flows().Has('LayersPath', 'Ethernet/IPv4/ICMPv4')";
    assert.deepEqual(await names(`${icmp}.Hops()`), ['br-fh']);
    assert.deepEqual(await names(`${icmp}.CaptureNode()`), ['br-fh']);
    assert.deepEqual(await names(`${icmp}.Node()`), ['br-fh']);
    assert.deepEqual(await names(`${icmp}.Nodes()`), ['br-fh', 'fh-intf1', 'fh-intf2']);
    assert.deepEqual(await names(`${icmp}.In()`), ['fh-intf1']);
    assert.deepEqual(await names(`${icmp}.Out()`), ['fh-intf2', 'other'], 'PeerIntfMAC matches too');
    assert.deepEqual(await names(`${icmp}.Out('Type', 'internal')`), ['fh-intf2']);
    assert.equal(await q(`${icmp}.Both().Dedup().Count()`), 3);
  });

  it('sorts, dedups, limits and reads values of flows', async () => {
    const sorted = await q("G.Flows().Sort(DESC, 'Start').Values('LayersPath')");
    assert.deepEqual(sorted, ['Ethernet/IPv4/TCP', 'Ethernet/IPv4/ICMPv4']);
    assert.deepEqual(await q('G.Flows().Sort().Limit(1).Values(\'LayersPath\')'), ['Ethernet/IPv4/ICMPv4']);
    assert.equal(await q("G.Flows().Dedup('TrackingID').Count()"), 2);
  });

  it('groups flows by TrackingID and keeps groups with more than n flows', async () => {
    const [groups] = await q('G.Flows().Group()');
    assert.equal(Object.keys(groups).length, 2);
    assert.deepEqual(await q("G.Flows().Group().MoreThan('1')"), []);
    const [byNode] = await q("G.Flows().Group('NodeTID').MoreThan('1')");
    assert.deepEqual(Object.keys(byNode), ['tid-bridge']);
  });

  it('returns the kept raw packets and filters them with BPF', async () => {
    const [all] = await q("G.Flows().Has('LayersPath', 'Ethernet/IPv4/ICMPv4').RawPackets()");
    assert.equal(all[icmpUUID].length, 4);
    const [replies] = await q("G.Flows().Has('LayersPath', 'Ethernet/IPv4/ICMPv4').RawPackets().BPF('icmp[icmptype] == 0')");
    assert.equal(replies[icmpUUID].length, 2);
    const packets = rawPacketsOf(await executeGremlin("G.Flows().RawPackets().BPF('icmp[icmptype] == 8')", ctx))!;
    assert.equal(packets.length, 2);
  });

  it('reports bad arguments with the position of the step', async () => {
    await assert.rejects(q("G.Flows().RawPackets().BPF('icmp and and')"), /BPF|syntax/);
    await assert.rejects(q("G.Flows().MoreThan('x')"), /MoreThan/);
    await assert.rejects(q('G.V().RawPackets()'), /RawPackets/);
  });

  it('keeps the update windows of each flow for Metrics()', async () => {
    const [m] = await q("G.Flows().Has('LayersPath', 'Ethernet/IPv4/ICMPv4').Metrics()");
    assert.equal(m[icmpUUID].length, 1);
    assert.equal(m[icmpUUID][0].ABPackets, 3);
  });
});
