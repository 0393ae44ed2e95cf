import { formatIPv4, formatIPv6 } from './addr.js';
import { dnsSkipName } from './app-layers.js';

/**
 * The DNS extra layer of a flow (ExtraLayers bit DNS), with the PascalCase JSON keys of skydive's Go test and of
 * its pre-2024 JSON. Parsed only for packets that carry DNS when the option is on.
 */
export interface DNSQuestionJSON {
  Name: string;
  Type: string;
  Class: string;
}
export interface DNSSOAJSON {
  MName: string;
  RName: string;
  Serial: number;
  Refresh: number;
  Retry: number;
  Expire: number;
  Minimum: number;
}
export interface DNSSRVJSON {
  Priority: number;
  Weight: number;
  Port: number;
  Name: string;
}
export interface DNSMXJSON {
  Preference: number;
  Name: string;
}
export interface DNSOPTJSON {
  Code: string;
  Data: string;
}
export interface DNSResourceRecordJSON {
  Name: string;
  Type: string;
  Class: string;
  TTL: number;
  DataLength: number;
  IP?: string;
  NS?: string;
  CNAME?: string;
  PTR?: string;
  TXTs?: string[];
  SOA?: DNSSOAJSON;
  SRV?: DNSSRVJSON;
  MX?: DNSMXJSON;
  OPT?: DNSOPTJSON[];
}
export interface DNSJSON {
  ID: number;
  QR: boolean;
  OpCode: string;
  AA: boolean;
  TC: boolean;
  RD: boolean;
  RA: boolean;
  Z: number;
  ResponseCode: string;
  QDCount: number;
  ANCount: number;
  NSCount: number;
  ARCount: number;
  Questions: DNSQuestionJSON[] | null;
  Answers: DNSResourceRecordJSON[] | null;
  Authorities: DNSResourceRecordJSON[] | null;
  Additionals: DNSResourceRecordJSON[] | null;
  /** Capture time of the packet, RFC 3339 in UTC with up to microsecond precision. */
  Timestamp: string;
}

const TYPE_NAMES: Record<number, string> = {
  1: 'A',
  2: 'NS',
  3: 'MD',
  4: 'MF',
  5: 'CNAME',
  6: 'SOA',
  7: 'MB',
  8: 'MG',
  9: 'MR',
  10: 'NULL',
  11: 'WKS',
  12: 'PTR',
  13: 'HINFO',
  14: 'MINFO',
  15: 'MX',
  16: 'TXT',
  28: 'AAAA',
  33: 'SRV',
  41: 'OPT',
  256: 'URI',
};
const CLASS_NAMES: Record<number, string> = { 1: 'IN', 2: 'CS', 3: 'CH', 4: 'HS', 255: 'Any' };
const OPCODE_NAMES: Record<number, string> = { 0: 'Query', 1: 'IQuery', 2: 'Status', 4: 'Notify', 5: 'Update' };
const RCODE_NAMES: Record<number, string> = {
  0: 'No Error',
  1: 'Format Error',
  2: 'Server Failure',
  3: 'Non-Existent Domain',
  4: 'Not Implemented',
  5: 'Query Refused',
  6: 'Name Exists when it should not',
  7: 'RR Set Exists when it should not',
  8: 'RR Set that should exist does not',
  9: 'Server Not Authoritative for zone',
  10: 'Name not contained in zone',
  16: 'Bad OPT Version',
  17: 'Key not recognized',
  18: 'Signature out of time window',
  19: 'Bad TKEY Mode',
  20: 'Duplicate key name',
  21: 'Algorithm not supported',
  22: 'Bad Truncation',
};
const OPTION_NAMES: Record<number, string> = {
  3: 'NSID',
  5: 'DAU',
  6: 'DHU',
  7: 'N3U',
  8: 'EDNSClientSubnet',
  9: 'EDNSExpire',
  10: 'Cookie',
  11: 'EDNSKeepAlive',
  12: 'CookiePadding',
  13: 'EDNSChain',
  14: 'EDNSKeyTag',
  16: 'EDNSClientTag',
  17: 'EDNSServerTag',
  26946: 'DeviceID',
};

const utf8 = new TextDecoder('utf-8');

function u16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}
function u32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

/** Dotted name at o (compression pointers followed). Call only on validated messages. */
function readName(b: Uint8Array, msg: number, o: number, end: number): string {
  const labels: string[] = [];
  let hops = 0;
  while (o < end) {
    const l = b[o];
    if (l === 0) break;
    if ((l & 0xc0) === 0xc0) {
      if (++hops > 126 || o + 1 >= end) break;
      o = msg + (((l & 0x3f) << 8) | b[o + 1]);
      continue;
    }
    labels.push(utf8.decode(b.subarray(o + 1, Math.min(o + 1 + l, end))));
    o += l + 1;
  }
  return labels.join('.');
}

