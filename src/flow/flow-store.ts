/**
 * Every flow of a table is three records of three ArrayBuffers, each seen as float64 and int32:
 *  - hot (128 bytes): what every packet reads or writes (counters, last time, key, flags, direction
 *    references, RTT state), densely packed so that the table's working set stays small;
 *  - cold (256 bytes): TCPMetric times and what is written once, at creation or update ticks (endpoint B, ids,
 *    keys, LastUpdateMetric);
 *  - TCP (128 bytes): segment tracking of a TCP flow, 64 bytes per direction (a packet touches one half).
 * Creating a flow allocates nothing on the JavaScript heap (Flow objects are views made on demand), and a packet
 * touches only its flows' records: no garbage to collect, no pointers to chase.
 */

/** Record sizes in float64 units (int32 units are twice as many). */
export const HOT_F64 = 16;
export const HOT_I32 = 32;
export const COLD_F64 = 32;
export const COLD_I32 = 64;
export const TCP_F64 = 16;
export const TCP_I32 = 32;

// ---- hot record: what a packet touches comes first, in the first 64 bytes (counters, last time, LRU order,
// key, flags, Link.A), then what some packets read (Network.A and Transport.A when the key's orientation does
// not tell the direction, UUID for the inner levels, RTT state).
// float64 fields (float64 index within the record)
export const F_AB_PACKETS = 0;
export const F_AB_BYTES = 1;
export const F_BA_PACKETS = 2;
export const F_BA_BYTES = 3;
/** Capture time (ms) of the latest packet. */
export const F_LAST = 4;
// int32 fields (int32 index within the record; words 10..23 = float64 fields 5..11)
/** Table-wide sequence number of the latest packet: orders flows from least to most recently used. */
export const I_ACCESS = 10;
/** The table key (FlowIndex finds a slot by it). */
export const I_KEY_HI = 11;
export const I_KEY_LO = 12;
export const I_FLAGS = 13;
/** Link.A as 16 + 32 bits. */
export const I_LINK_A_HI = 14;
export const I_LINK_A_LO = 15;
/** Network.A: 1 word for IPv4, 4 for IPv6. */
export const I_NET_A = 16;
export const I_TRANSPORT_A = 20;
export const I_FINISH_TYPE = 21;
export const I_UUID_HI = 22;
export const I_UUID_LO = 23;
// float64 fields 12..14
/** Pending ICMP echo request / TCP SYN time (ms); -1 none, -2 (SYN) RTT already measured. */
export const F_ECHO_TS = 12;
export const F_SYN_TS = 13;
/** RTT in ns, 0 if unknown. */
export const F_RTT = 14;

// ---- cold record: TCPMetric times (ms, float64 index)
export const F_AB_SYN_START = 0;
export const F_BA_SYN_START = 1;
export const F_AB_FIN_START = 2;
export const F_BA_FIN_START = 3;
export const F_AB_RST_START = 4;
export const F_BA_RST_START = 5;

// ---- cold record: other float64 fields
/** Capture time (ms) of the first packet. */
export const F_START = 6;
export const F_LINK_ID = 7;
export const F_NET_ID = 8;
/** Counters at the previous update tick (F_SNAP + 0..3 = AB packets, AB bytes, BA packets, BA bytes). */
export const F_SNAP = 9;
/** LastUpdateMetric: F_LUM + 0..3 counters, + 4 Start, + 5 Last, + 6 RTT. */
export const F_LUM = 13;

// ---- cold record: int32 fields (words 40..61 = float64 fields 20..30)
export const I_NET_B = 40;
export const I_LINK_B_HI = 44;
export const I_LINK_B_LO = 45;
export const I_TRANSPORT_B = 46;
/** Transport protocol: 1 TCP, 2 UDP, 3 SCTP. */
export const I_TRANSPORT_PROTO = 47;
/** ICMP: skydive ICMPType << 24 | code << 16 | id. */
export const I_ICMP = 48;
export const I_IPM_FRAGMENTS = 49;
export const I_IPM_ERRORS = 50;
/** l3Key (L3TrackingID) and l2Key (TrackingID). */
export const I_L3_HI = 51;
export const I_L3_LO = 52;
export const I_L2_HI = 53;
export const I_L2_LO = 54;
/** UUID of the parent flow (FL_PARENT). */
export const I_PARENT_HI = 55;
export const I_PARENT_LO = 56;
/** Interned LayersPath and Application ids of the table. */
export const I_PATH = 57;
export const I_APP = 58;
export const I_RAW_COUNT = 59;
/** IP TTL / hop limit of the first SYN of each direction (TCPMetric). */
export const I_AB_SYN_TTL = 60;
export const I_BA_SYN_TTL = 61;

