/**
 * Every flow of a table is two records of two ArrayBuffers, each seen as float64 and int32:
 *  - hot (128 bytes, two cache lines): what every packet reads or writes (counters, last time, direction
 *    references, flags, RTT state), densely packed so that the table's working set stays small;
 *  - cold (400 bytes): TCP state (TCPMetric times, segment tracking per direction), and what is written once, at
 *    creation or update ticks (endpoint B, ids, keys, LastUpdateMetric).
 * Creating a flow allocates nothing on the JavaScript heap (Flow objects are views made on demand), and a packet
 * touches only its flows' records: no garbage to collect, no pointers to chase.
 */

/** Record sizes in float64 units (int32 units are twice as many). */
export const HOT_F64 = 16;
export const HOT_I32 = 32;
export const COLD_F64 = 50;
export const COLD_I32 = 100;

// ---- hot: float64 fields (float64 index within the record)
export const F_AB_PACKETS = 0;
export const F_AB_BYTES = 1;
export const F_BA_PACKETS = 2;
export const F_BA_BYTES = 3;
/** Capture time (ms) of the latest packet. */
export const F_LAST = 4;
/** Table-wide sequence number of the latest packet: orders flows from least to most recently used. */
export const F_ACCESS = 5;
/** Pending ICMP echo request / TCP SYN time (ms); -1 none, -2 (SYN) RTT already measured. */
export const F_ECHO_TS = 6;
export const F_SYN_TS = 7;

// ---- hot: int32 fields (int32 index within the record; words 16..31 = float64 fields 8..15)
export const I_UPDATE_VERSION = 16;
export const I_FLAGS = 17;
/** Link.A as 16 + 32 bits. */
export const I_LINK_A_HI = 18;
export const I_LINK_A_LO = 19;
/** Network.A: 1 word for IPv4, 4 for IPv6. */
export const I_NET_A = 20;
export const I_TRANSPORT_A = 24;
export const I_UUID_HI = 25;
export const I_UUID_LO = 26;
/** High half of the table key (the index holds the low half). */
export const I_KEY_HI = 27;
export const I_FINISH_TYPE = 29;
/** RTT in ns, 0 if unknown (float64 index: int32 words 30..31). */
export const F_RTT = 15;

// ---- cold record: TCPMetric times (ms, float64 index)
export const F_AB_SYN_START = 0;
export const F_BA_SYN_START = 1;
export const F_AB_FIN_START = 2;
export const F_BA_FIN_START = 3;
export const F_AB_RST_START = 4;
export const F_BA_RST_START = 5;

/**
 * TCP segment tracking, one block per direction starting at F_TCP_AB / F_TCP_BA (float64 units); the block's
 * int32 fields start at int32 index (block + TS_INTS) * 2.
 */
export const F_TCP_AB = 6;
export const F_TCP_BA = 15;
/** Next expected sequence number, -1 before the stream starts. */
export const TS_NEXT_SEQ = 0;
/** Capture time (ms) of the latest delivered segment, -1 before the first. */
export const TS_LAST_SEEN = 1;
export const TS_BYTES = 2;
export const TS_SKIPPED_BYTES = 3;
export const TS_PACKETS = 4;
/** Sequence number of the last waiting segment (valid while TI_PENDING > 0). */
export const TS_TAIL_SEQ = 5;
export const TS_INTS = 6;
export const TI_OUT_OF_ORDER = 0;
export const TI_SKIPPED = 1;
export const TI_FLAGS = 2;
/** Number of segments waiting for a gap to fill, where they are (index in the tracker's pool, + 1), and the
 * ring position of the first one (they are kept sorted by sequence number). */
export const TI_PENDING = 3;
export const TI_POOL = 4;
export const TI_HEAD = 5;
// TI_FLAGS bits
export const TSF_SAW_START = 1;
export const TSF_SAW_END = 2;
export const TSF_CLOSED = 4;

// ---- cold record: other float64 fields
/** Capture time (ms) of the first packet. */
export const F_START = 24;
export const F_LINK_ID = 25;
export const F_NET_ID = 26;
/** Counters at the previous update tick (F_SNAP + 0..3 = AB packets, AB bytes, BA packets, BA bytes). */
export const F_SNAP = 27;
/** LastUpdateMetric: F_LUM + 0..3 counters, + 4 Start, + 5 Last, + 6 RTT. */
export const F_LUM = 31;

