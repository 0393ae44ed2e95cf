/** Address formatting as Go prints it (net.HardwareAddr.String, net.IP.String). Used at flow creation only. */

const HEX2: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function formatMAC(b: Uint8Array, o: number): string {
  return `${HEX2[b[o]]}:${HEX2[b[o + 1]]}:${HEX2[b[o + 2]]}:${HEX2[b[o + 3]]}:${HEX2[b[o + 4]]}:${HEX2[b[o + 5]]}`;
}

export function formatIPv4(b: Uint8Array, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

/** RFC 5952 form; an IPv4-mapped address (::ffff:a.b.c.d) prints as dotted IPv4, like Go. */
export function formatIPv6(b: Uint8Array, o: number): string {
  let mapped = b[o + 10] === 0xff && b[o + 11] === 0xff;
  for (let i = 0; i < 10 && mapped; i++) if (b[o + i] !== 0) mapped = false;
  if (mapped) return formatIPv4(b, o + 12);
  const groups = new Array<number>(8);
  for (let i = 0; i < 8; i++) groups[i] = (b[o + 2 * i] << 8) | b[o + 2 * i + 1];
  // the longest run of two or more zero groups (the first one on a tie) becomes "::"
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.map((g) => g.toString(16)).join(':');
  const head = groups.slice(0, bestStart).map((g) => g.toString(16)).join(':');
  const tail = groups.slice(bestStart + bestLen).map((g) => g.toString(16)).join(':');
  return `${head}::${tail}`;
}
