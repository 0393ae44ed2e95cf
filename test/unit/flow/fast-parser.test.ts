import assert from 'node:assert/strict';
import { LINKTYPE_ETHERNET, PacketDecoder } from '../../../src/flow/decoder.js';
import {
  FAST_MAX_LEVELS,
  FastParser,
  LV_AFTER,
  LV_ETH,
  LV_ETH_SPAN,
  LV_HDR_BEFORE,
  LV_ICMP,
  LV_IP_LEN,
  LV_LINK_ID,
  LV_NET,
  LV_NET_ID,
  LV_STRIDE,
  LV_TAGS,
  LV_TR,
  LV_TR_END,
  LV_TR_HDR,
  LV_TR_TYPE,
  LV_TUNNEL,
  LV_V4,
} from '../../../src/flow/fast-parser.js';
import { FlowTable } from '../../../src/flow/table.js';
import type { FlowTableOptions } from '../../../src/flow/table.js';
import { L_DOT1Q, L_GENEVE, L_GRE, L_ICMPV4, L_IPV4, L_VXLAN } from '../../../src/flow/layers.js';
import { PacketBuilder, concat, dnsMessage, geneveOption } from '../../helpers/packet-builder.js';

const M1 = '02:00:00:00:00:01';
const M2 = '02:00:00:00:00:02';
const I1 = '02:00:00:00:01:01';
const I2 = '02:00:00:00:01:02';
const eth = () => new PacketBuilder().ethernet(M1, M2);
const v4 = () => eth().ipv4('10.0.0.1', '10.0.0.2');
const inner = (b: PacketBuilder) => b.ethernet(I1, I2).ipv4('192.168.0.1', '192.168.0.2');

/** Frames FastParser takes apart, by name. */
const ACCEPTED: Record<string, Uint8Array> = {
  'IPv4/TCP': v4().tcp(40000, 80, { flags: 'PA', seq: 7 }).payload(100).build(),
  'IPv4 with options/TCP': eth().ipv4('10.0.0.1', '10.0.0.2', { options: new Uint8Array(8) }).tcp(1, 2).payload(3).build(),
  'IPv4/UDP': v4().udp(5000, 6000).payload(20).build(),
  'IPv4/ICMPv4': v4().icmpv4Echo(8, 9, 1).payload(16).build(),
  'IPv6/TCP': eth().ipv6('fd00::1', 'fd00::2').tcp(1000, 443).payload(10).build(),
  'IPv6/UDP': eth().ipv6('fd00::1', 'fd00::2').udp(1000, 2000).payload(10).build(),
  'QinQ/IPv4/UDP': eth().dot1q(10, { tpid: 0x88a8 }).dot1q(20).ipv4('10.0.0.1', '10.0.0.2').udp(1, 2).payload(4).build(),
  'IPv4 total length 0 (TSO)/TCP': eth().ipv4('10.0.0.1', '10.0.0.2', { totalLength: 0 }).tcp(1, 2).payload(1400).build(),
  'UDP length 0': v4().udp(1, 2, { length: 0 }).payload(30).build(),
  'padded frame': concat(v4().udp(1, 2).payload(2).build(), new Uint8Array(20)),
  'TCP 53 with a DNS message': v4()
    .tcp(33000, 53, { flags: 'PA' })
    .payload(concat(Uint8Array.from([0, 29]), dnsMessage({ id: 1, questions: [{ name: 'example.com', type: 1 }] })))
    .build(),
  'TCP 443 with TLS': v4().tcp(40000, 443).payload(Uint8Array.from([22, 3, 1, 0, 4, 1, 2, 3, 4])).build(),
  'UDP 53 with DNS': v4().udp(33000, 53).payload(dnsMessage({ id: 1, questions: [{ name: 'a.b', type: 1 }] })).build(),
  VXLAN: inner(v4().udp(50000, 4789).vxlan(42)).tcp(1, 2).payload(10).build(),
  'VXLAN 8472': inner(v4().udp(50000, 8472).vxlan(43)).icmpv4Echo(0, 1, 1).build(),
  'Geneve with options': inner(v4().udp(50000, 6081).geneve(44, { options: geneveOption(0x0102, 1, new Uint8Array(4)) }))
    .udp(7, 8)
    .build(),
  'GRE (Ethernet)': inner(v4().gre({ protocol: 0x6558 })).icmpv4Echo(8, 2, 2).payload(8).build(),
  'GRE with key (Ethernet)': inner(v4().gre({ protocol: 0x6558, key: 99 })).tcp(3, 4).build(),
  'IPv6/GRE (Ethernet)': inner(eth().ipv6('fd00::1', 'fd00::2').gre({ protocol: 0x6558 })).udp(3, 4).build(),
  'VXLAN in VXLAN': inner(inner(v4().udp(50000, 4789).vxlan(1)).udp(50001, 4789).vxlan(2)).udp(9, 10).build(),
  'truncated payload': v4().tcp(1, 2).payload(1000).build().subarray(0, 80),
  // the application layer of a port is there only when its payload looks right (flows are created from these)
  'TCP 443 without TLS': v4().tcp(40000, 443).payload(Uint8Array.from([1, 2, 3, 4, 5, 6])).build(),
  'TCP 443 without payload': v4().tcp(40000, 443, { flags: 'S' }).build(),
  'UDP 53 without DNS': v4().udp(33000, 53).payload(Uint8Array.from([1, 2, 3])).build(),
  'TCP 502 Modbus': v4().tcp(40000, 502).payload(Uint8Array.from([0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 1])).build(),
  'UDP 123 NTP': v4().udp(123, 123).payload(48).build(),
  'UDP 123 too short for NTP': v4().udp(40000, 123).payload(47).build(),
  'UDP 67 DHCPv4': v4().udp(68, 67).payload(240).build(),
  'UDP 67 too short for DHCPv4': v4().udp(68, 67).payload(100).build(),
  'UDP 547 DHCPv6': eth().ipv6('fd00::1', 'fd00::2').udp(546, 547).payload(8).build(),
  'UDP 5060 SIP': v4().udp(5060, 5060).payload(new TextEncoder().encode('OPTIONS sip:a@b SIP/2.0\r\n\r\n')).build(),
  'UDP 3784 BFD': v4().udp(49152, 3784).payload(concat(Uint8Array.from([0x20]), new Uint8Array(23))).build(),
  'UDP 6343 sFlow': v4().udp(40000, 6343).payload(28).build(),
  '802.1Q/IPv4/TCP': eth().dot1q(100).ipv4('10.0.0.1', '10.0.0.2').tcp(1, 2).payload(1).build(),
  'GRE with a large key (Ethernet)': inner(v4().gre({ protocol: 0x6558, key: 0xfedcba98 })).udp(3, 4).build(),
  'VXLAN in 802.1Q': inner(eth().dot1q(7).ipv4('10.0.0.1', '10.0.0.2').udp(50000, 4789).vxlan(4242)).tcp(1, 2).build(),
};

