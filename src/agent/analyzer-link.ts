import WebSocket from 'ws';
import type { Logger } from 'pino';
import { formatAddress, type ServiceAddress } from '../common/address.js';
import { errorMessage } from '../common/errors.js';
import { WSPeer, type KeepaliveOptions, type MessageHandlers } from '../common/ws-peer.js';
import type { ConnStatus } from '../common/conn-status.js';

/**
 * The agent's connection to one analyzer (`ws://addr/ws/agent/topology`): dials, announces itself
 * (X-Host-ID, X-Client-Type: agent, X-Persistence-Policy: DeleteOnDisconnect), and redials with capped
 * exponential backoff and jitter whenever the connection fails or drops, so that an analyzer restart ends in a
 * new connection and a full resync.
 */
export interface AnalyzerLinkOptions {
  address: ServiceAddress;
  hostID: string;
  handlers: MessageHandlers;
  keepalive: KeepaliveOptions;
  compression: boolean;
  auth?: { username: string; password: string };
  log: Logger;
  onConnected(peer: WSPeer): void;
  onDisconnected(peer: WSPeer): void;
}

const BACKOFF_BASE_MS = 250;
const BACKOFF_CAP_MS = 5000;

export class AnalyzerLink {
  private ws?: WebSocket;
  private peer?: WSPeer;
  private attempts = 0;
  private retryTimer?: NodeJS.Timeout;
  private stopped = false;
  private lastError?: string;
  private remoteHost?: string;

  constructor(private readonly opts: AnalyzerLinkOptions) {}

  get address(): string {
    return formatAddress(this.opts.address);
  }

  get connectedPeer(): WSPeer | undefined {
    return this.peer?.isOpen ? this.peer : undefined;
  }

  start(): void {
    this.stopped = false;
    this.dial();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.peer?.close(1001, 'agent stopping');
    if (this.ws && this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
  }

  status(): ConnStatus & { LastError?: string } {
    const p = this.connectedPeer;
    return {
      ServiceType: 'analyzer',
      ClientProtocol: 'json',
      Addr: this.opts.address.host,
      Port: this.opts.address.port,
      IsConnected: !!p,
      ConnectTime: p ? p.connectTime.toISOString() : null,
      RemoteHost: p ? (this.remoteHost ?? '') : '',
      RemoteServiceType: 'analyzer',
      ...(p || !this.lastError ? {} : { LastError: this.lastError }),
    };
  }

  private dial(): void {
    if (this.stopped) return;
    const url = `ws://${this.address}/ws/agent/topology`;
    const headers: Record<string, string> = {
      'X-Host-ID': this.opts.hostID,
      'X-Client-Type': 'agent',
      'X-Client-Protocol': 'json',
      'X-Persistence-Policy': 'DeleteOnDisconnect',
    };
    if (this.opts.auth) headers.Authorization = 'Basic ' + Buffer.from(`${this.opts.auth.username}:${this.opts.auth.password}`).toString('base64');
    const ws = new WebSocket(url, { headers, perMessageDeflate: this.opts.compression, handshakeTimeout: 5000 });
    this.ws = ws;
    let opened = false;

    ws.on('upgrade', (res) => {
      const h = res.headers['x-host-id'];
      this.remoteHost = Array.isArray(h) ? h[0] : h;
    });
    ws.on('open', () => {
      opened = true;
      this.attempts = 0;
      this.lastError = undefined;
      const peer = new WSPeer(ws, this.opts.handlers, this.opts.log.child({ analyzer: this.address }), this.opts.keepalive);
      this.peer = peer;
      this.opts.log.info({ analyzer: this.address }, 'connected to analyzer');
      peer.onClose((code, reason) => {
        this.opts.log.info({ analyzer: this.address, code, reason }, 'disconnected from analyzer');
        this.peer = undefined;
        this.opts.onDisconnected(peer);
        this.scheduleRedial();
      });
      this.opts.onConnected(peer);
    });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => {
        this.lastError = `analyzer refused the connection: HTTP ${res.statusCode}${body ? ` ${body.slice(0, 200)}` : ''}`;
        this.opts.log.warn({ analyzer: this.address, status: res.statusCode, body: body.slice(0, 200) }, 'analyzer refused the connection');
        ws.terminate();
        this.scheduleRedial();
      });
    });
    ws.on('error', (err) => {
      if (opened) return; // the peer reports the close
      const first = this.lastError === undefined;
      this.lastError = errorMessage(err);
      // one warning per outage, then quiet retries
      if (first) this.opts.log.warn({ analyzer: this.address, err: this.lastError }, 'cannot connect to analyzer; retrying');
      else this.opts.log.debug({ analyzer: this.address, err: this.lastError }, 'cannot connect to analyzer');
      this.scheduleRedial();
    });
  }

  private scheduleRedial(): void {
    if (this.stopped || this.retryTimer !== undefined) return;
    const exp = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** this.attempts);
    const delay = exp / 2 + Math.random() * (exp / 2);
    this.attempts = Math.min(this.attempts + 1, 16);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.dial();
    }, delay);
  }
}
