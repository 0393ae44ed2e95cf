import { createRequire } from 'node:module';
import { SkydiveError, errorMessage } from '../../common/errors.js';

/**
 * A live libpcap capture (AF_PACKET, TPACKET_V3 ring) on one interface of the current network namespace, through
 * the `pcap` package's native session. The package's JS wrapper wraps every packet in a new object and an event;
 * here the native session is driven directly so that each packet reaches `onPacket` as (buffer, caplen, wireLen,
 * tsMs) in one reused Buffer, without allocation. The kernel applies the BPF filter (SO_ATTACH_FILTER).
 */

interface NativeSession {
  open_live(
    device: string,
    filter: string,
    bufferSize: number,
    snapLength: number,
    outfile: string,
    onPacket: () => void,
    monitor: boolean,
    timeoutMs: number,
    warn: (msg: string) => void,
    promiscuous: boolean,
  ): string;
  dispatch(buf: Buffer, header: Buffer): number;
  start_polling(): void;
  close(): void;
  stats(): { ps_recv: number; ps_drop: number; ps_ifdrop: number };
  inject(frame: Buffer): void;
  read_callback?: () => void;
}

interface NativeBinding {
  PcapSession: new () => NativeSession;
}

let binding: NativeBinding | undefined;

function native(): NativeBinding {
  if (!binding) binding = createRequire(import.meta.url)('pcap/build/Release/pcap_binding.node') as NativeBinding;
  return binding;
}

/** libpcap's names of the link types it opens → LINKTYPE_* numbers. */
const LINK_TYPES: Record<string, number> = {
  LINKTYPE_NULL: 0,
  LINKTYPE_ETHERNET: 1,
  LINKTYPE_RAW: 101,
  LINKTYPE_IEEE802_11_RADIO: 127,
  LINKTYPE_LINUX_SLL: 113,
};

export function linkTypeNumber(name: string): number {
  const known = LINK_TYPES[name];
  if (known !== undefined) return known;
  const m = /Unknown linktype (\d+)/.exec(name);
  return m ? Number(m[1]) : -1;
}

export interface LiveSessionOptions {
  /** BPF filter expression compiled by libpcap for the interface's link type. */
  filter?: string;
  /** Kernel ring size in bytes. */
  bufferSize?: number;
  /** Bytes kept per packet (HeaderSize); wire lengths are still counted in full. */
  snapLength?: number;
  promiscuous?: boolean;
  /** Ring block timeout: the longest a packet waits in the kernel before being delivered. */
  timeoutMs?: number;
}

export type LivePacketHandler = (buf: Buffer, caplen: number, wireLen: number, tsMs: number) => void;

export interface CaptureCounters {
  /** Packets the kernel handed to the capture socket. */
  received: number;
  /** Packets the kernel dropped because the ring was full. */
  dropped: number;
  /** Packets the interface dropped, when the driver reports it. */
  ifDropped: number;
}

export class LiveSession {
  readonly linkType: number;
  private readonly session: NativeSession;
  private readonly buf: Buffer;
  /** Own ArrayBuffer (Buffer.alloc, not the pool): 4-byte aligned for the Uint32Array view. */
  private readonly header = Buffer.alloc(16);
  private closed = false;
  readonly warnings: string[] = [];

  constructor(readonly ifName: string, onPacket: LivePacketHandler, opts: LiveSessionOptions = {}) {
    const snap = opts.snapLength && opts.snapLength > 0 ? opts.snapLength : 262144;
    this.buf = Buffer.alloc(snap);
    this.session = new (native().PcapSession)();
    const buf = this.buf;
    const maxCaplen = buf.length;
    // the native side writes tv_sec, tv_usec, caplen, len as host-order (little-endian here) 32-bit words: a typed
    // view reads them without Buffer's per-call bounds checks
    const hdr = new Uint32Array(this.header.buffer, this.header.byteOffset, 4);
    const deliver = () => {
      const caplen = hdr[2];
      onPacket(buf, caplen > maxCaplen ? maxCaplen : caplen, hdr[3], hdr[0] * 1000 + hdr[1] / 1000);
    };
    let type: string;
    try {
      type = this.session.open_live(
        ifName,
        opts.filter ?? '',
        opts.bufferSize ?? 32 << 20,
        snap,
        '',
        deliver,
        false,
        opts.timeoutMs ?? 200,
        (msg) => this.warnings.push(msg),
        opts.promiscuous ?? true,
      );
    } catch (err) {
      throw new SkydiveError('SKYDIVE_CAPTURE_OPEN', `cannot capture on ${ifName}: ${errorMessage(err)}`, 500);
    }
    this.linkType = linkTypeNumber(type);
    this.session.read_callback = () => {
      if (!this.closed) this.session.dispatch(this.buf, this.header);
    };
    this.session.start_polling();
    // packets may already be waiting in the ring before the poll watcher first fires
    setImmediate(() => this.session.read_callback?.());
  }

  counters(): CaptureCounters {
    const s = this.session.stats();
    return { received: s.ps_recv, dropped: s.ps_drop, ifDropped: s.ps_ifdrop };
  }

  /** Sends one complete frame out of the interface. */
  inject(frame: Buffer): void {
    try {
      this.session.inject(frame);
    } catch (err) {
      throw new SkydiveError('SKYDIVE_INJECT_SEND', `cannot send a packet on ${this.ifName}: ${errorMessage(err)}`, 500);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.session.close();
    // the native side frees the handle on the dispatch that follows pcap_breakloop
    this.session.dispatch(this.buf, this.header);
  }
}