/** Frames FastParser leaves to PacketDecoder. */
const DECLINED: Record<string, Uint8Array> = {
  ARP: eth().arp({ senderMAC: M1, senderIP: '10.0.0.1', targetIP: '10.0.0.2' }).build(),
  'IPv4 fragment': eth().ipv4('10.0.0.1', '10.0.0.2', { moreFragments: true, id: 1, protocol: 1 }).payload(40).build(),
  'IPv4 without payload': v4().build(),
  'IP in IP': v4().ipv4('1.1.1.1', '2.2.2.2').icmpv4Echo(8, 1, 1).build(),
  'IPv6 extension header': eth().ipv6('fd00::1', 'fd00::2').ipv6Ext(0).tcp(1, 2).build(),
  ICMPv6: eth().ipv6('fd00::1', 'fd00::2').icmpv6Echo(128, 1, 1).build(),
  SCTP: v4().sctp(1, 2, [{ type: 0, data: new Uint8Array(4) }]).build(),
  'MPLS over UDP': v4().udp(1, 6635).mpls(5).ipv4('1.1.1.1', '2.2.2.2').udp(1, 2).build(),
  'GTP-U': v4().udp(2152, 2152).payload(Uint8Array.from([0x30, 0xff, 0, 4, 0, 0, 0, 1, 0x45, 0, 0, 20])).build(),
  'GRE carrying IPv4': v4().gre().ipv4('1.1.1.1', '2.2.2.2').icmpv4Echo(8, 1, 1).build(),
  'GRE with sequence number': inner(v4().gre({ protocol: 0x6558, seq: 1 })).udp(1, 2).build(),
  'ERSPAN II': inner(v4().gre().erspan2(3)).udp(1, 2).build(),
  'VXLAN header cut': v4().udp(1, 4789).payload(4).build(),
  'VXLAN without a frame': v4().udp(1, 4789).vxlan(3).build(),
  'Geneve carrying IPv4': v4().udp(1, 6081).geneve(5, { protocol: 0x0800 }).ipv4('1.1.1.1', '2.2.2.2').udp(1, 2).build(),
  '802.3 LLC': new PacketBuilder().ethernet(M1, M2, 40).payload(40).build(),
  'three 802.1Q tags': eth().dot1q(1).dot1q(2).dot1q(3).ipv4('10.0.0.1', '10.0.0.2').udp(1, 2).build(),
  'TCP header cut': v4().tcp(1, 2).build().subarray(0, 14 + 20 + 12),
  'bad TCP data offset': (() => {
    const f = v4().tcp(1, 2).build();
    f[14 + 20 + 12] = 0x30;
    return f;
  })(),
  'IPv4 total length below the header': eth().ipv4('10.0.0.1', '10.0.0.2', { totalLength: 10 }).udp(1, 2).build(),
  'five levels': (() => {
    let b = v4().udp(1, 4789).vxlan(1);
    for (let i = 0; i < FAST_MAX_LEVELS; i++) b = inner(b).udp(1, 4789).vxlan(i + 2);
    return inner(b).udp(1, 2).build();
  })(),
};

