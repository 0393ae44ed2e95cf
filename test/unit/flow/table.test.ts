import assert from 'node:assert/strict';
import { FlowTable, LINKTYPE_ETHERNET, LINKTYPE_RAW } from '../../../src/flow/table.js';
import type { FlowJSON, FlowTableOptions } from '../../../src/flow/table.js';
import { PacketBuilder, concat, dnsMessage, geneveOption } from '../../helpers/packet-builder.js';

const A = '02:00:00:00:00:0a';
const B = '02:00:00:00:00:0b';
const T0 = 1700000000000;

/** Feeds frames 1 ms apart (or at the given times) and returns the flows' JSON, least recently used first. */
function run(frames: Uint8Array[], opts: FlowTableOptions = {}, linkType = LINKTYPE_ETHERNET, times?: number[]): FlowJSON[] {
  const t = new FlowTable(opts);
  frames.forEach((f, i) => t.processPacket(f, 0, f.length, f.length, times ? times[i] : T0 + i, linkType));
  return t.getFlows().map((f) => f.toJSON());
}

function byPath(flows: FlowJSON[], path: string): FlowJSON[] {
  return flows.filter((f) => f.LayersPath === path);
}

const ping = (type: 0 | 8, src = A, dst = B, ipSrc = '10.0.0.1', ipDst = '10.0.0.2', id = 7) =>
  new PacketBuilder().ethernet(src, dst).ipv4(ipSrc, ipDst).icmpv4Echo(type, id, 1).payload(56).build();

