import assert from 'node:assert/strict';
import { LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_RAW, PacketDecoder } from '../../../src/flow/decoder.js';
import { LAYER_NAMES } from '../../../src/flow/layers.js';
import { PacketBuilder, concat, dnsMessage, geneveOption } from '../../helpers/packet-builder.js';

const M1 = '02:00:00:00:00:01';
const M2 = '02:00:00:00:00:02';

/** Layer names of the decoded packet, and its sub-packets as "A/B | C/D". */
function decode(frame: Uint8Array, linkType = LINKTYPE_ETHERNET): { layers: string; subs: string; malformed: boolean } {
  const d = new PacketDecoder();
  d.decode(frame, 0, frame.length, linkType);
  const names = Array.from(d.types.subarray(0, d.n), (t) => LAYER_NAMES[t]);
  const n = d.split();
  const subs: string[] = [];
  for (let s = 0; s < n; s++) subs.push(names.slice(d.subStart[s], d.subEnd[s]).join('/'));
  return { layers: names.join('/'), subs: subs.join(' | '), malformed: d.malformed };
}

const eth = () => new PacketBuilder().ethernet(M1, M2);

describe('flow decoder: layer paths (gopacket names)', () => {
  it('decodes Ethernet/IPv4 with TCP, UDP, ICMPv4 and SCTP chunks', () => {
    assert.equal(decode(eth().ipv4('10.0.0.1', '10.0.0.2').tcp(1000, 80).payload(10).build()).layers, 'Ethernet/IPv4/TCP');
    assert.equal(decode(eth().ipv4('10.0.0.1', '10.0.0.2').udp(1000, 9999).payload(4).build()).layers, 'Ethernet/IPv4/UDP');
    assert.equal(decode(eth().ipv4('10.0.0.1', '10.0.0.2').icmpv4Echo(8, 1, 1).build()).layers, 'Ethernet/IPv4/ICMPv4');
    const sctp = eth()
      .ipv4('10.0.0.1', '10.0.0.2')
      .sctp(5000, 6000, [{ type: 1, data: new Uint8Array(16) }, { type: 0, data: new Uint8Array(13) }])
      .build();
    assert.equal(decode(sctp).layers, 'Ethernet/IPv4/SCTP/SCTPInit/SCTPData');
  });

  it('decodes IPv6 with extension headers, ICMPv6 echo and neighbor discovery', () => {
    const echo = eth().ipv6('fd00::1', 'fd00::2').icmpv6Echo(128, 7, 1).payload(8).build();
    assert.equal(decode(echo).layers, 'Ethernet/IPv6/ICMPv6/ICMPv6Echo');
    const ns = eth().ipv6('fd00::1', 'ff02::1:ff00:2').icmpv6(135).payload(20).build();
    assert.equal(decode(ns).layers, 'Ethernet/IPv6/ICMPv6/ICMPv6NeighborSolicitation');
    const ext = eth().ipv6('fd00::1', 'fd00::2').ipv6Ext(0).ipv6Ext(60).tcp(1, 2).build();
    assert.equal(decode(ext).layers, 'Ethernet/IPv6/IPv6HopByHop/IPv6Destination/TCP');
    const frag = eth().ipv6('fd00::1', 'fd00::2').ipv6Fragment(0, true).udp(1, 2).payload(40).build();
    assert.equal(decode(frag).layers, 'Ethernet/IPv6/IPv6Fragment/Fragment');
  });

  it('stops an IPv4 fragment at Fragment', () => {
    const first = eth().ipv4('10.0.0.1', '10.0.0.2', { moreFragments: true, id: 9 }).icmpv4Echo(8, 1, 1).payload(40).build();
    assert.equal(decode(first).layers, 'Ethernet/IPv4/Fragment');
    const last = eth().ipv4('10.0.0.1', '10.0.0.2', { fragmentOffset: 48, id: 9, protocol: 1 }).payload(40).build();
    assert.equal(decode(last).layers, 'Ethernet/IPv4/Fragment');
  });

  it('decodes ARP and 802.1Q / 802.1ad stacks of any depth', () => {
    const arp = eth().arp({ senderMAC: M1, senderIP: '10.0.0.1', targetIP: '10.0.0.2' }).build();
    assert.equal(decode(arp).layers, 'Ethernet/ARP');
    const qinq = eth().dot1q(8, { tpid: 0x88a8 }).dot1q(10).dot1q(20).dot1q(30).ipv4('1.1.1.1', '2.2.2.2').icmpv4Echo(8, 1, 1).build();
    assert.equal(decode(qinq).layers, 'Ethernet/Dot1Q/Dot1Q/Dot1Q/Dot1Q/IPv4/ICMPv4');
  });

  it('names DNS on UDP and TCP port 53 only when the message decodes', () => {
    const msg = dnsMessage({ id: 1, questions: [{ name: 'example.com', type: 1 }] });
    assert.equal(decode(eth().ipv4('10.0.0.1', '10.0.0.2').udp(33000, 53).payload(msg).build()).layers, 'Ethernet/IPv4/UDP/DNS');
    const tcp = eth().ipv4('10.0.0.1', '10.0.0.2').tcp(33000, 53).payload(concat(Uint8Array.from([0, msg.length]), msg)).build();
    assert.equal(decode(tcp).layers, 'Ethernet/IPv4/TCP/DNS');
    const junk = eth().ipv4('10.0.0.1', '10.0.0.2').udp(33000, 53).payload(Uint8Array.from([1, 2, 3, 0, 0, 9, 0, 0, 0, 0, 0, 0, 5])).build();
    assert.equal(decode(junk).layers, 'Ethernet/IPv4/UDP');
    // like gopacket, an empty payload is not decoded: a SYN to port 53 is plain TCP
    assert.equal(decode(eth().ipv4('10.0.0.1', '10.0.0.2').tcp(33000, 53, { flags: 'S' }).build()).layers, 'Ethernet/IPv4/TCP');
  });

  it('applies the other application ports of gopacket (destination port first)', () => {
    const tls = Uint8Array.from([22, 3, 1, 0, 4, 1, 2, 3, 4]);
    assert.equal(decode(eth().ipv4('10.0.0.1', '10.0.0.2').tcp(443, 40000).payload(tls).build()).layers, 'Ethernet/IPv4/TCP/TLS');
    assert.equal(decode(eth().ipv4('10.0.0.1', '10.0.0.2').tcp(40000, 443).payload(12).build()).layers, 'Ethernet/IPv4/TCP');
    assert.equal(decode(eth().ipv4('10.0.0.1', '10.0.0.2').udp(123, 123).payload(48).build()).layers, 'Ethernet/IPv4/UDP/NTP');
    assert.equal(decode(eth().ipv4('10.0.0.1', '10.0.0.2').udp(123, 123).payload(20).build()).layers, 'Ethernet/IPv4/UDP');
    assert.equal(decode(eth().ipv4('10.0.0.1', '10.0.0.2').udp(68, 67).payload(300).build()).layers, 'Ethernet/IPv4/UDP/DHCPv4');
  });

  it('decodes raw IP (link types 101, 12, 14) and Linux cooked captures', () => {
    const ip = new PacketBuilder().ipv4('10.0.0.1', '10.0.0.2').icmpv4Echo(8, 1, 1).build();
    for (const lt of [LINKTYPE_RAW, 12, 14]) assert.equal(decode(ip, lt).layers, 'IPv4/ICMPv4');
    const ip6 = new PacketBuilder().ipv6('fd00::1', 'fd00::2').udp(1, 2).build();
    assert.equal(decode(ip6, LINKTYPE_RAW).layers, 'IPv6/UDP');
    const sll = concat(Uint8Array.from([0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 8, 0]), ip);
    assert.equal(decode(sll, LINKTYPE_LINUX_SLL).layers, 'LinuxSLL/IPv4/ICMPv4');
  });
});

