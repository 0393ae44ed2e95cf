/**
 * What the agent's CaptureManager and a capture worker (a child process inside the captured interface's
 * namespace) say to each other: the worker gets its spec as one JSON argument and writes JSON lines on stdout;
 * the parent writes JSON lines on the worker's stdin.
 */
import type { SFlowIfCounters } from './sflow-decoder.js';

/** Capture types a worker runs: AF_PACKET through libpcap (`afpacket`, `pcap`) or an sFlow collector (`sflow`). */
export type WorkerKind = 'afpacket' | 'pcap' | 'sflow';

export interface FlowTableSettings {
  rawPacketLimit: number;
  extraTCPMetric: boolean;
  ipDefrag: boolean;
  reassembleTCP: boolean;
  layerKeyMode: 'L2' | 'L3';
  extraLayers: number;
  maxEntries?: number;
  /** flow.application_ports.{tcp,udp}: port → application name */
  applicationPorts?: { tcp?: Record<number, string>; udp?: Record<number, string> };
  /** flow.application_timeout.<app> in seconds */
  applicationTimeouts?: Record<string, number>;
}

export interface CaptureWorkerSpec {
  captureID: string;
  nodeTID: string;
  kind: WorkerKind;
  /** Interface to open (afpacket, pcap). */
  ifName?: string;
  /** sflow: UDP address to listen on, and the ports to try in order (0: any; the one bound is in `ready`). */
  listenAddress?: string;
  listenPorts?: number[];
  bpf: string;
  /** Bytes kept per packet (0: whole packets). */
  headerSize: number;
  /** Kernel ring size in bytes (afpacket, pcap). */
  bufferSize?: number;
  table: FlowTableSettings;
  /** flow.update and flow.expire, in seconds. */
  updateSec: number;
  expireSec: number;
  /** agent.flow.stats_update: seconds between capture counter reports (default: updateSec). */
  statsSec?: number;
}

/** One kept packet of a flow (RawPacketLimit), as the original's RawPacket JSON. */
export interface RawPacketJSON {
  Timestamp: number;
  Index: number;
  /** base64 of the captured bytes */
  Data: string;
  /** LINKTYPE_* of Data */
  LinkType: number;
}

export interface CaptureCountersJSON {
  PacketsReceived: number;
  PacketsDropped: number;
  PacketsIfDropped: number;
}

export type WorkerMessage =
  | { type: 'ready'; linkType?: number; port?: number }
  | { type: 'error'; error: string }
  | { type: 'flows'; flows: Array<Record<string, unknown>>; rawPackets?: Record<string, RawPacketJSON[]> }
  | { type: 'stats'; stats: CaptureCountersJSON }
  | { type: 'sflow-counters'; agent: string; counters: SFlowIfCounters[] };

export type ParentMessage = { type: 'stop' };