describe('flow table: flows and their JSON', () => {
  it('serialises the original keys in the original order', () => {
    const [f] = run([ping(8), ping(0, B, A, '10.0.0.2', '10.0.0.1')]);
    assert.deepEqual(Object.keys(f), [
      'UUID',
      'LayersPath',
      'Application',
      'Link',
      'Network',
      'ICMP',
      'Metric',
      'Start',
      'Last',
      'TrackingID',
      'L3TrackingID',
      'ParentUUID',
      'RawPacketsCaptured',
    ]);
    assert.deepEqual(f.Link, { Protocol: 'ETHERNET', A, B, ID: 0 });
    assert.deepEqual(f.Network, { Protocol: 'IPV4', A: '10.0.0.1', B: '10.0.0.2', ID: 0 });
    assert.deepEqual(f.ICMP, { Type: 'ECHO', ID: 7 });
    assert.deepEqual(Object.keys(f.Metric), ['ABPackets', 'ABBytes', 'BAPackets', 'BABytes', 'Start', 'Last', 'RTT']);
    assert.equal(f.ParentUUID, '');
    assert.match(f.UUID!, /^[0-9a-f]{1,16}$/);
    assert.ok(!f.UUID!.startsWith('0') || f.UUID === '0');
    assert.equal(f.Start, T0);
    assert.equal(f.Last, T0 + 1);
  });

  it('fills Transport for TCP, UDP and SCTP, ports of the first packet', () => {
    const tcp = new PacketBuilder().ethernet(B, A).ipv4('10.0.0.2', '10.0.0.1').tcp(80, 43000, { flags: 'SA' }).build();
    const [f] = run([tcp]);
    assert.deepEqual(f.Transport, { Protocol: 'TCP', A: 80, B: 43000, ID: 0 });
    assert.equal(f.Network!.A, '10.0.0.2', 'A/B come from the first packet seen, even a reply');
    const sctp = new PacketBuilder().ethernet(A, B).ipv6('fd00::1', 'fd00::2').sctp(5000, 6000, [{ type: 0, data: new Uint8Array(12) }]).build();
    const [g] = run([sctp]);
    assert.deepEqual(g.Transport, { Protocol: 'SCTP', A: 5000, B: 6000, ID: 0 });
    assert.equal(g.Network!.Protocol, 'IPV6');
    assert.equal(g.Application, 'SCTPData');
  });

  it('prints IPv6 addresses as Go does', () => {
    const f = new PacketBuilder().ethernet(A, B).ipv6('2604:1580:fe00:0:dead:beef:cafe:fed1', 'fd00::ffff:102:304').udp(1, 2).build();
    const [j] = run([f]);
    assert.equal(j.Network!.A, '2604:1580:fe00:0:dead:beef:cafe:fed1');
    assert.equal(j.Network!.B, 'fd00::ffff:102:304');
    const mapped = new PacketBuilder().ethernet(A, B).ipv6('::ffff:a01:203', '::1').udp(1, 2).build();
    assert.equal(run([mapped])[0].Network!.A, '10.1.2.3');
  });

  it('maps ICMP types to the skydive enum, request and reply together', () => {
    const unreach = new PacketBuilder().ethernet(A, B).ipv4('10.0.0.1', '10.0.0.2').icmpv4(3, 1).payload(28).build();
    assert.deepEqual(run([unreach])[0].ICMP, { Type: 'DESTINATION_UNREACHABLE', Code: 1 });
    const req = new PacketBuilder().ethernet(A, B).ipv6('fd00::1', 'fd00::2').icmpv6Echo(128, 99, 1).build();
    const rep = new PacketBuilder().ethernet(B, A).ipv6('fd00::2', 'fd00::1').icmpv6Echo(129, 99, 1).build();
    const flows = run([req, rep]);
    assert.equal(flows.length, 1);
    assert.equal(flows[0].LayersPath, 'Ethernet/IPv6/ICMPv6/ICMPv6Echo');
    assert.deepEqual(flows[0].ICMP, { Type: 'ECHO', ID: 99 });
    const ns = new PacketBuilder().ethernet(A, B).ipv6('fd00::1', 'fd00::2').icmpv6(135).payload(20).build();
    assert.deepEqual(run([ns])[0].ICMP, { Type: 'NEIGHBOR' });
  });

  it('keys ICMP by echo id: two pings are two flows', () => {
    const flows = run([ping(8, A, B, '10.0.0.1', '10.0.0.2', 1), ping(8, A, B, '10.0.0.1', '10.0.0.2', 2)]);
    assert.equal(flows.length, 2);
    assert.equal(new Set(flows.map((f) => f.TrackingID)).size, 2);
  });

  it('keeps apart two protocols without ports between the same hosts', () => {
    const gre = new PacketBuilder().ethernet(A, B).ipv4('10.0.0.1', '10.0.0.2').gre().ipv4('1.1.1.1', '2.2.2.2').udp(1, 2).build();
    const esp = new PacketBuilder().ethernet(A, B).ipv4('10.0.0.1', '10.0.0.2', { protocol: 50 }).payload(24).build();
    const flows = run([gre, esp]);
    assert.deepEqual(flows.map((f) => f.LayersPath).sort(), ['Ethernet/IPv4/GRE', 'Ethernet/IPv4/IPSecESP', 'IPv4/UDP']);
  });

  it('overrides Application from the application port map (source port first)', () => {
    const f = new PacketBuilder().ethernet(A, B).ipv4('10.0.0.1', '10.0.0.2').tcp(8080, 5432).payload(4).build();
    assert.equal(run([f], { applicationPorts: { tcp: { 5432: 'postgres', 8080: 'http-alt' } } })[0].Application, 'HTTP-ALT');
    assert.equal(run([f], { applicationPorts: { tcp: { 5432: 'postgres' } } })[0].Application, 'POSTGRES');
    assert.equal(run([f], { applicationPorts: { udp: { 5432: 'postgres' } } })[0].Application, 'TCP');
  });
});

