import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from 'pino';
import { SkydiveError, errorMessage } from '../common/errors.js';

/**
 * WebSocket endpoints on the API server: one `ws` server in noServer mode, upgrades routed by path. A handler
 * decides before the upgrade (it may refuse with an HTTP status and a JSON `{code, message}` body, e.g. 409 for a
 * duplicate X-Host-ID) and gets the socket once upgraded.
 */
export interface UpgradeRequest {
  req: IncomingMessage;
  url: URL;
  /** Header value, or the lowercase query parameter of the same name (browsers cannot set headers). */
  param(name: string): string | undefined;
}

/** Return the function to run once upgraded; throw a SkydiveError to refuse the upgrade with its status. */
export type UpgradeHandler = (r: UpgradeRequest) => ((ws: WebSocket) => void) | Promise<(ws: WebSocket) => void>;

export class WebSocketRouter {
  private readonly wss: WebSocketServer;
  private readonly routes = new Map<string, UpgradeHandler>();
  private readonly sockets = new Set<WebSocket>();

  constructor(server: Server, private readonly log: Logger, opts: { compression: boolean; hostID: string; serviceType: string }) {
    this.wss = new WebSocketServer({ noServer: true, perMessageDeflate: opts.compression });
    this.wss.on('headers', (headers) => headers.push(`X-Host-ID: ${opts.hostID}`, `X-Service-Type: ${opts.serviceType}`));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
  }

  route(path: string, handler: UpgradeHandler): void {
    if (this.routes.has(path)) throw new Error(`WebSocket endpoint ${path} registered twice`);
    this.routes.set(path, handler);
  }

  /** Close every WebSocket (server stopping). */
  closeAll(code = 1001, reason = 'server stopping'): void {
    for (const ws of this.sockets) {
      ws.close(code, reason);
      setTimeout(() => ws.terminate(), 500).unref();
    }
    this.wss.close();
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', (err) => this.log.debug({ err: err.message }, 'upgrade socket error'));
    const url = new URL(req.url ?? '/', 'http://localhost');
    const handler = this.routes.get(url.pathname);
    if (!handler) {
      refuse(socket, 404, 'SKYDIVE_API_NOT_FOUND', `no WebSocket endpoint ${url.pathname}`);
      return;
    }
    const param = (name: string): string | undefined => {
      const h = req.headers[name.toLowerCase()];
      const v = Array.isArray(h) ? h[0] : h;
      if (v !== undefined && v !== '') return v;
      return url.searchParams.get(name.toLowerCase()) ?? url.searchParams.get(name) ?? undefined;
    };
    let onOpen: (ws: WebSocket) => void;
    try {
      onOpen = await handler({ req, url, param });
    } catch (err) {
      const e = err instanceof SkydiveError ? err : new SkydiveError('SKYDIVE_INTERNAL', errorMessage(err), 500);
      this.log.info({ path: url.pathname, status: e.statusCode, err: e.message }, 'websocket upgrade refused');
      refuse(socket, e.statusCode, e.code, e.message);
      return;
    }
    if (socket.destroyed) return;
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.sockets.add(ws);
      ws.on('close', () => this.sockets.delete(ws));
      onOpen(ws);
    });
  }
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found', 409: 'Conflict', 500: 'Internal Server Error' };

function refuse(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({ code, message });
  socket.end(
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
