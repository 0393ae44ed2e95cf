/**
 * The packet injection resource of the API (`/api/injectpacket`, reference §3) and the messages that carry it
 * to the agent owning the source interface.
 */

export interface PacketInjection {
  UUID: string;
  /** Gremlin query of the source interface (required). */
  Src: string;
  /** Gremlin query of the destination interface (gives DstIP/DstMAC when they are not set). */
  Dst?: string;
  SrcIP?: string;
  DstIP?: string;
  SrcMAC?: string;
  DstMAC?: string;
  SrcPort?: number;
  DstPort?: number;
  Type: string;
  Payload?: string;
  ICMPID?: number;
  Count?: number;
  /** ms between packets */
  Interval?: number;
  Mode?: string;
  IncrementPayload?: number;
  StartTime?: string;
  TTL?: number;
}

export const INJECTION_NAMESPACE = 'OnDemandPacketInjection';

/** Start/Stop `{NodeID, Resource}`: the resource has SrcIP, SrcMAC and DstIP resolved; DstMAC may be empty. */
export interface InjectionRequest {
  NodeID: string;
  Resource: PacketInjection;
}
