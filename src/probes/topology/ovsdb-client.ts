import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import { UsageError } from '../../common/errors.js';

/**
 * A minimal OVSDB JSON-RPC client (RFC 7047) over a unix or TCP socket: requests, `echo` keep-alives answered,
 * and `update` notifications of `monitor` emitted as events. Messages are bare JSON texts one after another, so
 * the stream is split by tracking brackets and strings.
 */

export type OvsdbAddress = { path: string } | { host: string; port: number };

/** `unix:///var/run/openvswitch/db.sock`, `unix:/path`, `tcp:host:port`, `tcp://host:port` or `host:port`. */
export function parseOvsdbAddress(url: string): OvsdbAddress {
  const unixPath = url.startsWith('unix://') ? url.slice(7) : url.startsWith('unix:') ? url.slice(5) : undefined;
  if (unixPath?.startsWith('/')) return { path: unixPath };
  const tcp = /^(?:tcp:(?:\/\/)?)?(\[[^\]]+\]|[^:/]+):(\d+)$/.exec(url);
  if (tcp && Number(tcp[2]) > 0 && Number(tcp[2]) < 65536) return { host: tcp[1].replace(/^\[|\]$/g, ''), port: Number(tcp[2]) };
  throw new UsageError('SKYDIVE_CONFIG_OVSDB', `invalid ovs.ovsdb address "${url}": expected unix:///path/to/db.sock or tcp:host:port`);
}

/** A table's rows as sent by monitor: uuid ⇒ { old?, new? } with OVSDB-encoded columns. */
export type TableUpdates = Record<string, Record<string, { old?: Record<string, unknown>; new?: Record<string, unknown> }>>;

export interface MonitorRequest {
  columns?: string[];
  select?: { initial?: boolean; insert?: boolean; delete?: boolean; modify?: boolean };
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
}

export class OvsdbError extends Error {
  constructor(
    message: string,
    readonly detail?: unknown,
  ) {
    super(message);
    this.name = 'OvsdbError';
  }
}

export class OvsdbClient extends EventEmitter {
  private nextID = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly splitter = new JsonSplitter();
  private closed = false;

  private constructor(private readonly socket: Socket) {
    super();
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      let msgs: string[];
      try {
        msgs = this.splitter.push(chunk);
      } catch (err) {
        this.shutdown(err as Error);
        return;
      }
      for (const m of msgs) this.dispatch(m);
    });
    socket.on('error', (err) => this.shutdown(err));
    socket.on('close', () => this.shutdown(new OvsdbError('connection closed')));
  }

  static connect(address: string | OvsdbAddress, timeoutMs = 5000): Promise<OvsdbClient> {
    const addr = typeof address === 'string' ? parseOvsdbAddress(address) : address;
    return new Promise((resolve, reject) => {
      const sock = 'path' in addr ? connect(addr.path) : connect(addr.port, addr.host);
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new OvsdbError(`timed out connecting to ovsdb ${describe(addr)}`));
      }, timeoutMs);
      sock.once('error', (err) => {
        clearTimeout(timer);
        reject(new OvsdbError(`cannot connect to ovsdb ${describe(addr)}: ${err.message}`));
      });
      sock.once('connect', () => {
        clearTimeout(timer);
        sock.removeAllListeners('error');
        resolve(new OvsdbClient(sock));
      });
    });
  }

  request(method: string, params: unknown[]): Promise<unknown> {
    if (this.closed) return Promise.reject(new OvsdbError('connection closed'));
    const id = this.nextID++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.write(JSON.stringify({ id, method, params }));
    });
  }

  listDbs(): Promise<string[]> {
    return this.request('list_dbs', []) as Promise<string[]>;
  }

  /** Start a monitor; resolves with the initial rows, later changes come as 'update' events (monitorID, updates). */
  monitor(db: string, monitorID: unknown, requests: Record<string, MonitorRequest>): Promise<TableUpdates> {
    return this.request('monitor', [db, monitorID, requests]) as Promise<TableUpdates>;
  }

  close(): void {
    this.socket.destroy();
    this.shutdown(new OvsdbError('connection closed'));
  }

  private dispatch(text: string): void {
    let msg: { id?: unknown; method?: string; params?: unknown[]; result?: unknown; error?: unknown };
    try {
      msg = JSON.parse(text);
    } catch {
      this.shutdown(new OvsdbError(`invalid JSON from ovsdb: ${text.slice(0, 80)}`));
      return;
    }
    if (msg.method === 'echo') {
      this.socket.write(JSON.stringify({ id: msg.id, result: msg.params ?? [], error: null }));
      return;
    }
    if (msg.method === 'update' && Array.isArray(msg.params)) {
      this.emit('update', msg.params[0], msg.params[1] as TableUpdates);
      return;
    }
    if (typeof msg.id === 'number' && this.pending.has(msg.id)) {
      const p = this.pending.get(msg.id)!;
      this.pending.delete(msg.id);
      if (msg.error) p.reject(new OvsdbError(`ovsdb error: ${JSON.stringify(msg.error)}`, msg.error));
      else p.resolve(msg.result);
    }
  }

  private shutdown(err: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.emit('close', err);
  }
}

function describe(addr: OvsdbAddress): string {
  return 'path' in addr ? `unix:${addr.path}` : `tcp:${addr.host}:${addr.port}`;
}

/** Splits a stream of concatenated JSON texts (objects or arrays) into whole texts. */
export class JsonSplitter {
  private buf = '';
  private depth = 0;
  private inString = false;
  private escaped = false;
  private start = -1;
  private scanned = 0;

  push(chunk: string): string[] {
    this.buf += chunk;
    const out: string[] = [];
    for (let i = this.scanned; i < this.buf.length; i++) {
      const c = this.buf[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === '\\') this.escaped = true;
        else if (c === '"') this.inString = false;
        continue;
      }
      if (c === '"') this.inString = true;
      else if (c === '{' || c === '[') {
        if (this.depth++ === 0) this.start = i;
      } else if (c === '}' || c === ']') {
        if (--this.depth < 0) throw new OvsdbError('unbalanced JSON from ovsdb');
        if (this.depth === 0) {
          out.push(this.buf.slice(this.start, i + 1));
          this.start = -1;
        }
      } else if (this.depth === 0 && !/\s/.test(c)) throw new OvsdbError(`unexpected "${c}" between JSON messages from ovsdb`);
    }
    if (this.depth === 0) {
      this.buf = '';
      this.scanned = 0;
    } else {
      this.buf = this.buf.slice(this.start);
      this.scanned = this.buf.length;
      this.start = 0;
    }
    return out;
  }
}

// ---- OVSDB datum decoding (RFC 7047 §5.1)

/** An atom: uuids become their string. */
export function atom(v: unknown): unknown {
  if (Array.isArray(v) && (v[0] === 'uuid' || v[0] === 'named-uuid')) return v[1];
  return v;
}

/** A set column: ["set", [...]] or a single atom. */
export function setOf(v: unknown): unknown[] {
  if (Array.isArray(v) && v[0] === 'set') return (v[1] as unknown[]).map(atom);
  if (v === undefined || v === null) return [];
  return [atom(v)];
}

/** A map column: ["map", [[k, v]...]] ⇒ plain object. */
export function mapOf(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(v) && v[0] === 'map') for (const [k, val] of v[1] as Array<[unknown, unknown]>) out[String(atom(k))] = String(atom(val));
  return out;
}

/** An optional scalar (set of 0 or 1 element) ⇒ its value or undefined. */
export function optional(v: unknown): unknown {
  const s = setOf(v);
  return s.length ? s[0] : undefined;
}