/** What the table reads of each level, from PacketDecoder, in FastParser's terms. */
function decoderLevels(frame: Uint8Array): number[][] {
  const d = new PacketDecoder();
  d.decode(frame, 0, frame.length, LINKTYPE_ETHERNET);
  assert.equal(d.malformed, false, 'the decoder finds nothing malformed');
  assert.equal(d.fragLayer, -1, 'nor a fragment');
  const levels: number[][] = [];
  for (let s = 0; s < d.subCount; s++) {
    const lv = new Array<number>(LV_STRIDE).fill(NaN);
    const eth = d.subEth[s];
    const net = d.subNet[s];
    const tr = d.subTrans[s];
    const last = d.types[d.subEnd[s] - 1];
    lv[LV_ETH] = d.offs[eth];
    lv[LV_ETH_SPAN] = d.ends[eth] - d.offs[eth];
    lv[LV_NET] = d.offs[net];
    lv[LV_V4] = d.types[net] === L_IPV4 ? 1 : 0;
    lv[LV_IP_LEN] = d.ipLengthField(net);
    lv[LV_TR] = tr >= 0 ? d.offs[tr] : -1;
    if (tr >= 0) {
      lv[LV_TR_TYPE] = d.types[tr];
      lv[LV_TR_HDR] = d.lens[tr];
      lv[LV_TR_END] = d.ends[tr];
    }
    lv[LV_TUNNEL] = last === L_VXLAN || last === L_GENEVE ? d.vals[d.subEnd[s] - 1] : -1;
    lv[LV_ICMP] = d.subIcmp[s] >= 0 && d.types[d.subIcmp[s]] === L_ICMPV4 ? d.offs[d.subIcmp[s]] : -1;
    if (tr < 0 && d.subIcmp[s] < 0) lv[LV_AFTER] = d.types[net + 1];
    lv[LV_HDR_BEFORE] = d.subHdrBefore[s];
    let tags = 0;
    let linkId = 0;
    for (let i = d.subEnd[s] - 1; i >= d.subStart[s]; i--) {
      if (d.types[i] !== L_DOT1Q) continue;
      tags++;
      linkId = linkId * 4096 + d.vals[i];
    }
    lv[LV_TAGS] = tags;
    lv[LV_LINK_ID] = linkId;
    const tunnel = d.tunnelLayer(s);
    lv[LV_NET_ID] = tunnel >= 0 ? d.vals[tunnel] : 0;
    levels.push(lv);
  }
  return levels;
}

function fastLevels(frame: Uint8Array): number[][] {
  const p = new FastParser();
  const n = p.parse(frame, new DataView(frame.buffer, frame.byteOffset, frame.byteLength), 0, frame.length);
  const levels: number[][] = [];
  for (let k = 0; k < n; k++) {
    const l = k * LV_STRIDE;
    const lv = new Array<number>(LV_STRIDE).fill(NaN);
    const always = [LV_ETH, LV_ETH_SPAN, LV_NET, LV_V4, LV_IP_LEN, LV_TR, LV_TUNNEL, LV_ICMP, LV_HDR_BEFORE, LV_TAGS, LV_LINK_ID];
    for (const f of always) lv[f] = p.lv[l + f];
    lv[LV_NET_ID] = p.lv[l + LV_NET_ID] >>> 0;
    if (lv[LV_TR] >= 0) for (const f of [LV_TR_TYPE, LV_TR_HDR, LV_TR_END]) lv[f] = p.lv[l + f];
    if (lv[LV_TR] < 0 && lv[LV_ICMP] < 0) lv[LV_AFTER] = p.lv[l + LV_AFTER];
    levels.push(lv);
  }
  return levels;
}

