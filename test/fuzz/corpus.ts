import { PacketBuilder, dnsMessage, geneveOption } from '../helpers/packet-builder.js';

/**
 * Seed frames for the decoder fuzzer that the shared captures lack: every encapsulation and extra layer the flow
 * decoder knows (VLAN stacks, GRE with and without key, ERSPAN II, VXLAN on 4789 and 8472, Geneve, MPLS stacks,
 * IP-in-IP, 6in4, IPv4 and IPv6 fragments, IPv6 extension headers, DNS over UDP and TCP, DHCPv4, VRRP, SCTP,
 * ICMPv4/v6), all Ethernet-framed.
 */

const M1 = '02:00:00:00:00:01';
const M2 = '02:00:00:00:00:02';
const eth = () => new PacketBuilder().ethernet(M1, M2);
const v4 = () => eth().ipv4('10.0.0.1', '10.0.0.2');
const v6 = () => eth().ipv6('fd00::1', 'fd00::2');

function dhcpDiscover(): Uint8Array {
  const b = new Uint8Array(244);
  b.set([1, 1, 6, 0, 0x12, 0x34, 0x56, 0x78]);
  b.set([2, 0, 0, 0, 0, 1], 28);
  b.set([0x63, 0x82, 0x53, 0x63, 53, 1, 1, 255], 236);
  return b;
}

const VRRP = Uint8Array.from([0x21, 7, 100, 1, 0, 1, 0, 0, 10, 0, 0, 254, 0, 0, 0, 0, 0, 0, 0, 0]);

export function syntheticFrames(): Uint8Array[] {
  const query = dnsMessage({ id: 0x1234, questions: [{ name: 'www.example.com', type: 1 }] });
  const answer = dnsMessage({
    id: 0x1234,
    response: true,
    questions: [{ name: 'www.example.com', type: 1 }],
    answers: [
      { name: 'www.example.com', type: 5, data: 'web.example.com' },
      { name: 'web.example.com', type: 1, data: '93.184.216.34' },
      { name: 'web.example.com', type: 28, data: '2001:db8::1' },
      { name: 'example.com', type: 16, data: Uint8Array.from([3, 0x61, 0x62, 0x63]) },
    ],
  });
  const tcpDNS = new Uint8Array(2 + query.length);
  tcpDNS.set([query.length >> 8, query.length & 0xff]);
  tcpDNS.set(query, 2);
  const innerIcmp = (b: PacketBuilder) => b.ethernet('02:00:00:00:01:01', '02:00:00:00:01:02').ipv4('192.168.0.1', '192.168.0.2').icmpv4Echo(8, 7, 1);
  return [
    v4().icmpv4Echo(8, 42, 1).payload(32).build(),
    v4().icmpv4Echo(0, 42, 1).payload(32).build(),
    v4().icmpv4(3, 1).payload(28).build(),
    v4().icmpv4(13).payload(12).build(),
    v4().tcp(40000, 80, { flags: 'S' }).build(),
    v4().tcp(80, 40000, { flags: 'SA', ack: 1 }).build(),
    v4().tcp(40000, 80, { flags: 'FA', seq: 100 }).payload(10).build(),
    v4().tcp(40000, 80, { flags: 'R' }).build(),
    v4().tcp(33001, 53, { flags: 'PA' }).payload(tcpDNS).build(),
    v4().tcp(40000, 443, { flags: 'PA' }).payload(Uint8Array.from([0x16, 3, 1, 0, 5, 1, 0, 0, 1, 0])).build(),
    v4().udp(33000, 53).payload(query).build(),
    v4().udp(53, 33000).payload(answer).build(),
    v4().udp(68, 67).payload(dhcpDiscover()).build(),
    v4().udp(123, 123).payload(48).build(),
    v4().sctp(5000, 5001, [{ type: 1, data: new Uint8Array(16) }, { type: 0, data: new Uint8Array(8) }]).build(),
    eth().ipv4('10.0.0.1', '224.0.0.18', { protocol: 112 }).payload(VRRP).build(),
    eth().arp({ senderMAC: M1, senderIP: '10.0.0.1', targetIP: '10.0.0.2' }).build(),
    eth().dot1q(8).dot1q(10).ipv4('10.0.0.1', '10.0.0.2').icmpv4Echo(8, 9, 1).build(),
    eth().dot1q(20, { tpid: 0x88a8 }).dot1q(30).ipv4('10.0.0.1', '10.0.0.2').udp(1, 2).build(),
    innerIcmp(v4().gre({ protocol: 0x6558 })).build(),
    v4().gre({ key: 7 }).ipv4('172.16.0.1', '172.16.0.2').gre().ipv4('192.168.0.1', '192.168.0.2').icmpv4Echo(8, 1, 1).build(),
    v4().gre({ checksum: true, seq: 5 }).ipv6('fd01::1', 'fd01::2').udp(1, 2).build(),
    innerIcmp(v4().gre().erspan2(3)).build(),
    v4().gre().mpls(100, { bottom: false }).mpls(200).ipv4('192.168.0.1', '192.168.0.2').icmpv4Echo(8, 2, 2).build(),
    innerIcmp(v4().udp(55000, 4789).vxlan(10)).build(),
    innerIcmp(v4().udp(55001, 8472).vxlan(11)).build(),
    innerIcmp(v4().udp(55002, 6081).geneve(12, { options: geneveOption(0x0102, 1, new Uint8Array(4)) })).build(),
    v4().udp(55003, 4789).vxlan(13).build(),
    eth().mpls(16, { bottom: false }).mpls(17, { bottom: false }).mpls(18).ipv4('10.0.0.1', '10.0.0.2').tcp(1, 2).build(),
    v4().ipv4('192.168.0.1', '192.168.0.2').icmpv4Echo(8, 3, 3).build(),
    v4().ipv6('fd02::1', 'fd02::2').icmpv6Echo(128, 4, 4).build(),
    v4().icmpv4Echo(8, 5, 1).payload(1480).build(),
    new PacketBuilder().ethernet(M1, M2).ipv4('10.0.0.1', '10.0.0.2', { id: 77, moreFragments: true, protocol: 1 }).payload(1480).build(),
    new PacketBuilder().ethernet(M1, M2).ipv4('10.0.0.1', '10.0.0.2', { id: 77, fragmentOffset: 1480, protocol: 1 }).payload(200).build(),
    v6().icmpv6Echo(128, 6, 1).payload(16).build(),
    v6().icmpv6(135).payload(20).build(),
    v6().ipv6Ext(0).udp(546, 547).build(),
    v6().ipv6Ext(60).tcp(1, 2, { flags: 'S' }).build(),
    v6().ipv6Fragment(0, true, 9).payload(64).build(),
    v6().udp(5353, 53).payload(query).build(),
    new PacketBuilder().ethernet(M1, M2, 0x0800).build(),
    new Uint8Array(0),
    new Uint8Array(13).fill(0xff),
  ];
}