function readRecord(b: Uint8Array, msg: number, o: number, end: number): [DNSResourceRecordJSON | null, number] {
  const name = readName(b, msg, o, end);
  o = dnsSkipName(b, msg, o, end);
  const type = u16(b, o);
  const rdlen = u16(b, o + 8);
  const rd = o + 10;
  const rend = rd + rdlen;
  const rec: DNSResourceRecordJSON = {
    Name: name,
    Type: TYPE_NAMES[type] ?? 'Unknown',
    Class: CLASS_NAMES[u16(b, o + 2)] ?? 'Unknown',
    TTL: u32(b, o + 4),
    DataLength: rdlen,
  };
  switch (type) {
    case 1:
      rec.IP = formatIPv4(b, rd);
      break;
    case 28:
      rec.IP = formatIPv6(b, rd);
      break;
    case 2:
      rec.NS = readName(b, msg, rd, rend);
      break;
    case 5:
      rec.CNAME = readName(b, msg, rd, rend);
      break;
    case 12:
      rec.PTR = readName(b, msg, rd, rend);
      break;
    case 15:
      rec.MX = { Preference: u16(b, rd), Name: readName(b, msg, rd + 2, rend) };
      break;
    case 33:
      rec.SRV = { Priority: u16(b, rd), Weight: u16(b, rd + 2), Port: u16(b, rd + 4), Name: readName(b, msg, rd + 6, rend) };
      break;
    case 6: {
      const m = dnsSkipName(b, msg, rd, rend);
      const r = dnsSkipName(b, msg, m, rend);
      rec.SOA = {
        MName: readName(b, msg, rd, rend),
        RName: readName(b, msg, m, rend),
        Serial: u32(b, r),
        Refresh: u32(b, r + 4),
        Retry: u32(b, r + 8),
        Expire: u32(b, r + 12),
        Minimum: u32(b, r + 16),
      };
      break;
    }
    case 16:
    case 13: {
      const txts: string[] = [];
      let t = rd;
      while (t < rend) {
        txts.push(utf8.decode(b.subarray(t + 1, t + 1 + b[t])));
        t += b[t] + 1;
      }
      rec.TXTs = txts;
      break;
    }
    case 41: {
      const opts: DNSOPTJSON[] = [];
      let t = rd;
      while (t + 4 <= rend) {
        const len = u16(b, t + 2);
        opts.push({ Code: OPTION_NAMES[u16(b, t)] ?? 'Unknown', Data: utf8.decode(b.subarray(t + 4, t + 4 + len)) });
        t += 4 + len;
      }
      rec.OPT = opts;
      break;
    }
    default:
      // like skydive, records of other types are not kept
      return [null, rend];
  }
  return [rec, rend];
}

/** RFC 3339 UTC time with the fraction trimmed of trailing zeros (Go's RFC3339Nano), from ms since the epoch. */
export function formatTimestamp(tsMs: number): string {
  const us = Math.round(tsMs * 1000);
  const sec = Math.floor(us / 1e6);
  const frac = us - sec * 1e6;
  const base = new Date(sec * 1000).toISOString().slice(0, 19);
  if (frac === 0) return base + 'Z';
  return `${base}.${String(frac).padStart(6, '0').replace(/0+$/, '')}Z`;
}

/** Parses a DNS message already accepted by isDNS (b[off, end)). */
export function parseDNS(b: Uint8Array, off: number, end: number, tsMs: number): DNSJSON {
  const qd = u16(b, off + 4);
  const an = u16(b, off + 6);
  const ns = u16(b, off + 8);
  const ar = u16(b, off + 10);
  let o = off + 12;
  let questions: DNSQuestionJSON[] | null = null;
  if (qd > 0) {
    questions = [];
    for (let i = 0; i < qd; i++) {
      const name = readName(b, off, o, end);
      o = dnsSkipName(b, off, o, end);
      questions.push({ Name: name, Type: TYPE_NAMES[u16(b, o)] ?? 'Unknown', Class: CLASS_NAMES[u16(b, o + 2)] ?? 'Unknown' });
      o += 4;
    }
  }
  const section = (count: number): DNSResourceRecordJSON[] | null => {
    if (count === 0) return null;
    const out: DNSResourceRecordJSON[] = [];
    for (let i = 0; i < count; i++) {
      const [rec, next] = readRecord(b, off, o, end);
      if (rec) out.push(rec);
      o = next;
    }
    return out;
  };
  const answers = section(an);
  const authorities = section(ns);
  const additionals = section(ar);
  const f = b[off + 2];
  const g = b[off + 3];
  return {
    ID: u16(b, off),
    QR: (f & 0x80) !== 0,
    OpCode: OPCODE_NAMES[(f >> 3) & 0x0f] ?? 'Unknown',
    AA: (f & 0x04) !== 0,
    TC: (f & 0x02) !== 0,
    RD: (f & 0x01) !== 0,
    RA: (g & 0x80) !== 0,
    Z: (g >> 4) & 0x07,
    ResponseCode: RCODE_NAMES[g & 0x0f] ?? 'Unknown',
    QDCount: qd,
    ANCount: an,
    NSCount: ns,
    ARCount: ar,
    Questions: questions,
    Answers: answers,
    Authorities: authorities,
    Additionals: additionals,
    Timestamp: formatTimestamp(tsMs),
  };
}