/** Each frame in both directions: MACs, IPs and ports swapped (where they are at the usual offsets). */
function reversed(frame: Uint8Array): Uint8Array {
  const r = Uint8Array.from(frame);
  const swap = (a: number, b: number, n: number) => {
    const t = r.slice(a, a + n);
    r.copyWithin(a, b, b + n);
    r.set(t, b);
  };
  swap(0, 6, 6);
  if (r[12] === 0x08 && r[13] === 0x00) {
    swap(26, 30, 4);
    if (r[23] === 6 || r[23] === 17) swap(34, 36, 2);
  } else if (r[12] === 0x86 && r[13] === 0xdd) {
    swap(22, 38, 16);
    if (r[20] === 6 || r[20] === 17) swap(54, 56, 2);
  }
  return r;
}

describe('FastParser', () => {
  for (const [name, frame] of Object.entries(ACCEPTED)) {
    it(`takes apart ${name} as the decoder does`, () => {
      const fast = fastLevels(frame);
      assert.ok(fast.length > 0, 'accepted');
      assert.deepEqual(fast, decoderLevels(frame));
    });
  }

  it('keeps what the table needs per level: tunnels, GRE, ICMP, lengths', () => {
    const [outer, vxInner] = fastLevels(ACCEPTED.VXLAN);
    assert.equal(outer[LV_TUNNEL], 42);
    assert.equal(vxInner[LV_HDR_BEFORE], 14 + 20 + 8 + 8);
    const [gre] = fastLevels(ACCEPTED['GRE with key (Ethernet)']);
    assert.deepEqual([gre[LV_TR], gre[LV_ICMP], gre[LV_AFTER]], [-1, -1, L_GRE]);
    const [icmp] = fastLevels(ACCEPTED['IPv4/ICMPv4']);
    assert.equal(icmp[LV_ICMP], 34);
    assert.equal(fastLevels(ACCEPTED['IPv4 total length 0 (TSO)/TCP'])[0][LV_IP_LEN], 20 + 20 + 1400);
    assert.equal(fastLevels(ACCEPTED['padded frame'])[0][LV_IP_LEN], 20 + 8 + 2);
    assert.equal(fastLevels(ACCEPTED['VXLAN in VXLAN']).length, 3);
  });

  for (const [name, frame] of Object.entries(DECLINED)) {
    it(`leaves ${name} to the decoder`, () => {
      assert.equal(fastLevels(frame).length, 0);
    });
  }
});

describe('flow table: the fast path counts as the decoder path', () => {
  const all = [...Object.values(ACCEPTED), ...Object.values(DECLINED)];
  const traffic: Uint8Array[] = [];
  // every flow several times, both ways, interleaved
  for (let round = 0; round < 3; round++) for (const f of all) traffic.push(f, reversed(f));
  // same addresses on both ends (direction by port), same MACs (direction by IP)
  const sameIP = eth().ipv4('10.0.0.9', '10.0.0.9').tcp(1000, 2000, { flags: 'PA' }).payload(5).build();
  const sameMAC = new PacketBuilder().ethernet(M1, M1).ipv4('10.0.0.1', '10.0.0.2').udp(1, 2).build();
  for (let round = 0; round < 3; round++) traffic.push(sameIP, reversed(sameIP), sameMAC, reversed(sameMAC));

  for (const opts of [
    { layerKeyMode: 'L2', ipDefrag: true, extraTCPMetric: true, reassembleTCP: true },
    { layerKeyMode: 'L3', ipDefrag: false, extraTCPMetric: true, reassembleTCP: false },
    { layerKeyMode: 'L2', maxEntries: 7 },
  ] as FlowTableOptions[]) {
    it(`same flows, counters and stats: ${JSON.stringify(opts)}`, () => {
      const tables = [new FlowTable(opts), new FlowTable({ ...opts, fastPath: false })];
      const reports: string[][] = [[], []];
      traffic.forEach((f, i) => {
        for (const [k, t] of tables.entries()) {
          const wireLen = i % 5 === 0 ? 0 : f.length + (i % 3);
          t.processPacket(f, 0, f.length, wireLen, 1_700_000_000_000 + i * 3, LINKTYPE_ETHERNET);
          if (i % 40 === 39) reports[k].push(JSON.stringify(t.update(1_700_000_000_000 + i * 3).map((x) => x.toJSON())));
        }
      });
      const [fast, slow] = tables.map((t) => JSON.stringify(t.getFlows().map((f) => f.toJSON())));
      assert.equal(fast, slow);
      assert.deepEqual(reports[0], reports[1]);
      assert.deepEqual(tables[0].stats, tables[1].stats);
      assert.ok(tables[0].stats.flowsCreated > 20);
    });
  }
});