describe('flow decoder: tunnels and sub-packets', () => {
  const inner = (b: PacketBuilder) => b.ethernet('02:00:00:00:01:01', '02:00:00:00:01:02').ipv4('192.168.0.1', '192.168.0.2').icmpv4Echo(8, 5, 1);

  it('cuts after VXLAN on ports 4789 and 8472', () => {
    for (const port of [4789, 8472]) {
      const f = inner(eth().ipv4('172.16.0.1', '172.16.0.2').udp(50000, port).vxlan(10)).build();
      assert.equal(decode(f).subs, 'Ethernet/IPv4/UDP/VXLAN | Ethernet/IPv4/ICMPv4');
    }
  });

  it('cuts after Geneve, options included in its header', () => {
    const opts = concat(geneveOption(0x0102, 0x80, Uint8Array.from([1, 2, 3, 4])), geneveOption(0xffff, 1, new Uint8Array(8)));
    const f = inner(eth().ipv4('172.16.0.1', '172.16.0.2').udp(50000, 6081).geneve(11, { options: opts })).build();
    assert.equal(decode(f).subs, 'Ethernet/IPv4/UDP/Geneve | Ethernet/IPv4/ICMPv4');
    // an option running past the announced options length is malformed
    const bad = inner(eth().ipv4('172.16.0.1', '172.16.0.2').udp(50000, 6081).geneve(11, { options: Uint8Array.from([0, 1, 2, 3]) })).build();
    const r = decode(bad);
    assert.equal(r.layers, 'Ethernet/IPv4/UDP');
    assert.equal(r.malformed, true);
  });

  it('decodes GRE with checksum, key and sequence, carrying Ethernet (OVS), IP or MPLS', () => {
    const ovs = inner(eth().ipv4('172.16.0.1', '172.16.0.2').gre({ key: 0x1234, seq: 7, checksum: true })).build();
    assert.equal(decode(ovs).subs, 'Ethernet/IPv4/GRE | Ethernet/IPv4/ICMPv4');
    const ip = eth().ipv4('172.16.0.1', '172.16.0.2').gre().ipv4('10.1.1.1', '10.2.2.2').udp(1, 2).build();
    assert.equal(decode(ip).subs, 'Ethernet/IPv4/GRE | IPv4/UDP');
    // GRE directly followed by MPLS is cut after the label stack, once
    const mpls = eth().ipv4('172.16.0.1', '172.16.0.2').gre().mpls(100).mpls(200).ipv4('10.1.1.1', '10.2.2.2').icmpv4Echo(8, 1, 1).build();
    assert.equal(decode(mpls).subs, 'Ethernet/IPv4/GRE/MPLS/MPLS | IPv4/ICMPv4');
  });

  it('decodes ERSPAN II inside GRE without an ERSPAN layer', () => {
    const f = inner(eth().ipv4('172.16.0.1', '172.16.0.2').gre({ seq: 1 }).erspan2(3)).build();
    assert.equal(decode(f).subs, 'Ethernet/IPv4/GRE | Ethernet/IPv4/ICMPv4');
  });

  it('cuts an MPLS stack once, after its bottom label; MPLS payload is IP by version nibble, else Ethernet', () => {
    const f = eth().mpls(16).mpls(17).mpls(18).ipv4('10.1.1.1', '10.2.2.2').icmpv4Echo(8, 1, 1).build();
    assert.equal(decode(f).subs, 'Ethernet/MPLS/MPLS/MPLS | IPv4/ICMPv4');
    const l2vpn = inner(eth().mpls(16)).build();
    assert.equal(decode(l2vpn).subs, 'Ethernet/MPLS | Ethernet/IPv4/ICMPv4');
    const udp = eth().ipv4('172.16.0.1', '172.16.0.2').udp(50000, 6635).mpls(30).ipv6('fd00::1', 'fd00::2').tcp(1, 2).build();
    assert.equal(decode(udp).subs, 'Ethernet/IPv4/UDP/MPLS | IPv6/TCP');
  });

  it('merges a level without Ethernet or IP into the next one, and drops it at the end', () => {
    // GRE carrying ARP: the ARP level has neither Ethernet nor IP and nothing follows it
    const arp = eth().ipv4('172.16.0.1', '172.16.0.2').gre({ protocol: 0x0806 }).arp({ senderMAC: M1, senderIP: '1.1.1.1', targetIP: '1.1.1.2' }).build();
    assert.equal(decode(arp).subs, 'Ethernet/IPv4/GRE');
    // a capture cut right after the VXLAN header: the chain ends at the outer flow
    const cut = eth().ipv4('172.16.0.1', '172.16.0.2').udp(50000, 4789).vxlan(10).build();
    assert.equal(decode(cut).subs, 'Ethernet/IPv4/UDP/VXLAN');
    // GRE directly followed by MPLS is never cut before the label stack
    const lone = eth().ipv4('172.16.0.1', '172.16.0.2').gre().mpls(5).build();
    assert.equal(decode(lone).subs, 'Ethernet/IPv4/GRE/MPLS');
  });

  it('never cuts at IP-in-IP or 6in4', () => {
    const f = eth().ipv4('1.1.1.1', '2.2.2.2').ipv4('10.0.0.1', '10.0.0.2').icmpv4Echo(8, 1, 1).build();
    assert.equal(decode(f).subs, 'Ethernet/IPv4/IPv4/ICMPv4');
    const g = eth().ipv4('1.1.1.1', '2.2.2.2').ipv6('fd00::1', 'fd00::2').udp(1, 2).build();
    assert.equal(decode(g).subs, 'Ethernet/IPv4/IPv6/UDP');
  });
});

