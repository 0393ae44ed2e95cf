/**
 * Application-layer recognisers. gopacket names an application layer only when its decoder accepts the bytes
 * (a failed decode stops the LayersPath at the transport layer), so each recogniser checks what gopacket's
 * decoder checks, in place and without allocating. Full parsing (for ExtraLayers) lives in dns.ts.
 */

/** Offset just after a DNS name at `o` (message starts at `msg`, ends at `end`), or -1 if malformed. */
export function dnsSkipName(b: Uint8Array, msg: number, o: number, end: number): number {
  let after = -1;
  let hops = 0;
  let nameLen = 0;
  for (;;) {
    if (o >= end) return -1;
    const l = b[o];
    if (l === 0) return after < 0 ? o + 1 : after;
    const kind = l & 0xc0;
    if (kind === 0xc0) {
      if (o + 1 >= end) return -1;
      if (after < 0) after = o + 2;
      // a pointer loop (or absurd chain) is a decode error in gopacket too
      if (++hops > 126) return -1;
      o = msg + (((l & 0x3f) << 8) | b[o + 1]);
      continue;
    }
    if (kind !== 0) return -1;
    nameLen += l + 1;
    if (nameLen > 255) return -1;
    o += l + 1;
  }
}

function dnsCheckRData(b: Uint8Array, msg: number, type: number, o: number, rend: number): boolean {
  switch (type) {
    case 2: // NS
    case 5: // CNAME
    case 12: // PTR
      return dnsSkipName(b, msg, o, rend) > 0;
    case 15: // MX
      return o + 2 <= rend && dnsSkipName(b, msg, o + 2, rend) > 0;
    case 33: // SRV
      return o + 6 <= rend && dnsSkipName(b, msg, o + 6, rend) > 0;
    case 6: {
      // SOA
      const m = dnsSkipName(b, msg, o, rend);
      if (m < 0) return false;
      const r = dnsSkipName(b, msg, m, rend);
      return r > 0 && r + 20 <= rend;
    }
    case 16: // TXT
    case 13: {
      // HINFO
      while (o < rend) {
        o += b[o] + 1;
        if (o > rend) return false;
      }
      return true;
    }
    case 41: {
      // OPT
      while (o < rend) {
        if (o + 4 > rend) return false;
        o += 4 + ((b[o + 2] << 8) | b[o + 3]);
        if (o > rend) return false;
      }
      return true;
    }
    case 1:
      return rend - o >= 4;
    case 28:
      return rend - o >= 16;
    default:
      return true;
  }
}

/** True if b[off, end) is a DNS message gopacket's DNS decoder accepts. */
export function isDNS(b: Uint8Array, off: number, end: number): boolean {
  if (end - off < 12) return false;
  const qd = (b[off + 4] << 8) | b[off + 5];
  const rrs = ((b[off + 6] << 8) | b[off + 7]) + ((b[off + 8] << 8) | b[off + 9]) + ((b[off + 10] << 8) | b[off + 11]);
  let o = off + 12;
  for (let i = 0; i < qd; i++) {
    o = dnsSkipName(b, off, o, end);
    if (o < 0 || o + 4 > end) return false;
    o += 4;
  }
  for (let i = 0; i < rrs; i++) {
    o = dnsSkipName(b, off, o, end);
    if (o < 0 || o + 10 > end) return false;
    const type = (b[o] << 8) | b[o + 1];
    const rdlen = (b[o + 8] << 8) | b[o + 9];
    const rd = o + 10;
    const rend = rd + rdlen;
    if (rend > end) return false;
    if (!dnsCheckRData(b, off, type, rd, rend)) return false;
    o = rend;
  }
  return true;
}

/** TLS: a sequence of complete records of known content types (20..23), as gopacket's TLS decoder requires. */
export function isTLS(b: Uint8Array, off: number, end: number): boolean {
  let o = off;
  do {
    if (end - o < 5) return false;
    const t = b[o];
    if (t < 20 || t > 23) return false;
    o += 5 + ((b[o + 3] << 8) | b[o + 4]);
    if (o > end) return false;
  } while (o < end);
  return true;
}

const SIP_METHODS = [
  'INVITE',
  'ACK',
  'BYE',
  'CANCEL',
  'OPTIONS',
  'REGISTER',
  'PRACK',
  'SUBSCRIBE',
  'NOTIFY',
  'PUBLISH',
  'INFO',
  'REFER',
  'MESSAGE',
  'UPDATE',
].map((m) => Array.from(m + ' ', (c) => c.charCodeAt(0)));
const SIP_VERSION = Array.from('SIP/2.0', (c) => c.charCodeAt(0));

function startsWith(b: Uint8Array, o: number, end: number, s: number[]): boolean {
  if (end - o < s.length) return false;
  for (let i = 0; i < s.length; i++) if (b[o + i] !== s[i]) return false;
  return true;
}

/** SIP: a status line ("SIP/2.0 ...") or a request line with a known method. */
export function isSIP(b: Uint8Array, off: number, end: number): boolean {
  if (startsWith(b, off, end, SIP_VERSION)) return true;
  for (const m of SIP_METHODS) if (startsWith(b, off, end, m)) return true;
  return false;
}

/**
 * GTPv1-U header length (mandatory part, optional fields and extension headers), or -1 if malformed or not
 * version 1.
 */
export function gtpv1uHeaderLength(b: Uint8Array, off: number, end: number): number {
  if (end - off < 8) return -1;
  const flags = b[off];
  if (flags >> 5 !== 1) return -1;
  let hl = 8;
  if (flags & 0x07) {
    hl += 4;
    if (end - off < hl) return -1;
    if (flags & 0x04) {
      let next = b[off + hl - 1];
      while (next !== 0) {
        if (off + hl >= end) return -1;
        const extLen = b[off + hl] * 4;
        if (extLen === 0 || off + hl + extLen > end) return -1;
        hl += extLen;
        next = b[off + hl - 1];
      }
    }
  }
  return hl;
}
