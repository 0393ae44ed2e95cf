import { createRequire } from 'node:module';
import { SkydiveError, errorMessage } from '../../common/errors.js';
import { NATIVE_ADDON as ADDON } from '../../common/project-root.js';

/**
 * A live libpcap capture (AF_PACKET, TPACKET_V3 ring) on one interface of the current network namespace, through
 * our addon (native/skydive_native.c). The kernel applies the BPF filter (SO_ATTACH_FILTER). Packets are read in
 * batches: one native call copies up to BATCH_PACKETS packets from the ring into one reused Buffer, the handler
 * sees each of them in place (buffer, offset, caplen, wireLen, tsMs), then the session yields to the event loop
 * (setImmediate) so that timers (flow updates, expiry) and IPC (stop) run between batches even during a flood.
 * When the ring is empty the session waits on the socket (libuv poll) without blocking the event loop.
 */

type CaptureHandle = object;

interface CaptureBinding {
  captureOpen(
    ifName: string,
    opts: { snaplen?: number; bufferSize?: number; promisc?: boolean; timeoutMs?: number; immediate?: boolean; filter?: string },
  ): { handle: CaptureHandle; linkType: number; snaplen: number; warning?: string };
  captureNext(handle: CaptureHandle, out: Uint8Array, maxPackets: number): number;
  captureWait(handle: CaptureHandle, cb: (error?: string) => void): void;
  captureStats(handle: CaptureHandle): { received: number; dropped: number; ifDropped: number };
  captureInject(handle: CaptureHandle, frame: Uint8Array): void;
  captureClose(handle: CaptureHandle): void;
}

let binding: CaptureBinding | undefined;

function native(): CaptureBinding {
  if (!binding) {
    let loaded: Partial<CaptureBinding>;
    try {
      loaded = createRequire(import.meta.url)(ADDON) as Partial<CaptureBinding>;
    } catch (err) {
      throw new SkydiveError(
        'SKYDIVE_NATIVE_MISSING',
        `the libpcap addon ${ADDON} cannot be loaded (run \`make build\`): ${errorMessage(err).split('\n')[0]}`,
        500,
      );
    }
    if (typeof loaded.captureOpen !== 'function')
      throw new SkydiveError('SKYDIVE_NATIVE_MISSING', `the libpcap addon ${ADDON} has no live capture (rebuild it: \`make build\`)`, 500);
    binding = loaded as CaptureBinding;
  }
  return binding;
}

/** Size of the records' header written by captureNext: tsSec, tsUsec, caplen, wireLen as host-order u32. */
const RECORD_HEADER = 16;
/**
 * Packets per native call. A batch of 64-byte frames takes a few milliseconds of flow processing: small enough
 * for timers and stop messages to stay punctual, large enough for the call and the yield to cost nothing.
 */
const BATCH_PACKETS = 4096;
/** The batch buffer: the size of the core's L2 cache here, so the records are still cached when the handler reads them. */
const BATCH_BYTES = 1 << 20;

export interface LiveSessionOptions {
  /** BPF filter expression compiled by libpcap for the interface's link type. */
  filter?: string;
  /**
   * Kernel ring size in bytes. Default 64 MiB (gopacket's afpacket default, which the original used): 1.5 s of
   * 64-byte frames at 300,000 packets/s, what a flow update of 65,536 flows takes on a busy core.
   */
  bufferSize?: number;
  /** Bytes kept per packet (HeaderSize); wire lengths are still counted in full. */
  snapLength?: number;
  promiscuous?: boolean;
  /** Ring block timeout: the longest a packet waits in the kernel before being delivered. */
  timeoutMs?: number;
  /** Read failure after the session opened (e.g. the interface went away); the session is closed. Default: throw. */
  onError?: (err: SkydiveError) => void;
}

/** One packet: `caplen` captured bytes at `buf[offset]`, `wireLen` bytes on the wire, time in ms since the epoch. */
export type LivePacketHandler = (buf: Buffer, offset: number, caplen: number, wireLen: number, tsMs: number) => void;

export interface CaptureCounters {
  /** Packets the kernel handed to the capture socket (after the filter), dropped ones included. */
  received: number;
  /** Packets the kernel dropped because the ring was full. */
  dropped: number;
  /** Packets the interface dropped, when the driver reports it. */
  ifDropped: number;
}

