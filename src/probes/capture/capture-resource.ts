/**
 * The capture resource of the API (`/api/capture`, reference §3) and the capture types each kind of node
 * supports, shared by the analyzer (which validates and dispatches captures) and the agent (which runs them).
 */

export interface Capture {
  UUID: string;
  GremlinQuery: string;
  BPFFilter?: string;
  Name?: string;
  Description?: string;
  /** '' = the node type's default */
  Type?: string;
  /** Active captures on matched nodes (computed). */
  Count?: number;
  Port?: number;
  SamplingRate?: number;
  PollingInterval?: number;
  RawPacketLimit?: number;
  HeaderSize?: number;
  ExtraTCPMetric?: boolean;
  IPDefrag?: boolean;
  ReassembleTCP?: boolean;
  LayerKeyMode?: string;
  ExtraLayers?: number;
  Target?: string;
  TargetType?: string;
}

/** Every capture type of the original; the ones this implementation runs are in RUNNABLE_TYPES. */
export const CAPTURE_TYPES = ['ovssflow', 'pcapsocket', 'ovsmirror', 'dpdk', 'afpacket', 'pcap', 'ebpf', 'sflow', 'ovsnetflow'] as const;
export const RUNNABLE_TYPES: readonly string[] = ['afpacket', 'pcap', 'sflow', 'ovssflow'];

/** Node types captured through the kernel (AF_PACKET on the interface). */
const KERNEL_INTERFACE_TYPES = new Set([
  'device', 'veth', 'bridge', 'tun', 'tap', 'vxlan', 'gre', 'gretap', 'ip6gre', 'ip6gretap', 'geneve', 'bond', 'vlan', 'macvlan',
  'macvtap', 'ipvlan', 'internal', 'dummy', 'ipip', 'ip6tnl', 'sit', 'vti', 'vrf', 'team', 'erspan', 'ifb', 'loopback', 'wireguard',
]);

/** Capture types a node of `nodeType` supports, the default first; empty when it cannot be captured. */
export function captureTypesFor(nodeType: unknown): string[] {
  if (nodeType === 'ovsbridge') return ['ovssflow', 'pcapsocket', 'ovsnetflow'];
  if (nodeType === 'ovsport') return ['ovsmirror'];
  if (nodeType === 'dpdkport') return ['dpdk'];
  if (typeof nodeType === 'string' && KERNEL_INTERFACE_TYPES.has(nodeType)) return ['afpacket', 'pcap', 'pcapsocket', 'sflow', 'ebpf'];
  return [];
}

/**
 * The capture type to run on a node for a capture (its Type, or the node type's default), or an error message
 * when the node cannot run it here.
 */
export function captureTypeOn(nodeType: unknown, requested: string | undefined): { type: string } | { error: string } {
  const types = captureTypesFor(nodeType);
  if (!types.length) return { error: `nodes of type '${String(nodeType)}' cannot be captured` };
  const type = requested || types[0];
  if (!types.includes(type)) return { error: `capture type '${type}' is not available on nodes of type '${String(nodeType)}' (available: ${types.join(', ')})` };
  if (!RUNNABLE_TYPES.includes(type)) return { error: `capture type '${type}' is not supported by this agent (supported: ${RUNNABLE_TYPES.join(', ')})` };
  return { type };
}

/** An entry of a node's `Captures` metadata. */
export interface CaptureMetadata {
  ID: string;
  State: 'waiting' | 'active' | 'error';
  Name?: string;
  Description?: string;
  BPFFilter?: string;
  Type: string;
  SFlowSocket?: string;
  Error?: string;
  PacketsReceived: number;
  PacketsDropped: number;
  PacketsIfDropped: number;
}

/** `OnDemandCapture` messages between analyzer and agents: Start/Stop `{NodeID, Resource}`, Sync `{Captures: [UUID]}`. */
export const CAPTURE_NAMESPACE = 'OnDemandCapture';
export interface CaptureRequest {
  NodeID: string;
  Resource: Capture;
}

/** Agents' flow messages to the analyzer: namespace `Flow`, type `FlowUpdate`. */
export const FLOW_NAMESPACE = 'Flow';
export const FLOW_UPDATE = 'FlowUpdate';
export interface FlowUpdateMessage {
  CaptureID: string;
  NodeID: string;
  Flows: Array<Record<string, unknown>>;
  /** Kept packets (RawPacketLimit) by flow UUID. */
  RawPackets?: Record<string, Array<{ Timestamp: number; Index: number; Data: string; LinkType: number }>>;
}