describe('flow table: encapsulation levels', () => {
  const innerPing = (b: PacketBuilder, type: 0 | 8 = 8) =>
    (type === 8
      ? b.ethernet('02:00:00:00:01:01', '02:00:00:00:01:02').ipv4('192.168.0.1', '192.168.0.2')
      : b.ethernet('02:00:00:00:01:02', '02:00:00:00:01:01').ipv4('192.168.0.2', '192.168.0.1')
    )
      .icmpv4Echo(type, 31, 1)
      .payload(64);

  function assertChain(flows: FlowJSON[], paths: string[]): FlowJSON[] {
    const chain = paths.map((p) => {
      const found = byPath(flows, p);
      assert.equal(found.length, 1, `one flow ${p} in ${flows.map((f) => f.LayersPath).join(', ')}`);
      return found[0];
    });
    assert.equal(chain[0].ParentUUID, '');
    for (let i = 1; i < chain.length; i++) assert.equal(chain[i].ParentUUID, chain[i - 1].UUID, `${paths[i]} is inside ${paths[i - 1]}`);
    return chain;
  }

  it('VXLAN (Linux port 8472): outer flow with the VNI in Network.ID, one flow whatever the source port', () => {
    const req = innerPing(new PacketBuilder().ethernet(A, B).ipv4('172.16.0.1', '172.16.0.2').udp(41000, 8472).vxlan(10)).build();
    const rep = innerPing(new PacketBuilder().ethernet(B, A).ipv4('172.16.0.2', '172.16.0.1').udp(52000, 8472).vxlan(10), 0).build();
    const flows = run([req, rep]);
    assert.equal(flows.length, 2);
    const [outer, inner] = assertChain(flows, ['Ethernet/IPv4/UDP/VXLAN', 'Ethernet/IPv4/ICMPv4']);
    assert.equal(outer.Network!.ID, 10);
    assert.equal(outer.Application, 'VXLAN');
    assert.deepEqual([outer.Metric.ABPackets, outer.Metric.BAPackets], [1, 1]);
    // the inner frame's length: wire length minus the outer headers (14 + 20 + 8 + 8)
    assert.equal(inner.Metric.ABBytes, req.length - 50);
    assert.equal(inner.Metric.RTT, 1000000);
    assert.equal(inner.Network!.ID, 0);
  });

  it('Geneve with options: two VNIs make two tunnels, inner flows with equal TrackingID', () => {
    const opts = geneveOption(0x0104, 0x01, Uint8Array.from([0, 0, 0, 1]));
    const vni10 = innerPing(new PacketBuilder().ethernet(A, B).ipv4('172.16.0.1', '172.16.0.2').udp(50000, 6081).geneve(10, { options: opts })).build();
    const vni11 = innerPing(new PacketBuilder().ethernet(A, B).ipv4('172.16.0.1', '172.16.0.2').udp(50000, 6081).geneve(11)).build();
    const flows = run([vni10, vni11]);
    const outers = byPath(flows, 'Ethernet/IPv4/UDP/Geneve');
    assert.deepEqual(outers.map((f) => f.Network!.ID).sort(), [10, 11]);
    const inners = byPath(flows, 'Ethernet/IPv4/ICMPv4');
    assert.equal(inners.length, 2);
    assert.equal(inners[0].TrackingID, inners[1].TrackingID, 'same traffic, same TrackingID');
    assert.notEqual(inners[0].UUID, inners[1].UUID);
    assert.notEqual(inners[0].ParentUUID, inners[1].ParentUUID);
  });

  it('GRE (OVS Ethernet-over-GRE): key in Network.ID, one outer flow per tunnel whatever it carries', () => {
    const a = innerPing(new PacketBuilder().ethernet(A, B).ipv4('172.16.0.1', '172.16.0.2').gre({ key: 0x2a })).build();
    const b = new PacketBuilder()
      .ethernet(A, B)
      .ipv4('172.16.0.1', '172.16.0.2')
      .gre({ key: 0x2a })
      .ethernet('02:00:00:00:02:01', '02:00:00:00:02:02')
      .ipv4('192.168.9.1', '192.168.9.2')
      .tcp(40000, 22)
      .build();
    const flows = run([a, b]);
    const outer = byPath(flows, 'Ethernet/IPv4/GRE');
    assert.equal(outer.length, 1);
    assert.equal(outer[0].Network!.ID, 0x2a);
    assert.equal(outer[0].Metric.ABPackets, 2);
    assert.equal(byPath(flows, 'Ethernet/IPv4/ICMPv4')[0].ParentUUID, outer[0].UUID);
    assert.equal(byPath(flows, 'Ethernet/IPv4/TCP')[0].ParentUUID, outer[0].UUID);
  });

  it('GRE in GRE: three levels, IP-only levels count the IP total length', () => {
    const f = new PacketBuilder()
      .ethernet(A, B)
      .ipv4('72.205.54.70', '86.106.164.150')
      .gre()
      .ipv4('10.10.11.2', '10.10.13.2')
      .gre()
      .ipv4('10.10.25.1', '192.168.1.2')
      .icmpv4Echo(8, 23, 1)
      .payload(72)
      .build();
    const flows = run([f]);
    const [o, m, i] = assertChain(flows, ['Ethernet/IPv4/GRE', 'IPv4/GRE', 'IPv4/ICMPv4']);
    assert.equal(o.Metric.ABBytes, f.length);
    assert.equal(m.Metric.ABBytes, f.length - 14 - 20 - 4);
    assert.equal(i.Metric.ABBytes, 100);
    assert.equal(m.Link, undefined);
  });

  it('MPLS over GRE and a bare MPLS stack: one cut after the bottom label', () => {
    const gre = new PacketBuilder().ethernet(A, B).ipv4('172.16.0.1', '172.16.0.2').gre().mpls(100).mpls(200).ipv4('10.1.1.1', '10.2.2.2').icmpv4Echo(8, 1, 1).build();
    assertChain(run([gre]), ['Ethernet/IPv4/GRE/MPLS/MPLS', 'IPv4/ICMPv4']);
    const stack = new PacketBuilder().ethernet(A, B).mpls(16).mpls(17).ipv4('10.1.1.1', '10.2.2.2').udp(1, 2).build();
    const [outer] = assertChain(run([stack]), ['Ethernet/MPLS/MPLS', 'IPv4/UDP']);
    assert.equal(outer.Network, undefined, 'the MPLS level has no IP of its own');
    const udp = new PacketBuilder().ethernet(A, B).ipv4('172.16.0.1', '172.16.0.2').udp(49000, 6635).mpls(30).ipv4('10.1.1.1', '10.2.2.2').udp(1, 2).build();
    assertChain(run([udp]), ['Ethernet/IPv4/UDP/MPLS', 'IPv4/UDP']);
  });

  it('ERSPAN II: the mirrored frame is an inner flow whose length keeps the 8-byte ERSPAN header', () => {
    const f = innerPing(new PacketBuilder().ethernet(A, B).ipv4('172.16.0.1', '172.16.0.2').gre({ seq: 1 }).erspan2(5)).build();
    const [, inner] = assertChain(run([f]), ['Ethernet/IPv4/GRE', 'Ethernet/IPv4/ICMPv4']);
    assert.equal(inner.Metric.ABBytes, f.length - 14 - 20 - 8);
  });

  it('outer tunnel flows do not depend on inner addresses (one flow per tunnel)', () => {
    const frames = [1, 2, 3].map((n) =>
      new PacketBuilder().ethernet(A, B).ipv4('172.16.0.1', '172.16.0.2').gre().ipv4(`10.0.0.${n}`, '10.0.9.9').tcp(1000 + n, 80).build(),
    );
    const flows = run(frames);
    assert.equal(byPath(flows, 'Ethernet/IPv4/GRE').length, 1);
    assert.equal(byPath(flows, 'IPv4/TCP').length, 3);
  });

  it('truncated inside a tunnel: inner ICMP is parsed from the captured bytes, lengths from the wire', () => {
    const full = innerPing(new PacketBuilder().ethernet(A, B).ipv4('172.16.0.1', '172.16.0.2').udp(55091, 4789).vxlan(10)).payload(1000).build();
    const t = new FlowTable();
    t.processPacket(full, 0, 110, full.length, T0, LINKTYPE_ETHERNET);
    const flows = t.getFlows().map((f) => f.toJSON());
    const inner = byPath(flows, 'Ethernet/IPv4/ICMPv4')[0];
    assert.equal(inner.ICMP!.ID, 31);
    assert.equal(inner.Metric.ABBytes, full.length - 50);
    assert.equal(byPath(flows, 'Ethernet/IPv4/UDP/VXLAN')[0].Metric.ABBytes, full.length);
  });
});

