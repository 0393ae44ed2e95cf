import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Typed views of `ip -json -details -statistics` outputs (iproute2 6.x), turned into the metadata shapes of the
 * original's netlink probe: IPV4/IPV6 in CIDR form, RoutingTables, Neighbors, Metric. Pure functions, so that
 * they can be tested on outputs captured from the real kernel.
 */

export interface IpLink {
  ifindex: number;
  name: string;
  /** netlink kind (linkinfo.info_kind), undefined for plain devices and loopback. */
  kind?: string;
  /** tun/tap mode of a tun device (linkinfo.info_data.type). */
  tunMode?: string;
  linkType: string;
  mac?: string;
  mtu?: number;
  operstate: string;
  flags: string[];
  /** Name of the master (bridge/bond) in the same namespace. */
  master?: string;
  /** IFLA_LINK in the same namespace, given by name (veth peer, vlan parent). */
  link?: string;
  /** IFLA_LINK when it lives in another namespace (link_netnsid set) or cannot be named. */
  linkIndex?: number;
  linkNetnsid?: number;
  vlanID?: number;
  stats?: InterfaceMetric;
}

export interface InterfaceMetric {
  Collisions: number;
  Multicast: number;
  RxBytes: number;
  RxCompressed: number;
  RxCrcErrors: number;
  RxDropped: number;
  RxErrors: number;
  RxFifoErrors: number;
  RxFrameErrors: number;
  RxLengthErrors: number;
  RxMissedErrors: number;
  RxOverErrors: number;
  RxPackets: number;
  TxAbortedErrors: number;
  TxBytes: number;
  TxCarrierErrors: number;
  TxCompressed: number;
  TxDropped: number;
  TxErrors: number;
  TxFifoErrors: number;
  TxHeartbeatErrors: number;
  TxPackets: number;
  TxWindowErrors: number;
  Start?: number;
  Last?: number;
}

export interface NextHop {
  Priority: number;
  IP?: string;
  IfIndex: number;
}
export interface Route {
  Protocol: number;
  Prefix: string;
  NextHops: NextHop[];
}
export interface RoutingTable {
  ID: number;
  Src?: string;
  Routes: Route[];
}
export interface Neighbor {
  Flags?: string[];
  MAC: string;
  IP?: string;
  State?: string[];
  IfIndex: number;
}
export interface Addresses {
  IPV4: string[];
  IPV6: string[];
}

type Json = Record<string, unknown>;

/** One `ip -json` output line: always an array of objects. */
export function parseIpOutput(line: string): Json[] {
  const v: unknown = JSON.parse(line);
  if (!Array.isArray(v)) throw new Error(`ip -json output is not an array: ${line.slice(0, 80)}`);
  return v.filter((x): x is Json => x !== null && typeof x === 'object');
}

const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export function parseLinks(rows: Json[]): IpLink[] {
  const out: IpLink[] = [];
  for (const r of rows) {
    const ifindex = num(r.ifindex);
    const name = str(r.ifname);
    if (ifindex === undefined || !name) continue;
    const info = (r.linkinfo ?? {}) as Json;
    const infoData = (info.info_data ?? {}) as Json;
    const kind = str(info.info_kind);
    const l: IpLink = {
      ifindex,
      name,
      kind,
      linkType: str(r.link_type) ?? 'none',
      operstate: str(r.operstate) ?? 'UNKNOWN',
      flags: Array.isArray(r.flags) ? r.flags.filter((f): f is string => typeof f === 'string') : [],
    };
    if (kind === 'tun') l.tunMode = str(infoData.type);
    if (kind === 'vlan') l.vlanID = num(infoData.id);
    const mac = str(r.address);
    // only real link-layer addresses: tunnels report their IPs here
    if (mac && /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(mac)) l.mac = mac;
    const mtu = num(r.mtu);
    if (mtu !== undefined) l.mtu = mtu;
    const master = str(r.master);
    if (master) l.master = master;
    const link = str(r.link);
    if (link) l.link = link;
    const linkIndex = num(r.link_index);
    if (linkIndex !== undefined) l.linkIndex = linkIndex;
    const nsid = num(r.link_netnsid);
    if (nsid !== undefined) l.linkNetnsid = nsid;
    const stats = r.stats64 as { rx?: Json; tx?: Json } | undefined;
    if (stats?.rx && stats?.tx) l.stats = metricOf(stats.rx, stats.tx);
    out.push(l);
  }
  return out;
}