export class LiveSession {
  /** LINKTYPE_* of the packets. */
  readonly linkType: number;
  /** Bytes kept per packet, as libpcap applies it. */
  readonly snapLength: number;
  readonly warnings: string[] = [];
  private readonly addon: CaptureBinding;
  private readonly handle: CaptureHandle;
  private closed = false;
  /** The counters as they were when the session closed: the worker reports them after closing. */
  private final?: CaptureCounters;

  constructor(readonly ifName: string, onPacket: LivePacketHandler, opts: LiveSessionOptions = {}) {
    this.addon = native();
    let opened: ReturnType<CaptureBinding['captureOpen']>;
    try {
      opened = this.addon.captureOpen(ifName, {
        snaplen: opts.snapLength && opts.snapLength > 0 ? Math.min(opts.snapLength, 262144) : 262144,
        bufferSize: opts.bufferSize ?? 64 << 20,
        promisc: opts.promiscuous ?? true,
        timeoutMs: opts.timeoutMs ?? 200,
        filter: opts.filter ?? '',
      });
    } catch (err) {
      const code = (err as { code?: string }).code === 'SKYDIVE_CAPTURE_FILTER' ? 'SKYDIVE_CAPTURE_FILTER' : 'SKYDIVE_CAPTURE_OPEN';
      const msg = errorMessage(err);
      throw new SkydiveError(code, msg.includes(ifName) ? msg : `cannot capture on ${ifName}: ${msg}`, code === 'SKYDIVE_CAPTURE_FILTER' ? 400 : 500);
    }
    this.handle = opened.handle;
    this.linkType = opened.linkType;
    this.snapLength = opened.snaplen;
    if (opened.warning) this.warnings.push(opened.warning);

    const { addon, handle } = this;
    // Buffer.alloc never hands out a slice of the shared pool: byteOffset 0, so 4-byte aligned for the u32 view
    const out = Buffer.alloc(Math.max(BATCH_BYTES, 2 * (RECORD_HEADER + ((this.snapLength + 3) & ~3))));
    const words = new Uint32Array(out.buffer, out.byteOffset, out.length >>> 2);
    const fail = (err: SkydiveError) => {
      this.close();
      if (!opts.onError) throw err;
      opts.onError(err);
    };
    const pump = (socketError?: string): void => {
      if (this.closed) return;
      let n: number;
      try {
        n = addon.captureNext(handle, out, BATCH_PACKETS);
      } catch (err) {
        return fail(new SkydiveError('SKYDIVE_CAPTURE_READ', `capture on ${ifName}: ${errorMessage(err)}`, 500));
      }
      if (n === 0) {
        // libpcap usually names the error itself (above); libuv's own word for a socket error is vaguer
        if (socketError) return fail(new SkydiveError('SKYDIVE_CAPTURE_READ', `capture on ${ifName}: socket error (${socketError})`, 500));
        return addon.captureWait(handle, pump);
      }
      // the handler may close the session: nothing is delivered after that
      for (let i = 0, off = 0; i < n && !this.closed; i++) {
        const w = off >>> 2;
        const caplen = words[w + 2];
        onPacket(out, off + RECORD_HEADER, caplen, words[w + 3], words[w] * 1000 + words[w + 1] / 1000);
        off += RECORD_HEADER + ((caplen + 3) & ~3);
      }
      setImmediate(pump);
    };
    // packets may already wait in the ring: read before the first wait
    setImmediate(pump);
  }

  counters(): CaptureCounters {
    return this.final ?? this.addon.captureStats(this.handle);
  }

  /** Sends one complete frame out of the interface. */
  inject(frame: Buffer): void {
    try {
      this.addon.captureInject(this.handle, frame);
    } catch (err) {
      throw new SkydiveError('SKYDIVE_INJECT_SEND', `cannot send a packet on ${this.ifName}: ${errorMessage(err)}`, 500);
    }
  }

  /** Closes the capture; packets still in the ring are not delivered. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.final = this.addon.captureStats(this.handle);
    this.addon.captureClose(this.handle);
  }
}
