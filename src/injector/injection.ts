import { randomInt } from 'node:crypto';
import { buildFrame, type FrameSpec, type InjectionType } from './packet-builder.js';

/**
 * A resolved packet injection: everything the sender needs to craft its frames (addresses already resolved
 * from the graph by the agent), and the frame sequence itself.
 */

export type InjectionMode = 'unique' | 'random';

export interface InjectionPlan {
  /** Interface the frames leave from, inside the sender's namespace. */
  ifName: string;
  type: InjectionType;
  srcMAC: string;
  dstMAC: string;
  srcIP: string;
  dstIP: string;
  srcPort: number;
  dstPort: number;
  icmpID: number;
  count: number;
  intervalMs: number;
  mode: InjectionMode;
  /** Payload of the first packet. */
  payload: string;
  /** Bytes added to the payload of each following packet. */
  incrementPayload: number;
  ttl: number;
}

/** Payload used when none is given: 56 bytes, an 84-byte IPv4 ICMP packet like ping's (98-byte frame). */
export const DEFAULT_PAYLOAD_LENGTH = 56;

/**
 * Frame number `i` (0-based) of the plan. In `unique` mode every packet carries the plan's ICMP id / source port
 * (one flow); in `random` mode the first one does and the others get random ones (one flow each).
 */
export function frameAt(plan: InjectionPlan, i: number): Buffer {
  const payload = Buffer.alloc(Buffer.byteLength(plan.payload) + i * plan.incrementPayload, 'x');
  payload.write(plan.payload);
  const random = plan.mode === 'random' && i > 0;
  const spec: FrameSpec = {
    type: plan.type,
    srcMAC: plan.srcMAC,
    dstMAC: plan.dstMAC,
    srcIP: plan.srcIP,
    dstIP: plan.dstIP,
    srcPort: random ? randomInt(1024, 65536) : plan.srcPort,
    dstPort: plan.dstPort,
    icmpID: random ? randomInt(1, 65536) : plan.icmpID,
    icmpSeq: i + 1,
    ttl: plan.ttl,
    payload,
    ipID: (plan.icmpID + i) & 0xffff,
  };
  return buildFrame(spec);
}
