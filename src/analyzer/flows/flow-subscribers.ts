import type { Logger } from 'pino';
import { UsageError } from '../../common/errors.js';
import { MessageHandlers, WSPeer, type KeepaliveOptions } from '../../common/ws-peer.js';
import type { UpgradeHandler } from '../ws-router.js';
import type { FlowJSON, FlowStore } from './flow-store.js';

/**
 * /ws/subscriber/flow: streams flow updates as the original, `{"Namespace":"flow","Type":"store","Obj":[Flow...]}`.
 * `X-Websocket-Namespace` (header or query parameter) selects `flow` (every capture, the default) or
 * `flow/<CaptureID>` (one capture).
 */
export class FlowSubscribers {
  private readonly peers = new Map<WSPeer, string | undefined>();
  private readonly handlers = new MessageHandlers();
  private readonly unsubscribe: () => void;

  constructor(store: FlowStore, private readonly keepalive: KeepaliveOptions, private readonly log: Logger) {
    this.unsubscribe = store.subscribe((flows, captureID) => this.publish(flows, captureID));
  }

  readonly upgrade: UpgradeHandler = (r) => {
    const ns = r.param('X-Websocket-Namespace') ?? 'flow';
    let captureID: string | undefined;
    if (ns.startsWith('flow/') && ns.length > 5) captureID = ns.slice(5);
    else if (ns !== 'flow' && ns !== '*') throw new UsageError('SKYDIVE_WS_BAD_REQUEST', `X-Websocket-Namespace must be 'flow' or 'flow/<CaptureID>', got '${ns}'`);
    return (ws) => {
      const peer = new WSPeer(ws, this.handlers, this.log, this.keepalive);
      this.peers.set(peer, captureID);
      peer.onClose(() => this.peers.delete(peer));
    };
  };

  private publish(flows: FlowJSON[], captureID: string): void {
    for (const [peer, only] of this.peers) {
      if (only === undefined) peer.send('flow', 'store', flows);
      else if (only === captureID) peer.send(`flow/${captureID}`, 'store', flows);
    }
  }

  close(): void {
    this.unsubscribe();
    for (const p of this.peers.keys()) p.close(1001, 'analyzer stopping');
    this.peers.clear();
  }
}
