import { randomUUID } from 'node:crypto';
import { SkydiveError } from './errors.js';

/**
 * The WebSocket envelope of the original (graffiti/websocket StructMessage, JSON flavour):
 * `{"Namespace":"Graph","Type":"NodeAdded","UUID":"...","Status":200,"Obj":{...}}`, Status omitted when 0.
 * Replies reuse the request's Namespace and UUID.
 */
export interface WSMessage<T = unknown> {
  Namespace: string;
  Type: string;
  UUID?: string;
  Status?: number;
  Obj?: T;
}

export function newMessage<T>(namespace: string, type: string, obj?: T, opts: { uuid?: string; status?: number } = {}): WSMessage<T> {
  const m: WSMessage<T> = { Namespace: namespace, Type: type, UUID: opts.uuid ?? randomUUID() };
  if (opts.status) m.Status = opts.status;
  if (obj !== undefined) m.Obj = obj;
  return m;
}

export function encodeMessage(m: WSMessage): string {
  return JSON.stringify(m);
}

/** Parse a received frame; a malformed one is a SkydiveError (the peer logs it and carries on). */
export function decodeMessage(data: unknown): WSMessage {
  const text = typeof data === 'string' ? data : Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data as Buffer[]).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch (err) {
    throw new SkydiveError('SKYDIVE_WS_BAD_MESSAGE', `malformed WebSocket message (not JSON): ${(err as Error).message}`, 400);
  }
  if (m === null || typeof m !== 'object' || Array.isArray(m)) throw new SkydiveError('SKYDIVE_WS_BAD_MESSAGE', 'malformed WebSocket message: expected an object', 400);
  const o = m as Record<string, unknown>;
  if (typeof o.Namespace !== 'string' || typeof o.Type !== 'string') {
    throw new SkydiveError('SKYDIVE_WS_BAD_MESSAGE', 'malformed WebSocket message: Namespace and Type must be strings', 400);
  }
  if (o.UUID !== undefined && typeof o.UUID !== 'string') throw new SkydiveError('SKYDIVE_WS_BAD_MESSAGE', 'malformed WebSocket message: UUID must be a string', 400);
  if (o.Status !== undefined && typeof o.Status !== 'number') throw new SkydiveError('SKYDIVE_WS_BAD_MESSAGE', 'malformed WebSocket message: Status must be a number', 400);
  return o as unknown as WSMessage;
}
