import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { SkydiveError, errorMessage } from './errors.js';
import { decodeMessage, encodeMessage, newMessage, type WSMessage } from './ws-message.js';

/**
 * One end of a message connection (agent ↔ analyzer, analyzer ↔ subscriber): envelopes in and out, per-namespace
 * handlers, request/reply matched on UUID, and a ping/pong keepalive (http.ws.ping_delay / pong_timeout) so that a
 * silent peer is dropped. Graph sync, flows and capture commands all travel on the same peer.
 */
export type MessageHandler = (msg: WSMessage, peer: WSPeer) => void | Promise<void>;

/** Handlers by namespace; '*' receives every namespace that has no handler of its own. */
export class MessageHandlers {
  private readonly byNamespace = new Map<string, Set<MessageHandler>>();

  on(namespace: string, handler: MessageHandler): () => void {
    let set = this.byNamespace.get(namespace);
    if (!set) this.byNamespace.set(namespace, (set = new Set()));
    set.add(handler);
    return () => set!.delete(handler);
  }

  has(namespace: string): boolean {
    return (this.byNamespace.get(namespace)?.size ?? 0) > 0;
  }

  /** Run the handlers of the message's namespace; false if there is none. */
  dispatch(msg: WSMessage, peer: WSPeer, log: Logger): boolean {
    const set = this.byNamespace.get(msg.Namespace)?.size ? this.byNamespace.get(msg.Namespace) : this.byNamespace.get('*');
    if (!set?.size) return false;
    for (const h of set) {
      try {
        const r = h(msg, peer);
        if (r && typeof (r as Promise<void>).catch === 'function') {
          (r as Promise<void>).catch((err) => log.warn({ err: errorMessage(err), namespace: msg.Namespace, type: msg.Type }, 'message handler failed'));
        }
      } catch (err) {
        log.warn({ err: errorMessage(err), namespace: msg.Namespace, type: msg.Type }, 'message handler failed');
      }
    }
    return true;
  }
}

export interface KeepaliveOptions {
  /** ms between pings */
  pingDelay: number;
  /** ms without pong, after a ping, before the peer is considered gone */
  pongTimeout: number;
}

export class WSPeer {
  readonly connectTime = new Date();
  private readonly pending = new Map<string, { resolve: (m: WSMessage) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private readonly closeCallbacks: Array<(code: number, reason: string) => void> = [];
  private pingTimer?: NodeJS.Timeout;
  private lastPong = Date.now();
  private closed = false;

  constructor(
    readonly ws: WebSocket,
    private readonly handlers: MessageHandlers,
    private readonly log: Logger,
    keepalive: KeepaliveOptions,
    /** Messages handled before the namespace handlers (graph sync); return true when consumed. */
    private readonly intercept?: (msg: WSMessage, peer: WSPeer) => boolean,
  ) {
    ws.on('message', (data, isBinary) => this.receive(data, isBinary));
    ws.on('pong', () => {
      this.lastPong = Date.now();
    });
    ws.on('close', (code, reason) => this.closedBySocket(code, reason.toString()));
    ws.on('error', (err) => this.log.debug({ err: err.message }, 'websocket error'));
    this.pingTimer = setInterval(() => {
      if (Date.now() - this.lastPong > keepalive.pingDelay + keepalive.pongTimeout) {
        this.log.warn({ silentFor: Date.now() - this.lastPong }, 'websocket peer stopped answering pings; dropping it');
        ws.terminate();
        return;
      }
      try {
        ws.ping();
      } catch {
        /* closing */
      }
    }, keepalive.pingDelay);
    this.pingTimer.unref();
  }

  get isOpen(): boolean {
    return !this.closed && this.ws.readyState === this.ws.OPEN;
  }

  send(namespace: string, type: string, obj?: unknown, opts: { uuid?: string; status?: number } = {}): boolean {
    return this.sendMessage(newMessage(namespace, type, obj, opts));
  }

  sendMessage(m: WSMessage): boolean {
    if (!this.isOpen) return false;
    this.ws.send(encodeMessage(m));
    return true;
  }

  /** Answer a request: same Namespace and UUID. */
  reply(to: WSMessage, type: string, obj?: unknown, status = 200): boolean {
    return this.send(to.Namespace, type, obj, { uuid: to.UUID, status });
  }

  /** Send and wait for the message carrying the same UUID (e.g. OnDemandCapture Start → StartReply). */
  request(namespace: string, type: string, obj?: unknown, timeoutMs = 10000): Promise<WSMessage> {
    const m = newMessage(namespace, type, obj);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(m.UUID!);
        reject(new SkydiveError('SKYDIVE_WS_TIMEOUT', `no reply to ${namespace}/${type} within ${timeoutMs} ms`, 504));
      }, timeoutMs);
      this.pending.set(m.UUID!, { resolve, reject, timer });
      if (!this.sendMessage(m)) {
        clearTimeout(timer);
        this.pending.delete(m.UUID!);
        reject(new SkydiveError('SKYDIVE_WS_CLOSED', `connection closed before ${namespace}/${type} could be sent`, 503));
      }
    });
  }

  onClose(cb: (code: number, reason: string) => void): void {
    if (this.closed) cb(1006, 'already closed');
    else this.closeCallbacks.push(cb);
  }

  close(code = 1000, reason = ''): void {
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close(code, reason);
    // a peer that does not complete the closing handshake is cut after a grace period
    setTimeout(() => this.ws.terminate(), 1000).unref();
  }

  private receive(data: unknown, isBinary: boolean): void {
    let msg: WSMessage;
    try {
      if (isBinary) throw new SkydiveError('SKYDIVE_WS_BAD_MESSAGE', 'binary (protobuf) messages are not supported; use X-Client-Protocol: json', 400);
      msg = decodeMessage(data);
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'ignoring malformed websocket message');
      return;
    }
    if (msg.UUID) {
      const p = this.pending.get(msg.UUID);
      if (p) {
        this.pending.delete(msg.UUID);
        clearTimeout(p.timer);
        p.resolve(msg);
        return;
      }
    }
    try {
      if (this.intercept?.(msg, this)) return;
    } catch (err) {
      this.log.warn({ err: errorMessage(err), namespace: msg.Namespace, type: msg.Type }, 'failed to apply message');
      return;
    }
    if (!this.handlers.dispatch(msg, this, this.log)) this.log.debug({ namespace: msg.Namespace, type: msg.Type }, 'no handler for message');
  }

  private closedBySocket(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pingTimer);
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new SkydiveError('SKYDIVE_WS_CLOSED', 'connection closed before the reply arrived', 503));
    }
    this.pending.clear();
    for (const cb of this.closeCallbacks.splice(0)) cb(code, reason);
  }
}

/** Keepalive from `http.ws.ping_delay` / `http.ws.pong_timeout` (seconds). */
export function keepaliveFromConfig(config: { get<T>(key: string, fallback?: T): T }): KeepaliveOptions {
  return { pingDelay: config.get<number>('http.ws.ping_delay', 2) * 1000, pongTimeout: config.get<number>('http.ws.pong_timeout', 5) * 1000 };
}