describe('flow table: keys, direction and counting', () => {
  it('QinQ: Link.ID holds the outer tag in its low 12 bits; VLAN ids are not part of the key', () => {
    const two = new PacketBuilder().ethernet(A, B).dot1q(8, { tpid: 0x88a8 }).dot1q(10).ipv4('10.0.0.1', '10.0.0.2').icmpv4Echo(8, 1, 1).build();
    assert.equal(run([two])[0].Link!.ID, 40968);
    const four = new PacketBuilder().ethernet(A, B).dot1q(8, { tpid: 0x88a8 }).dot1q(10).dot1q(20).dot1q(30).ipv4('10.0.0.1', '10.0.0.2').icmpv4Echo(8, 1, 1).build();
    assert.equal(run([four])[0].Link!.ID, 2061919887368);
    const v5 = new PacketBuilder().ethernet(A, B).dot1q(5).ipv4('10.0.0.1', '10.0.0.2').icmpv4Echo(8, 1, 1).build();
    const v6 = new PacketBuilder().ethernet(B, A).dot1q(6).ipv4('10.0.0.2', '10.0.0.1').icmpv4Echo(0, 1, 1).build();
    const flows = run([v5, v6]);
    assert.equal(flows.length, 1);
    assert.equal(flows[0].Link!.ID, 5);
    assert.equal(flows[0].LayersPath, 'Ethernet/Dot1Q/IPv4/ICMPv4');
  });

  it('counts by direction of the first packet: AB = from Link.A, wire length for Ethernet levels', () => {
    const syn = new PacketBuilder().ethernet(A, B).ipv4('10.0.0.1', '10.0.0.2').tcp(40000, 80, { flags: 'S' }).build();
    const synack = new PacketBuilder().ethernet(B, A).ipv4('10.0.0.2', '10.0.0.1').tcp(80, 40000, { flags: 'SA' }).payload(6).build();
    const t = new FlowTable();
    t.processPacket(syn, 0, syn.length, syn.length + 4, T0, LINKTYPE_ETHERNET);
    t.processPacket(synack, 0, synack.length, synack.length, T0 + 1, LINKTYPE_ETHERNET);
    t.processPacket(syn, 0, syn.length, syn.length, T0 + 2, LINKTYPE_ETHERNET);
    const m = t.getFlows()[0].toJSON().Metric;
    assert.deepEqual([m.ABPackets, m.ABBytes, m.BAPackets, m.BABytes], [2, 2 * syn.length + 4, 1, synack.length]);
    assert.equal(t.stats.packets, 3);
    assert.equal(t.stats.bytes, 2 * syn.length + 4 + synack.length);
  });

  it('raw IP: counts the IPv4 total length, or the IPv6 payload length', () => {
    const v4 = new PacketBuilder().ipv4('10.0.0.1', '10.0.0.2').udp(1, 2).payload(30).build();
    assert.equal(run([v4], {}, LINKTYPE_RAW)[0].Metric.ABBytes, 58);
    const v6 = new PacketBuilder().ipv6('fd00::1', 'fd00::2').udp(1, 2).payload(30).build();
    assert.equal(run([v6], {}, LINKTYPE_RAW)[0].Metric.ABBytes, 38);
  });

  it('same source and destination IP: direction by source port (first packet AB)', () => {
    const out = new PacketBuilder().ipv4('127.0.0.1', '127.0.0.1').tcp(50000, 80, { flags: 'S' }).build();
    const back = new PacketBuilder().ipv4('127.0.0.1', '127.0.0.1').tcp(80, 50000, { flags: 'SA' }).build();
    const [f] = run([out, back, out], {}, LINKTYPE_RAW);
    assert.deepEqual([f.Metric.ABPackets, f.Metric.BAPackets], [2, 1]);
    assert.equal(f.Transport!.A, 50000);
  });

  it('TrackingID and L3TrackingID are direction-independent and ignore time, node and parent; UUID does not', () => {
    const req = ping(8);
    const rep = ping(0, B, A, '10.0.0.2', '10.0.0.1');
    const t1 = new FlowTable({ nodeTID: 'node-1' });
    const t2 = new FlowTable({ nodeTID: 'node-2' });
    t1.processPacket(req, 0, req.length, req.length, T0, LINKTYPE_ETHERNET);
    t2.processPacket(rep, 0, rep.length, rep.length, T0 + 5000, LINKTYPE_ETHERNET);
    const [f1] = t1.getFlows().map((f) => f.toJSON());
    const [f2] = t2.getFlows().map((f) => f.toJSON());
    assert.equal(f1.TrackingID, f2.TrackingID);
    assert.equal(f1.L3TrackingID, f2.L3TrackingID);
    assert.notEqual(f1.UUID, f2.UUID);
    assert.equal(f1.NodeTID, 'node-1');
    // the same inner traffic inside a tunnel keeps its TrackingID
    const tunneled = new PacketBuilder().ethernet('02:00:00:00:09:01', '02:00:00:00:09:02').ipv4('172.16.0.1', '172.16.0.2').gre({ protocol: 0x6558 }).payload(req).build();
    const inner = byPath(run([tunneled]), 'Ethernet/IPv4/ICMPv4')[0];
    assert.equal(inner.TrackingID, f1.TrackingID);
  });

  it('L2 mode: two source MACs are two flows with one L3TrackingID; L3 mode: one flow', () => {
    const p1 = ping(8, A, B);
    const p2 = ping(8, '02:00:00:00:00:0c', B);
    const l2 = run([p1, p2]);
    assert.equal(l2.length, 2);
    assert.notEqual(l2[0].TrackingID, l2[1].TrackingID);
    assert.equal(l2[0].L3TrackingID, l2[1].L3TrackingID);
    const l3 = run([p1, p2], { layerKeyMode: 'L3' });
    assert.equal(l3.length, 1);
    assert.equal(l3[0].TrackingID, l3[0].L3TrackingID);
    assert.equal(l3[0].L3TrackingID, l2[0].L3TrackingID);
    assert.equal(l3[0].Metric.ABPackets, 2);
  });

  it('L3 mode still counts flows without IP (ARP), by MAC direction', () => {
    const req = new PacketBuilder().ethernet(A, 'ff:ff:ff:ff:ff:ff').arp({ senderMAC: A, senderIP: '10.0.0.1', targetIP: '10.0.0.2' }).build();
    const [f] = run([req, req], { layerKeyMode: 'L3' });
    assert.equal(f.LayersPath, 'Ethernet/ARP');
    assert.deepEqual([f.Metric.ABPackets, f.Metric.ABBytes], [2, 2 * req.length]);
    assert.equal(f.Network, undefined);
  });
});

