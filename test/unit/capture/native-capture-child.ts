import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { REPO_ROOT } from '../../helpers/shared.js';

/**
 * Runs inside a test namespace (Node cannot setns) and drives the addon's capture functions for
 * native-capture.test.ts: one JSON request per stdin line, one JSON answer per request on stdout, with the
 * request's `id`. Errors thrown by the addon come back as `{ id, error, code }`.
 */

type Handle = object;
interface Addon {
  captureOpen(ifName: unknown, opts?: unknown): { handle: Handle; linkType: number; snaplen: number; warning?: string };
  captureNext(handle: Handle, out: Uint8Array, maxPackets: number): number;
  captureWait(handle: Handle, cb: (error?: string) => void): void;
  captureStats(handle: Handle): { received: number; dropped: number; ifDropped: number };
  captureInject(handle: Handle, frame: Uint8Array): void;
  captureClose(handle: Handle): void;
}

export type Request =
  | { op: 'open'; name: string; ifName: unknown; opts?: unknown }
  | { op: 'inject'; name: string; frames: string[] }
  | { op: 'next'; name: string; max: number; outBytes: number; outOffset?: number }
  | { op: 'wait'; name: string }
  | { op: 'stats'; name: string }
  | { op: 'close'; name: string };

export interface CapturedRecord {
  tsSec: number;
  tsUsec: number;
  caplen: number;
  wireLen: number;
  /** hex of the captured bytes */
  data: string;
}

const addon = createRequire(import.meta.url)(join(REPO_ROOT, 'native', 'build', 'Release', 'skydive_native.node')) as Addon;
const handles = new Map<string, Handle>();

function send(msg: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(msg) + '\n');
}

function handle(name: string): Handle {
  const h = handles.get(name);
  if (!h) throw Object.assign(new Error(`no capture named ${name}`), { code: 'TEST' });
  return h;
}

/** Reads the records captureNext wrote, as the LiveSession does. */
function records(out: Buffer, count: number): CapturedRecord[] {
  const list: CapturedRecord[] = [];
  for (let i = 0, off = 0; i < count; i++) {
    const caplen = out.readUInt32LE(off + 8);
    list.push({
      tsSec: out.readUInt32LE(off),
      tsUsec: out.readUInt32LE(off + 4),
      caplen,
      wireLen: out.readUInt32LE(off + 12),
      data: out.subarray(off + 16, off + 16 + caplen).toString('hex'),
    });
    off += 16 + ((caplen + 3) & ~3);
  }
  return list;
}

function run(id: number, req: Request): void {
  switch (req.op) {
    case 'open': {
      const o = addon.captureOpen(req.ifName, req.opts);
      handles.set(req.name, o.handle);
      return send({ id, linkType: o.linkType, snaplen: o.snaplen, warning: o.warning });
    }
    case 'inject':
      for (const f of req.frames) addon.captureInject(handle(req.name), Buffer.from(f, 'hex'));
      return send({ id, sent: req.frames.length });
    case 'next': {
      const backing = Buffer.alloc(req.outBytes + (req.outOffset ?? 0));
      const out = backing.subarray(req.outOffset ?? 0);
      const count = addon.captureNext(handle(req.name), out, req.max);
      return send({ id, count, records: records(out, count) });
    }
    case 'wait':
      return addon.captureWait(handle(req.name), (error) => send({ id, readable: true, error }));
    case 'stats':
      return send({ id, ...addon.captureStats(handle(req.name)) });
    case 'close':
      addon.captureClose(handle(req.name));
      return send({ id, closed: true });
  }
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const { id, ...req } = JSON.parse(line) as Request & { id: number };
  try {
    run(id, req as Request);
  } catch (err) {
    send({ id, error: (err as Error).message, code: (err as { code?: string }).code });
  }
});
send({ ready: true });