// ---- cold record: int32 fields (words 76..99 = float64 fields 38..49)
export const I_NET_B = 76;
export const I_LINK_B_HI = 80;
export const I_LINK_B_LO = 81;
export const I_TRANSPORT_B = 82;
/** Transport protocol: 1 TCP, 2 UDP, 3 SCTP. */
export const I_TRANSPORT_PROTO = 83;
/** ICMP: skydive ICMPType << 24 | code << 16 | id. */
export const I_ICMP = 84;
export const I_IPM_FRAGMENTS = 85;
export const I_IPM_ERRORS = 86;
/** l3Key (L3TrackingID) and l2Key (TrackingID). */
export const I_L3_HI = 87;
export const I_L3_LO = 88;
export const I_L2_HI = 89;
export const I_L2_LO = 90;
/** UUID of the parent flow (FL_PARENT). */
export const I_PARENT_HI = 91;
export const I_PARENT_LO = 92;
/** Interned LayersPath and Application ids of the table. */
export const I_PATH = 93;
export const I_APP = 94;
export const I_RAW_COUNT = 95;
/** Low half of the table key. */
export const I_KEY_LO = 96;
/** IP TTL / hop limit of the first SYN of each direction (TCPMetric). */
export const I_AB_SYN_TTL = 97;
export const I_BA_SYN_TTL = 98;

export const TRANSPORT_TCP = 1;
export const TRANSPORT_UDP = 2;
export const TRANSPORT_SCTP = 3;

// I_FLAGS bits
/** The slot holds a flow. */
export const FL_LIVE = 1;
export const FL_LINK = 2;
export const FL_NETWORK = 4;
export const FL_NET_V6 = 8;
export const FL_TRANSPORT = 16;
/** TCP flow: its packets go through the TCP step (RTT, FIN/RST, TCPMetric). */
export const FL_TCP = 32;
export const FL_FIN_AB = 64;
export const FL_FIN_BA = 128;
/** The table keeps per-packet extras for its flows (raw packets, DNS layer). */
export const FL_EXTRAS = 256;
/** TCP flow with TCPMetric (ExtraTCPMetric), and with segment tracking (ReassembleTCP). */
export const FL_TCP_METRIC = 512;
export const FL_TCP_TRACK = 1024;
export const FL_ICMP = 2048;
export const FL_IP_METRIC = 8192;
/** LastUpdateMetric is set; a snapshot of the counters exists (an update tick saw the flow). */
export const FL_LUM = 16384;
export const FL_SNAPSHOT = 32768;
export const FL_PARENT = 65536;

export class FlowStore {
  /** Hot records. */
  f64: Float64Array;
  i32: Int32Array;
  /** Cold records. */
  cf64: Float64Array;
  ci32: Int32Array;
  capacity: number;

  constructor(capacity = 1024) {
    this.capacity = capacity;
    this.f64 = new Float64Array(capacity * HOT_F64);
    this.i32 = new Int32Array(this.f64.buffer);
    this.cf64 = new Float64Array(capacity * COLD_F64);
    this.ci32 = new Int32Array(this.cf64.buffer);
  }

  /** Makes room for `slots` records, keeping the existing ones. */
  ensure(slots: number): void {
    if (slots <= this.capacity) return;
    let cap = this.capacity;
    while (cap < slots) cap *= 2;
    const f64 = new Float64Array(cap * HOT_F64);
    f64.set(this.f64);
    const cf64 = new Float64Array(cap * COLD_F64);
    cf64.set(this.cf64);
    this.f64 = f64;
    this.i32 = new Int32Array(f64.buffer);
    this.cf64 = cf64;
    this.ci32 = new Int32Array(cf64.buffer);
    this.capacity = cap;
  }

  /** Resets the records of a slot for a new flow. */
  clear(slot: number): void {
    this.f64.fill(0, slot * HOT_F64, (slot + 1) * HOT_F64);
    this.cf64.fill(0, slot * COLD_F64, (slot + 1) * COLD_F64);
  }

  /** A copy of a slot's records, hot then cold (for a flow leaving its table). */
  copy(slot: number): Float64Array {
    const out = new Float64Array(HOT_F64 + COLD_F64);
    out.set(this.f64.subarray(slot * HOT_F64, (slot + 1) * HOT_F64));
    out.set(this.cf64.subarray(slot * COLD_F64, (slot + 1) * COLD_F64), HOT_F64);
    return out;
  }
}