describe('flow table: RTT, TCP state and metrics', () => {
  const tcp = (from: 'a' | 'b', flags: string, seq: number, payload = 0) =>
    (from === 'a'
      ? new PacketBuilder().ethernet(A, B).ipv4('10.0.0.1', '10.0.0.2', { ttl: 64 }).tcp(40000, 80, { flags, seq })
      : new PacketBuilder().ethernet(B, A).ipv4('10.0.0.2', '10.0.0.1', { ttl: 55 }).tcp(80, 40000, { flags, seq })
    )
      .payload(payload)
      .build();

  it('ICMP echo RTT in ns (last pair wins)', () => {
    const times = [T0, T0 + 1.5, T0 + 10, T0 + 10.25];
    const [f] = run([ping(8), ping(0, B, A, '10.0.0.2', '10.0.0.1'), ping(8), ping(0, B, A, '10.0.0.2', '10.0.0.1')], {}, LINKTYPE_ETHERNET, times);
    assert.equal(f.Metric.RTT, 250000);
  });

  it('TCP RTT from SYN to SYN/ACK, SYN times and TTLs, FIN both ways finishes the flow', () => {
    const frames = [tcp('a', 'S', 1000), tcp('b', 'SA', 5000), tcp('a', 'A', 1001), tcp('a', 'FA', 1001), tcp('b', 'FA', 5001), tcp('a', 'A', 1002)];
    const times = [T0, T0 + 0.033, T0 + 0.05, T0 + 3000, T0 + 3000.5, T0 + 3001];
    const t = new FlowTable({ extraTCPMetric: true, reassembleTCP: true });
    frames.forEach((f, i) => {
      t.processPacket(f, 0, f.length, f.length, times[i], LINKTYPE_ETHERNET);
      if (i === 3) assert.equal(t.getFlows()[0].toJSON().FinishType, undefined, 'one FIN does not finish a flow');
    });
    const f = t.getFlows()[0].toJSON();
    assert.equal(f.Metric.RTT, 33000);
    assert.equal(f.FinishType, 2);
    const m = f.TCPMetric!;
    assert.deepEqual([m.ABSynStart, m.BASynStart, m.ABSynTTL, m.BASynTTL], [T0, T0, 64, 55]);
    assert.deepEqual([m.ABFinStart, m.BAFinStart], [T0 + 3000, T0 + 3000]);
    assert.deepEqual([m.ABSawStart, m.ABSawEnd, m.BASawStart, m.BASawEnd], [1, 1, 1, 1]);
    assert.deepEqual(Object.keys(m).slice(0, 6), ['ABSynStart', 'BASynStart', 'ABSynTTL', 'BASynTTL', 'ABFinStart', 'BAFinStart']);
  });

  it('RST finishes a flow with TCP_RST and gives the RTT when no SYN/ACK came', () => {
    const [f] = run([tcp('a', 'S', 1), tcp('b', 'RA', 0)], { extraTCPMetric: true }, LINKTYPE_ETHERNET, [T0, T0 + 2]);
    assert.equal(f.FinishType, 3);
    assert.equal(f.Metric.RTT, 2000000);
    assert.equal(f.TCPMetric!.BARstStart, T0 + 2);
  });

  it('segment tracker: out-of-order and skipped segments per direction', () => {
    const frames = [
      tcp('a', 'S', 100),
      tcp('b', 'SA', 900),
      tcp('b', 'A', 901, 100), // 901..1001
      tcp('b', 'A', 1101, 100), // early: 1101..1201
      tcp('b', 'A', 1201, 100), // early: 1201..1301
      tcp('b', 'A', 1001, 100), // fills the gap: the two early ones are delivered late
    ];
    const [f] = run(frames, { extraTCPMetric: true, reassembleTCP: true });
    const m = f.TCPMetric!;
    assert.equal(m.BASegmentOutOfOrder, 2);
    assert.equal(m.BAPackets, 5);
    assert.equal(m.BABytes, 400);
    assert.equal(m.ABSegmentOutOfOrder, 0);
    assert.equal(m.BASegmentSkipped, 0);
  });

  it('TCPMetric only with extraTCPMetric, segment counters only with reassembleTCP', () => {
    const frames = [tcp('a', 'S', 1), tcp('a', 'A', 2, 10)];
    assert.equal(run(frames)[0].TCPMetric, undefined);
    const noReassembly = run(frames, { extraTCPMetric: true })[0].TCPMetric!;
    assert.equal(noReassembly.ABPackets, 0);
    assert.equal(run(frames, { extraTCPMetric: true, reassembleTCP: true })[0].TCPMetric!.ABBytes, 10);
  });

  it('DNS extra layer: the last message of the flow wins, with its capture time', () => {
    const q = dnsMessage({ id: 77, questions: [{ name: 'example.org', type: 28 }] });
    const r = dnsMessage({
      id: 77,
      response: true,
      questions: [{ name: 'example.org', type: 28 }],
      answers: [
        { name: 'example.org', type: 5, ttl: 30, data: 'www.example.org' },
        { name: 'www.example.org', type: 28, ttl: 7, data: '2001:db8::1' },
        { name: 'www.example.org', type: 99, data: Uint8Array.from([1, 2]) },
      ],
    });
    const query = new PacketBuilder().ethernet(A, B).ipv4('10.0.0.1', '10.0.0.53').udp(41000, 53).payload(q).build();
    const resp = new PacketBuilder().ethernet(B, A).ipv4('10.0.0.53', '10.0.0.1').udp(53, 41000).payload(r).build();
    const times = [T0 + 0.123456, T0 + 4.5];
    const [f] = run([query, resp], { extraLayers: 2 }, LINKTYPE_ETHERNET, times);
    assert.equal(f.Application, 'DNS');
    const dns = f.DNS!;
    assert.equal(dns.ID, 77);
    assert.equal(dns.QR, true);
    assert.equal(dns.ResponseCode, 'No Error');
    assert.equal(dns.OpCode, 'Query');
    assert.deepEqual(dns.Questions, [{ Name: 'example.org', Type: 'AAAA', Class: 'IN' }]);
    assert.equal(dns.ANCount, 3);
    assert.deepEqual(dns.Answers, [
      { Name: 'example.org', Type: 'CNAME', Class: 'IN', TTL: 30, DataLength: 17, CNAME: 'www.example.org' },
      { Name: 'www.example.org', Type: 'AAAA', Class: 'IN', TTL: 7, DataLength: 16, IP: '2001:db8::1' },
    ]);
    assert.equal(dns.Authorities, null);
    assert.equal(dns.Timestamp, new Date(T0 + 4).toISOString().slice(0, 19) + '.0045Z');
    assert.equal(run([query, resp])[0].DNS, undefined, 'no DNS without the extra layer');
  });

  it('IPv4 defragmentation: the completing fragment carries the datagram, IPMetric counts fragments', () => {
    const payload = new PacketBuilder().icmpv4Echo(8, 5058, 1).payload(1472).build();
    const first = new PacketBuilder().ethernet(A, B).ipv4('2.1.1.1', '2.1.1.2', { id: 9, moreFragments: true, protocol: 1 }).payload(payload.subarray(0, 1472)).build();
    const last = new PacketBuilder().ethernet(A, B).ipv4('2.1.1.1', '2.1.1.2', { id: 9, fragmentOffset: 1472, protocol: 1 }).payload(payload.subarray(1472)).build();
    const withDefrag = run([first, last], { ipDefrag: true });
    assert.equal(withDefrag.length, 1);
    assert.equal(withDefrag[0].LayersPath, 'Ethernet/IPv4/Fragment/ICMPv4');
    assert.deepEqual(withDefrag[0].IPMetric, { Fragments: 1, FragmentErrors: 0 });
    assert.equal(withDefrag[0].ICMP!.ID, 5058);
    assert.equal(withDefrag[0].Metric.ABBytes, last.length, 'bytes of the completing frame');
    const without = run([first, last]);
    assert.equal(without.length, 1);
    assert.equal(without[0].LayersPath, 'Ethernet/IPv4/Fragment');
    assert.equal(without[0].Metric.ABPackets, 2);
    assert.equal(without[0].IPMetric, undefined);
    // out of order fragments reassemble too; an unfragmented packet has IPMetric {0, 0}
    const reordered = run([last, first, ping(8)], { ipDefrag: true });
    assert.deepEqual(byPath(reordered, 'Ethernet/IPv4/Fragment/ICMPv4')[0].IPMetric, { Fragments: 1, FragmentErrors: 0 });
    assert.deepEqual(byPath(reordered, 'Ethernet/IPv4/ICMPv4')[0].IPMetric, { Fragments: 0, FragmentErrors: 0 });
  });

  it('IPv4 defragmentation errors are counted on the next datagram of the same id', () => {
    const frag = (offset: number, more: boolean, len: number) =>
      new PacketBuilder().ethernet(A, B).ipv4('2.1.1.1', '2.1.1.2', { id: 3, moreFragments: more, fragmentOffset: offset, protocol: 17 }).payload(len).build();
    const t = new FlowTable({ ipDefrag: true });
    const feed = (f: Uint8Array) => t.processPacket(f, 0, f.length, f.length, T0, LINKTYPE_ETHERNET);
    feed(frag(65528, false, 100)); // beyond 65535 bytes: error, dropped
    assert.equal(t.getFlows().length, 0);
    feed(frag(0, true, 16));
    feed(frag(16, false, 16));
    const [f] = t.getFlows().map((x) => x.toJSON());
    assert.deepEqual(f.IPMetric, { Fragments: 1, FragmentErrors: 1 });
  });
});