// ---- TCP record: segment tracking (ReassembleTCP), one 64-byte block per direction at float64 index T_AB /
// T_BA; a block's int32 fields are at int32 index block * 2 + TI_*
export const T_AB = 0;
export const T_BA = 8;
/** Capture time (ms) of the latest delivered segment, -1 before the first. */
export const TS_LAST_SEEN = 0;
export const TS_BYTES = 1;
export const TS_SKIPPED_BYTES = 2;
export const TS_PACKETS = 3;
/** Next expected sequence number (as int32; valid with TSF_STARTED). */
export const TI_NEXT_SEQ = 8;
/** Sequence number of the last waiting segment (valid while TI_PENDING > 0). */
export const TI_TAIL_SEQ = 9;
export const TI_OUT_OF_ORDER = 10;
export const TI_SKIPPED = 11;
export const TI_FLAGS = 12;
/** Number of segments waiting for a gap to fill, their ring (index in the tracker's rings, + 1), and the
 * ring position of the first one (they are kept sorted by sequence number). */
export const TI_PENDING = 13;
export const TI_RING = 14;
export const TI_HEAD = 15;
// TI_FLAGS bits
export const TSF_SAW_START = 1;
export const TSF_SAW_END = 2;
export const TSF_CLOSED = 4;
/** The stream has started: TI_NEXT_SEQ is known. */
export const TSF_STARTED = 8;

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
/**
 * The first packet's source IP is the greater of the two (its key lists the other first): a later packet whose
 * key has the same orientation comes from Network.A (see FlowTable.levelKey).
 */
export const FL_SWAP_IP = 256;
/** TCP flow with TCPMetric (ExtraTCPMetric), and with segment tracking (ReassembleTCP). */
export const FL_TCP_METRIC = 512;
export const FL_TCP_TRACK = 1024;
export const FL_ICMP = 2048;
export const FL_IP_METRIC = 8192;
/** LastUpdateMetric is set; a snapshot of the counters exists (an update tick saw the flow). */
export const FL_LUM = 16384;
export const FL_SNAPSHOT = 32768;
export const FL_PARENT = 65536;

/**
 * Records start this many bytes into their ArrayBuffer. glibc serves large allocations with mmap, 16 bytes past
 * a page boundary: from there, every 128-byte record (and each 64-byte half of a TCP record) lies on whole
 * cache lines of one 128-byte pair, so that a packet's touch of a record costs one memory access, not two or
 * three. (Elsewhere the alignment is whatever the allocator gives; only speed depends on it.)
 */
const RECORD_PAD = 112;

function records(capacity: number, f64PerRecord: number): Float64Array {
  return new Float64Array(new ArrayBuffer(RECORD_PAD + capacity * f64PerRecord * 8), RECORD_PAD, capacity * f64PerRecord);
}

export class FlowStore {
  /** Hot records. */
  f64: Float64Array;
  i32: Int32Array;
  /** Cold records. */
  cf64: Float64Array;
  ci32: Int32Array;
  /** TCP records. */
  tf64: Float64Array;
  ti32: Int32Array;
  capacity: number;

  constructor(capacity = 1024) {
    this.capacity = capacity;
    this.f64 = records(capacity, HOT_F64);
    this.i32 = new Int32Array(this.f64.buffer, RECORD_PAD);
    this.cf64 = records(capacity, COLD_F64);
    this.ci32 = new Int32Array(this.cf64.buffer, RECORD_PAD);
    this.tf64 = records(capacity, TCP_F64);
    this.ti32 = new Int32Array(this.tf64.buffer, RECORD_PAD);
  }

  /** Makes room for `slots` records, keeping the existing ones. */
  ensure(slots: number): void {
    if (slots <= this.capacity) return;
    let cap = this.capacity;
    while (cap < slots) cap *= 2;
    const f64 = records(cap, HOT_F64);
    f64.set(this.f64);
    const cf64 = records(cap, COLD_F64);
    cf64.set(this.cf64);
    const tf64 = records(cap, TCP_F64);
    tf64.set(this.tf64);
    this.f64 = f64;
    this.i32 = new Int32Array(f64.buffer, RECORD_PAD);
    this.cf64 = cf64;
    this.ci32 = new Int32Array(cf64.buffer, RECORD_PAD);
    this.tf64 = tf64;
    this.ti32 = new Int32Array(tf64.buffer, RECORD_PAD);
    this.capacity = cap;
  }

  /** Resets the records of a slot for a new flow. */
  clear(slot: number): void {
    this.f64.fill(0, slot * HOT_F64, (slot + 1) * HOT_F64);
    this.cf64.fill(0, slot * COLD_F64, (slot + 1) * COLD_F64);
    this.tf64.fill(0, slot * TCP_F64, (slot + 1) * TCP_F64);
  }

  /** A copy of a slot's records, hot, cold then TCP (for a flow leaving its table). */
  copy(slot: number): Float64Array {
    const out = new Float64Array(HOT_F64 + COLD_F64 + TCP_F64);
    out.set(this.f64.subarray(slot * HOT_F64, (slot + 1) * HOT_F64));
    out.set(this.cf64.subarray(slot * COLD_F64, (slot + 1) * COLD_F64), HOT_F64);
    out.set(this.tf64.subarray(slot * TCP_F64, (slot + 1) * TCP_F64), HOT_F64 + COLD_F64);
    return out;
  }
}