function metricOf(rx: Json, tx: Json): InterfaceMetric {
  const n = (o: Json, k: string): number => num(o[k]) ?? 0;
  return {
    Collisions: n(tx, 'collisions'),
    Multicast: n(rx, 'multicast'),
    RxBytes: n(rx, 'bytes'),
    RxCompressed: n(rx, 'compressed'),
    RxCrcErrors: n(rx, 'crc_errors'),
    RxDropped: n(rx, 'dropped'),
    RxErrors: n(rx, 'errors'),
    RxFifoErrors: n(rx, 'fifo_errors'),
    RxFrameErrors: n(rx, 'frame_errors'),
    RxLengthErrors: n(rx, 'length_errors'),
    RxMissedErrors: n(rx, 'missed_errors'),
    RxOverErrors: n(rx, 'over_errors'),
    RxPackets: n(rx, 'packets'),
    TxAbortedErrors: n(tx, 'aborted_errors'),
    TxBytes: n(tx, 'bytes'),
    TxCarrierErrors: n(tx, 'carrier_errors'),
    TxCompressed: n(tx, 'compressed'),
    TxDropped: n(tx, 'dropped'),
    TxErrors: n(tx, 'errors'),
    TxFifoErrors: n(tx, 'fifo_errors'),
    TxHeartbeatErrors: n(tx, 'heartbeat_errors'),
    TxPackets: n(tx, 'packets'),
    TxWindowErrors: n(tx, 'window_errors'),
  };
}

const COUNTER_KEYS = Object.keys(metricOf({}, {})) as Array<keyof InterfaceMetric>;

/** Counter difference cur - prev (LastUpdateMetric); undefined when nothing moved. */
export function metricDelta(cur: InterfaceMetric, prev: InterfaceMetric): InterfaceMetric | undefined {
  const d = metricOf({}, {});
  let moved = false;
  for (const k of COUNTER_KEYS) {
    const v = (cur[k] ?? 0) - (prev[k] ?? 0);
    (d as unknown as Record<string, number>)[k] = v;
    if (v !== 0) moved = true;
  }
  return moved ? d : undefined;
}

/** `ip -json addr show` ⇒ CIDR lists per ifindex. */
export function parseAddresses(rows: Json[]): Map<number, Addresses> {
  const out = new Map<number, Addresses>();
  for (const r of rows) {
    const ifindex = num(r.ifindex);
    if (ifindex === undefined || !Array.isArray(r.addr_info)) continue;
    const a: Addresses = { IPV4: [], IPV6: [] };
    for (const ai of r.addr_info as Json[]) {
      const local = str(ai.local);
      const plen = num(ai.prefixlen);
      if (!local || plen === undefined) continue;
      if (ai.family === 'inet') a.IPV4.push(`${local}/${plen}`);
      else if (ai.family === 'inet6') a.IPV6.push(`${local}/${plen}`);
    }
    out.set(ifindex, a);
  }
  return out;
}

/**
 * `ip -json route show table all` (both families) ⇒ RoutingTables per output interface, grouped like the
 * original: table ⇒ routes keyed by (protocol, prefix) ⇒ next hops.
 */
export function parseRoutes(rows: Json[], indexOf: (dev: string) => number | undefined, names = iprouteNames()): Map<number, RoutingTable[]> {
  const perIf = new Map<number, Map<number, RoutingTable>>();
  const add = (ifindex: number, tableID: number, src: string | undefined, protocol: number, prefix: string, hop: NextHop): void => {
    let tables = perIf.get(ifindex);
    if (!tables) perIf.set(ifindex, (tables = new Map()));
    let t = tables.get(tableID);
    if (!t) tables.set(tableID, (t = { ID: tableID, Routes: [] }));
    if (src && !t.Src) t.Src = src;
    let route = t.Routes.find((r) => r.Protocol === protocol && r.Prefix === prefix);
    if (!route) t.Routes.push((route = { Protocol: protocol, Prefix: prefix, NextHops: [] }));
    if (!route.NextHops.some((h) => h.IP === hop.IP && h.IfIndex === hop.IfIndex)) route.NextHops.push(hop);
  };
  for (const r of rows) {
    const tableID = names.table(r.table ?? 'main');
    const protocol = names.protocol(r.protocol ?? 'boot');
    const prefix = normalizePrefix(str(r.dst) ?? 'default', str(r.gateway) ?? firstGateway(r));
    const priority = num(r.metric) ?? 0;
    const src = str(r.prefsrc);
    if (Array.isArray(r.nexthops)) {
      for (const nh of r.nexthops as Json[]) {
        const ifindex = str(nh.dev) ? indexOf(str(nh.dev)!) : undefined;
        if (ifindex === undefined) continue;
        add(ifindex, tableID, src, protocol, prefix, hop(priority, str(nh.gateway), ifindex));
      }
      continue;
    }
    const dev = str(r.dev);
    const ifindex = dev ? indexOf(dev) : undefined;
    if (ifindex === undefined) continue;
    add(ifindex, tableID, src, protocol, prefix, hop(priority, str(r.gateway), ifindex));
  }
  const out = new Map<number, RoutingTable[]>();
  for (const [ifindex, tables] of perIf) out.set(ifindex, [...tables.values()].sort((a, b) => a.ID - b.ID));
  return out;
}

