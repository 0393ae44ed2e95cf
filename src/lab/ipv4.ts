/** IPv4 arithmetic for lab address plans (lab network, management /30s). */

export const IPV4_PATTERN = '^(25[0-5]|2[0-4]\\d|1?\\d?\\d)(\\.(25[0-5]|2[0-4]\\d|1?\\d?\\d)){3}$';
export const CIDR_PATTERN = IPV4_PATTERN.slice(0, -1) + '/(3[0-2]|[12]?\\d)$';

export function ipToInt(ip: string): number {
  return ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export interface Cidr {
  network: number;
  prefix: number;
  size: number;
}

export function parseCidr(cidr: string): Cidr {
  const [ip, len] = cidr.split('/');
  const prefix = Number(len);
  const size = 2 ** (32 - prefix);
  return { network: ipToInt(ip) - (ipToInt(ip) % size), prefix, size };
}

export function cidrContains(c: Cidr, ip: string): boolean {
  const n = ipToInt(ip);
  return n >= c.network && n < c.network + c.size;
}

export function cidrOverlaps(a: Cidr, b: Cidr): boolean {
  return a.network < b.network + b.size && b.network < a.network + a.size;
}

/** The i-th /30 of a management range: machine side .1, host side .2 (relative to the /30). */
export function managementPair(range: Cidr, i: number): { machine: string; host: string; prefix: number } {
  const base = range.network + i * 4;
  return { machine: intToIp(base + 1), host: intToIp(base + 2), prefix: 30 };
}