describe('flow decoder: truncated and garbage input', () => {
  const full = new PacketBuilder()
    .ethernet(M1, M2)
    .dot1q(5)
    .ipv4('172.16.0.1', '172.16.0.2')
    .udp(50000, 4789)
    .vxlan(10)
    .ethernet('02:00:00:00:01:01', '02:00:00:00:01:02')
    .ipv4('192.168.0.1', '192.168.0.2')
    .tcp(1000, 53)
    .payload(concat(Uint8Array.from([0, 27]), dnsMessage({ id: 1, questions: [{ name: 'a.example', type: 1 }] })))
    .build();

  it('decodes every truncation of a deep packet without throwing, keeping the layers that fit', () => {
    const d = new PacketDecoder();
    let previous = 0;
    for (let len = 0; len <= full.length; len++) {
      d.decode(full, 0, len, LINKTYPE_ETHERNET);
      assert.ok(d.n >= previous || len < 14, `layer count never shrinks as more bytes are captured (len ${len})`);
      previous = d.n;
      d.split();
    }
    assert.equal(previous, 9);
  });

  it('flags a malformed header and keeps what came before it', () => {
    const badTcp = new PacketBuilder().ethernet(M1, M2).ipv4('10.0.0.1', '10.0.0.2').payload(Uint8Array.from([0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0x20, 0, 0, 0, 0, 0, 0, 0])).build();
    badTcp[23] = 6; // IP protocol TCP, data offset 2 words (< 5)
    const r = decode(badTcp);
    assert.equal(r.layers, 'Ethernet/IPv4');
    assert.equal(r.malformed, true);
    const shortIp = new PacketBuilder().ethernet(M1, M2, 0x0800).payload(Uint8Array.from([0x45, 0, 0, 20])).build();
    assert.equal(decode(shortIp).layers, 'Ethernet');
    assert.equal(decode(shortIp).malformed, true);
  });

  it('keeps an IPv4 layer whose total length is below its header length, and stops there', () => {
    const f = new PacketBuilder().ethernet(M1, M2).ipv4('10.0.0.1', '10.0.0.2', { totalLength: 12 }).udp(1, 2).build();
    const r = decode(f);
    assert.equal(r.layers, 'Ethernet/IPv4');
    assert.equal(r.malformed, true);
  });

  it('survives random bytes and random mutations of valid frames', () => {
    const d = new PacketDecoder();
    let seed = 12345;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) & 0xff;
    for (let i = 0; i < 20000; i++) {
      const buf = i % 2 ? new Uint8Array(1 + (rnd() % 200)).map(() => rnd()) : full.slice();
      if (i % 2 === 0) for (let k = 0; k < 1 + (i % 7); k++) buf[rnd() % buf.length] = rnd();
      for (const lt of [LINKTYPE_ETHERNET, LINKTYPE_RAW]) {
        d.decode(buf, 0, buf.length, lt);
        const n = d.split();
        assert.ok(n >= 0 && d.n <= 64);
      }
    }
  });

  it('rejects an unknown link type as malformed with no layers', () => {
    const d = new PacketDecoder();
    assert.equal(d.decode(full, 0, full.length, 147), 0);
    assert.equal(d.malformed, true);
  });
});
