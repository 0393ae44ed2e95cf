import type { Logger } from 'pino';
import { childLogger } from '../common/log.js';
import { childScript } from '../common/project-root.js';
import type { WSMessage } from '../common/ws-message.js';
import type { WSPeer } from '../common/ws-peer.js';
import type { CaptureHost } from '../probes/capture/capture-manager.js';
import { namespacePathOf, spawnJsonChild, type JsonChild } from '../probes/capture/namespace-child.js';
import { DEFAULT_PAYLOAD_LENGTH, type InjectionMode, type InjectionPlan } from './injection.js';
import { INJECTION_NAMESPACE, type InjectionRequest, type PacketInjection } from './injection-resource.js';
import type { InjectionType } from './packet-builder.js';

/**
 * The agent side of packet injection: answers `OnDemandPacketInjection` Start by running a sender in the source
 * interface's namespace; the StartReply (status 200, or 400 with the reason) is sent once the first packet left
 * or the sender failed, so that the API caller learns about errors. Stop ends a running injection.
 */

const SENDER_SCRIPT = childScript('packet-sender.cjs', 'injector/sender.js');
const FIRST_PACKET_TIMEOUT_MS = 10000;

type SenderMessage = { type: 'sent' | 'done'; packets: number } | { type: 'error'; error: string };

function defaultPayload(): string {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  let s = '';
  for (let i = 0; i < DEFAULT_PAYLOAD_LENGTH; i++) s += letters[Math.floor(Math.random() * letters.length)];
  return s;
}

/** The frames' parameters from an (analyzer-resolved) injection and the source node's interface. */
export function planOf(r: PacketInjection, ifName: string, uuid: string): InjectionPlan {
  let id = r.ICMPID ?? 0;
  // unique mode needs one id per injection: derive a stable one from the UUID when none is given
  if (!id) id = (parseInt(uuid.replace(/[^0-9a-f]/gi, '').slice(0, 4) || '1', 16) % 65535) + 1;
  return {
    ifName,
    type: r.Type as InjectionType,
    srcMAC: r.SrcMAC ?? '',
    dstMAC: r.DstMAC ?? '',
    srcIP: r.SrcIP ?? '',
    dstIP: r.DstIP ?? '',
    srcPort: r.SrcPort ?? 0,
    dstPort: r.DstPort ?? 0,
    icmpID: id,
    count: Math.max(1, r.Count ?? 1),
    intervalMs: r.Interval ?? 1000,
    mode: (r.Mode === 'random' ? 'random' : 'unique') as InjectionMode,
    payload: r.Payload ? r.Payload : defaultPayload(),
    incrementPayload: r.IncrementPayload ?? 0,
    ttl: r.TTL || 64,
  };
}

export class PacketInjector {
  private readonly running = new Map<string, JsonChild<SenderMessage>>();
  private readonly log: Logger;
  private readonly unsubscribe: () => void;

  constructor(private readonly host: CaptureHost) {
    this.log = childLogger('injector');
    this.unsubscribe = host.onMessage(INJECTION_NAMESPACE, (msg, peer) => this.onMessage(msg, peer));
  }

  private async onMessage(msg: WSMessage, peer: WSPeer): Promise<void> {
    const req = msg.Obj as InjectionRequest | undefined;
    if (!req || typeof req.NodeID !== 'string' || !req.Resource || typeof req.Resource.UUID !== 'string') {
      peer.reply(msg, `${msg.Type}Reply`, 'malformed injection request: expected {NodeID, Resource}', 400);
      return;
    }
    if (msg.Type === 'Start') {
      const res = await this.start(req.NodeID, req.Resource);
      peer.reply(msg, 'StartReply', res.error ?? { Packets: res.packets }, res.error ? 400 : 200);
    } else if (msg.Type === 'Stop') {
      this.stop(req.Resource.UUID);
      peer.reply(msg, 'StopReply', null, 200);
    }
  }

  /** Starts sending; resolves when the first packet left (or with the reason it could not). */
  async start(nodeID: string, r: PacketInjection): Promise<{ packets?: number; error?: string }> {
    if (this.running.has(r.UUID)) return { error: `packet injection ${r.UUID} is already running` };
    const node = this.host.graph.getNode(nodeID);
    if (!node) return { error: `source node ${nodeID} is not known by this agent` };
    const ifName = node.metadata.Name;
    if (typeof ifName !== 'string' || !ifName) return { error: `source node ${nodeID} has no interface name` };
    const plan = planOf(r, ifName, r.UUID);
    const child = spawnJsonChild<SenderMessage>(namespacePathOf(this.host.graph, node), SENDER_SCRIPT, plan);
    this.running.set(r.UUID, child);
    void child.exited.then(() => {
      if (this.running.get(r.UUID) === child) this.running.delete(r.UUID);
    });
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve({ error: `the injection sender sent nothing within ${FIRST_PACKET_TIMEOUT_MS / 1000} s` }), FIRST_PACKET_TIMEOUT_MS);
      child.onMessage((m) => {
        if (m.type === 'error') {
          this.log.warn({ injection: r.UUID, node: nodeID, err: m.error }, 'packet injection failed');
          clearTimeout(timer);
          resolve({ error: m.error });
        } else {
          clearTimeout(timer);
          resolve({ packets: m.packets });
        }
      });
      void child.exited.then((code) => {
        clearTimeout(timer);
        resolve({ error: `the injection sender exited (code ${code})${child.stderrTail() ? `: ${child.stderrTail()}` : ''}` });
      });
    });
  }

  stop(uuid: string): void {
    this.running.get(uuid)?.send({ type: 'stop' });
  }

  close(): void {
    this.unsubscribe();
    for (const c of this.running.values()) c.send({ type: 'stop' });
  }
}