function hop(priority: number, ip: string | undefined, ifindex: number): NextHop {
  const h: NextHop = { Priority: priority, IfIndex: ifindex };
  if (ip) h.IP = ip;
  return h;
}

function firstGateway(r: Json): string | undefined {
  if (!Array.isArray(r.nexthops)) return undefined;
  for (const nh of r.nexthops as Json[]) if (str(nh.gateway)) return str(nh.gateway);
  return undefined;
}

/** 'default' ⇒ 0.0.0.0/0 or ::/0; a host address ⇒ /32 or /128. */
export function normalizePrefix(dst: string, gateway?: string): string {
  if (dst === 'default') return gateway?.includes(':') ? '::/0' : '0.0.0.0/0';
  if (dst.includes('/')) return dst;
  return dst.includes(':') ? `${dst}/128` : `${dst}/32`;
}

const NUD_STATES = new Set(['INCOMPLETE', 'REACHABLE', 'STALE', 'DELAY', 'PROBE', 'FAILED', 'NOARP', 'PERMANENT', 'NONE']);
const NEIGH_FLAGS: Record<string, string> = {
  use: 'NTF_USE',
  self: 'NTF_SELF',
  master: 'NTF_MASTER',
  proxy: 'NTF_PROXY',
  extern_learn: 'NTF_EXT_LEARNED',
  offload: 'NTF_OFFLOADED',
  router: 'NTF_ROUTER',
};

/** `ip -json neigh show nud all` ⇒ Neighbors per ifindex (states as NUD_*, flags as NTF_*, like the original). */
export function parseNeighbors(rows: Json[], indexOf: (dev: string) => number | undefined): Map<number, Neighbor[]> {
  const out = new Map<number, Neighbor[]>();
  for (const r of rows) {
    const dev = str(r.dev);
    const ifindex = dev ? indexOf(dev) : undefined;
    if (ifindex === undefined) continue;
    const n: Neighbor = { MAC: str(r.lladdr) ?? '', IfIndex: ifindex };
    const flags = Object.keys(NEIGH_FLAGS).filter((f) => f in r).map((f) => NEIGH_FLAGS[f]);
    if (flags.length) n.Flags = flags;
    const ip = str(r.dst);
    if (ip) n.IP = ip;
    if (Array.isArray(r.state)) {
      const st = r.state.filter((s): s is string => typeof s === 'string' && NUD_STATES.has(s)).map((s) => `NUD_${s}`);
      if (st.length) n.State = st;
    }
    let list = out.get(ifindex);
    if (!list) out.set(ifindex, (list = []));
    list.push(n);
  }
  return out;
}

/** `ip -json netns list-id` ⇒ nsid → name (names only exist for namespaces under /var/run/netns). */
export function parseNsids(rows: Json[]): Map<number, string> {
  const out = new Map<number, string>();
  for (const r of rows) {
    const id = num(r.nsid);
    const name = str(r.name);
    if (id !== undefined && name) out.set(id, name);
  }
  return out;
}

/** iproute2 prints route tables and protocols by name; the original's metadata carries the numbers. */
export interface IprouteNames {
  table(v: unknown): number;
  protocol(v: unknown): number;
}

let cachedNames: IprouteNames | undefined;

export function iprouteNames(): IprouteNames {
  if (cachedNames) return cachedNames;
  const tables = readNameFiles('rt_tables', { unspec: 0, default: 253, main: 254, local: 255 });
  const protos = readNameFiles('rt_protos', {
    unspec: 0, redirect: 1, kernel: 2, boot: 3, static: 4, gated: 8, ra: 9, mrt: 10, zebra: 11, bird: 12,
    dnrouted: 13, xorp: 14, ntk: 15, dhcp: 16, keepalived: 18, babel: 42, openr: 99, bgp: 186, isis: 187, ospf: 188,
    rip: 189, eigrp: 192,
  });
  const lookup = (map: Map<string, number>, v: unknown): number => {
    const n = num(v);
    if (n !== undefined) return n;
    return (typeof v === 'string' && map.get(v)) || 0;
  };
  cachedNames = { table: (v) => lookup(tables, v), protocol: (v) => lookup(protos, v) };
  return cachedNames;
}

function readNameFiles(base: string, builtin: Record<string, number>): Map<string, number> {
  const map = new Map(Object.entries(builtin));
  const files: string[] = [];
  for (const dir of ['/usr/share/iproute2', '/usr/lib/iproute2', '/etc/iproute2']) {
    files.push(join(dir, base));
    try {
      for (const f of readdirSync(join(dir, `${base}.d`))) if (f.endsWith('.conf')) files.push(join(dir, `${base}.d`, f));
    } catch {
      /* no drop-in directory */
    }
  }
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      const m = /^\s*(0x[0-9a-f]+|\d+)\s+(\S+)/i.exec(line);
      if (m) map.set(m[2], Number(m[1]));
    }
  }
  return map;
}
