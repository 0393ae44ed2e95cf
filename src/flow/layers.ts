/**
 * Layer type ids used by the packet decoder, with the gopacket layer names that make up a flow's LayersPath.
 * Ids are small integers so that a decoded packet is a few typed arrays, never objects.
 */

export const L_NONE = 0;
export const L_ETHERNET = 1;
export const L_DOT1Q = 2;
export const L_MPLS = 3;
export const L_ARP = 4;
export const L_IPV4 = 5;
export const L_IPV6 = 6;
export const L_IPV6_HOPBYHOP = 7;
export const L_IPV6_ROUTING = 8;
export const L_IPV6_FRAGMENT = 9;
export const L_IPV6_DESTINATION = 10;
export const L_FRAGMENT = 11;
export const L_TCP = 12;
export const L_UDP = 13;
export const L_SCTP = 14;
export const L_ICMPV4 = 15;
export const L_ICMPV6 = 16;
export const L_ICMPV6_ECHO = 17;
export const L_ICMPV6_ROUTER_SOLICITATION = 18;
export const L_ICMPV6_ROUTER_ADVERTISEMENT = 19;
export const L_ICMPV6_NEIGHBOR_SOLICITATION = 20;
export const L_ICMPV6_NEIGHBOR_ADVERTISEMENT = 21;
export const L_ICMPV6_REDIRECT = 22;
export const L_GRE = 23;
export const L_VXLAN = 24;
export const L_GENEVE = 25;
export const L_DNS = 26;
export const L_TLS = 27;
export const L_NTP = 28;
export const L_DHCPV4 = 29;
export const L_DHCPV6 = 30;
export const L_SIP = 31;
export const L_SFLOW = 32;
export const L_BFD = 33;
export const L_GTPV1U = 34;
export const L_MODBUSTCP = 35;
export const L_VRRPV2 = 36;
export const L_IGMP = 37;
export const L_IPSEC_AH = 38;
export const L_IPSEC_ESP = 39;
export const L_LLC = 40;
export const L_SNAP = 41;
export const L_STP = 42;
export const L_LINUX_SLL = 43;
// SCTP chunks are layers of their own in gopacket
export const L_SCTP_DATA = 44;
export const L_SCTP_INIT = 45;
export const L_SCTP_INIT_ACK = 46;
export const L_SCTP_SACK = 47;
export const L_SCTP_HEARTBEAT = 48;
export const L_SCTP_HEARTBEAT_ACK = 49;
export const L_SCTP_ABORT = 50;
export const L_SCTP_SHUTDOWN = 51;
export const L_SCTP_SHUTDOWN_ACK = 52;
export const L_SCTP_ERROR = 53;
export const L_SCTP_COOKIE_ECHO = 54;
export const L_SCTP_COOKIE_ACK = 55;
export const L_SCTP_SHUTDOWN_COMPLETE = 56;
export const L_SCTP_UNKNOWN = 57;

/** gopacket's LayerType().String() for each id. */
export const LAYER_NAMES: readonly string[] = [
  '',
  'Ethernet',
  'Dot1Q',
  'MPLS',
  'ARP',
  'IPv4',
  'IPv6',
  'IPv6HopByHop',
  'IPv6Routing',
  'IPv6Fragment',
  'IPv6Destination',
  'Fragment',
  'TCP',
  'UDP',
  'SCTP',
  'ICMPv4',
  'ICMPv6',
  'ICMPv6Echo',
  'ICMPv6RouterSolicitation',
  'ICMPv6RouterAdvertisement',
  'ICMPv6NeighborSolicitation',
  'ICMPv6NeighborAdvertisement',
  'ICMPv6Redirect',
  'GRE',
  'VXLAN',
  'Geneve',
  'DNS',
  'TLS',
  'NTP',
  'DHCPv4',
  'DHCPv6',
  'SIP',
  'SFlow',
  'BFD',
  'GTPv1U',
  'ModbusTCP',
  'VRRPv2',
  'IGMP',
  'IPSecAH',
  'IPSecESP',
  'LLC',
  'SNAP',
  'STP',
  'LinuxSLL',
  'SCTPData',
  'SCTPInit',
  'SCTPInitAck',
  'SCTPSack',
  'SCTPHeartbeat',
  'SCTPHeartbeatAck',
  'SCTPAbort',
  'SCTPShutdown',
  'SCTPShutdownAck',
  'SCTPError',
  'SCTPCookieEcho',
  'SCTPCookieAck',
  'SCTPShutdownComplete',
  'SCTPUnknownChunkType',
];

/** Skydive's ICMPType enum, by value. Request and reply of a pair share one value. */
export const ICMP_TYPE_NAMES: readonly string[] = [
  'UNKNOWN',
  'DESTINATION_UNREACHABLE',
  'ECHO',
  'NEIGHBOR',
  'ADDRESS_MASK',
  'INFO',
  'PARAMETER_PROBLEM',
  'REDIRECT',
  'ROUTER',
  'SOURCE_QUENCH',
  'TIME_EXCEEDED',
  'TIMESTAMP',
  'PACKET_TOO_BIG',
];
export const ICMP_ECHO = 2;

/** ICMPv4 type → skydive ICMPType value. */
export function icmpv4Kind(type: number): number {
  switch (type) {
    case 0:
    case 8:
      return ICMP_ECHO;
    case 3:
      return 1;
    case 4:
      return 9;
    case 5:
      return 7;
    case 9:
    case 10:
      return 8;
    case 11:
      return 10;
    case 12:
      return 6;
    case 13:
    case 14:
      return 11;
    case 15:
    case 16:
      return 5;
    case 17:
    case 18:
      return 4;
    default:
      return 0;
  }
}

/** ICMPv6 type → skydive ICMPType value. */
export function icmpv6Kind(type: number): number {
  switch (type) {
    case 1:
      return 1;
    case 2:
      return 12;
    case 3:
      return 10;
    case 4:
      return 6;
    case 128:
    case 129:
      return ICMP_ECHO;
    case 133:
    case 134:
      return 8;
    case 135:
    case 136:
      return 3;
    case 137:
      return 7;
    default:
      return 0;
  }
}

/** Skydive FlowProtocol names (serialised as strings). */
export const PROTO_ETHERNET = 'ETHERNET';
export const PROTO_IPV4 = 'IPV4';
export const PROTO_IPV6 = 'IPV6';
export const PROTO_TCP = 'TCP';
export const PROTO_UDP = 'UDP';
export const PROTO_SCTP = 'SCTP';

/** ExtraLayers bitmask values (flow.ExtraLayers in the original). */
export const EXTRA_VRRP = 1;
export const EXTRA_DNS = 2;
export const EXTRA_DHCPV4 = 4;
export const EXTRA_ALL = 255;