describe('flow table: robustness', () => {
  it('never throws on garbage and counts decode errors', () => {
    const t = new FlowTable({ ipDefrag: true, extraTCPMetric: true, reassembleTCP: true, extraLayers: 255, rawPacketLimit: 2 });
    let seed = 7;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) & 0xff;
    const base = new PacketBuilder().ethernet(A, B).ipv4('10.0.0.1', '10.0.0.2').udp(4000, 53).payload(dnsMessage({ id: 1, questions: [{ name: 'x.y', type: 1 }] })).build();
    for (let i = 0; i < 5000; i++) {
      const buf = base.slice();
      for (let k = 0; k < 3; k++) buf[rnd() % buf.length] = rnd();
      t.processPacket(buf, 0, rnd() % (buf.length + 1), buf.length, T0 + i, i % 3 === 0 ? LINKTYPE_RAW : LINKTYPE_ETHERNET);
    }
    t.processPacket(new Uint8Array(0), 0, 0, 0, T0, LINKTYPE_ETHERNET);
    assert.equal(t.stats.packets, 5001);
    assert.ok(t.stats.decodeErrors > 0);
    for (const f of t.getFlows()) JSON.stringify(f.toJSON());
  });

  it('reads a packet at an offset inside a larger buffer', () => {
    const p = ping(8);
    const buf = concat(new Uint8Array(37).fill(0xee), p, new Uint8Array(9).fill(0xee));
    const t = new FlowTable();
    t.processPacket(buf, 37, p.length, p.length, T0, LINKTYPE_ETHERNET);
    const [f] = t.getFlows().map((x) => x.toJSON());
    assert.equal(f.LayersPath, 'Ethernet/IPv4/ICMPv4');
    assert.equal(f.Link!.A, A);
  });
});
