import { childLogger } from '../../common/log.js';
import { errorMessage } from '../../common/errors.js';
import { genID, type Graph, type Metadata, type Node } from '../../graph/graph.js';
import { EdgeSet, type EdgeSpec } from './edges.js';
import type { InterfaceRegistry } from './interfaces.js';
import { mapOf, OvsdbClient, optional, parseOvsdbAddress, setOf, type OvsdbAddress, type TableUpdates } from './ovsdb-client.js';
import type { ProbeContext, TopologyProbe } from './probe.js';

type Row = Record<string, unknown>;

const MONITORED: Record<string, string[]> = {
  Open_vSwitch: ['bridges', 'ovs_version', 'db_version', 'other_config', 'external_ids'],
  Bridge: ['name', 'ports', 'other_config', 'external_ids', 'protocols', 'datapath_type'],
  Port: ['name', 'interfaces', 'other_config', 'external_ids', 'bond_mode', 'lacp', 'tag', 'trunks'],
  Interface: ['name', 'type', 'options', 'other_config', 'external_ids', 'ofport', 'mac_in_use', 'ifindex', 'error', 'status'],
};

/** Interface types that exist as kernel devices (their node is the netlink one). */
const KERNEL_BACKED = new Set(['', 'system', 'internal', 'tap']);
const TUNNELS = new Set(['gre', 'vxlan', 'geneve', 'stt', 'lisp', 'erspan', 'ip6erspan', 'ip6gre', 'gtpu', 'bareudp', 'srv6']);

const BACKOFF_MIN_MS = 200;
const BACKOFF_MAX_MS = 5000;

/**
 * The ovsdb probe (reference §5.4): monitors the Open_vSwitch database and keeps ovsbridge, ovsport and
 * interface nodes in step with it. Every update re-derives the whole OVS picture from the monitored rows and
 * diffs it into the graph, so that rows arriving in any order (or after a reconnection) give the same result.
 * When the database goes away its nodes are removed and the probe reconnects with backoff.
 */
export class OvsdbProbe implements TopologyProbe {
  readonly name = 'ovsdb';
  private readonly address: OvsdbAddress;
  private readonly graph: Graph;
  private readonly hostID: string;
  private readonly tables = new Map<string, Map<string, Row>>();
  private readonly bridges = new Map<string, Node>();
  private readonly ports = new Map<string, Node>();
  private readonly interfaces = new Set<string>();
  private readonly edges: EdgeSet;
  private readonly log = childLogger('ovsdb');
  private client?: OvsdbClient;
  private backoff = BACKOFF_MIN_MS;
  private reconnectTimer?: NodeJS.Timeout;
  private syncQueued = false;
  private stopped = false;
  private warned = false;
  private unsubscribe?: () => void;

  constructor(
    ctx: ProbeContext,
    private readonly registry: InterfaceRegistry,
    private readonly hostNode: Node,
  ) {
    this.graph = ctx.graph;
    this.hostID = ctx.hostID;
    this.address = parseOvsdbAddress(String(ctx.config.get('ovs.ovsdb', 'unix:///var/run/openvswitch/db.sock')));
    this.edges = new EdgeSet(ctx.graph);
  }

  /** Resolves after the first connection attempt (connected or not: the probe keeps retrying). */
  async start(): Promise<void> {
    this.unsubscribe = this.registry.onOvsRemap(() => this.queueSync());
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.unsubscribe?.();
    this.client?.close();
    this.client = undefined;
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    let client: OvsdbClient;
    try {
      client = await OvsdbClient.connect(this.address);
    } catch (err) {
      this.retry(err);
      return;
    }
    if (this.stopped) {
      client.close();
      return;
    }
    this.client = client;
    client.on('update', (_id: unknown, updates: TableUpdates) => {
      this.apply(updates);
      this.queueSync();
    });
    client.on('close', (err: Error) => {
      if (this.client !== client) return;
      this.client = undefined;
      this.tables.clear();
      this.sync();
      this.retry(err);
    });
    const requests = Object.fromEntries(Object.entries(MONITORED).map(([t, columns]) => [t, { columns }]));
    try {
      const initial = await client.monitor('Open_vSwitch', null, requests);
      this.tables.clear();
      this.apply(initial);
      this.sync();
      this.backoff = BACKOFF_MIN_MS;
      if (this.warned) this.log.info({ ovsdb: this.describe() }, 'connected to ovsdb');
      this.warned = false;
    } catch (err) {
      client.close();
      this.retry(err);
    }
  }

  private retry(err: unknown): void {
    if (this.stopped || this.reconnectTimer) return;
    if (!this.warned) this.log.warn({ ovsdb: this.describe(), err: errorMessage(err) }, 'ovsdb unavailable, retrying');
    this.warned = true;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.connect();
    }, this.backoff);
    this.reconnectTimer.unref();
    this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX_MS);
  }

  private describe(): string {
    return 'path' in this.address ? `unix:${this.address.path}` : `tcp:${this.address.host}:${this.address.port}`;
  }

  private apply(updates: TableUpdates): void {
    for (const [table, rows] of Object.entries(updates ?? {})) {
      let t = this.tables.get(table);
      if (!t) this.tables.set(table, (t = new Map()));
      for (const [uuid, u] of Object.entries(rows)) {
        if (u.new) t.set(uuid, u.new);
        else t.delete(uuid);
      }
    }
  }

  /** Several updates (and registry remaps) in one tick make one sync. */
  private queueSync(): void {
    if (this.syncQueued) return;
    this.syncQueued = true;
    queueMicrotask(() => {
      this.syncQueued = false;
      if (!this.stopped) this.sync();
    });
  }

  private rows(table: string): Map<string, Row> {
    return this.tables.get(table) ?? new Map();
  }

  /** Derive bridges, ports and interfaces from the monitored rows and diff them into the graph. */
  private sync(): void {
    const hostTID = String(this.hostNode.metadata.TID ?? this.hostNode.id);
    const portBridge = new Map<string, string>();
    const intfPort = new Map<string, string>();
    for (const [uuid, b] of this.rows('Bridge')) for (const p of setOf(b.ports)) portBridge.set(String(p), uuid);
    for (const [uuid, p] of this.rows('Port')) for (const i of setOf(p.interfaces)) intfPort.set(String(i), uuid);

    const bridgeTID = (uuid: string): string => genID(`${hostTID}${uuid}ovsbridge`);
    this.syncNodes(this.bridges, this.rows('Bridge'), (uuid, b) => ({
      Name: String(b.name),
      UUID: uuid,
      Type: 'ovsbridge',
      ...extIDs(b),
      Ovs: { OtherConfig: mapOf(b.other_config), Protocols: setOf(b.protocols).map(String) },
      TID: bridgeTID(uuid),
    }));
    this.syncNodes(this.ports, this.rows('Port'), (uuid, p) => portMetadata(uuid, p, hostTID));

    const intfRows = this.rows('Interface');
    for (const uuid of [...this.interfaces]) {
      if (intfRows.has(uuid)) continue;
      this.interfaces.delete(uuid);
      this.registry.removeOvs(uuid);
    }
    for (const [uuid, r] of intfRows) {
      const type = String(r.type ?? '');
      const bridge = portBridge.get(intfPort.get(uuid) ?? '');
      const ifindex = Number(optional(r.ifindex) ?? 0);
      this.interfaces.add(uuid);
      this.registry.upsertOvs({
        uuid,
        kernelBacked: KERNEL_BACKED.has(type),
        ifindex: ifindex > 0 ? ifindex : undefined,
        ownerTID: bridge ? bridgeTID(bridge) : hostTID,
        metadata: interfaceMetadata(uuid, r),
      });
    }

    const specs: EdgeSpec[] = [];
    for (const [uuid, bridge] of this.bridges) {
      specs.push({ parent: this.hostNode, child: bridge, relation: 'ownership' });
      for (const p of setOf(this.rows('Bridge').get(uuid)?.ports)) {
        const port = this.ports.get(String(p));
        if (!port) continue;
        specs.push({ parent: bridge, child: port, relation: 'ownership' }, { parent: bridge, child: port, relation: 'layer2' });
        for (const i of setOf(this.rows('Port').get(String(p))?.interfaces)) {
          const intf = this.registry.ovsNode(String(i));
          if (!intf) continue;
          specs.push({ parent: port, child: intf, relation: 'layer2' });
          // only interfaces without a kernel device belong to the bridge; the others stay with their namespace
          if (this.registry.isOvsOnly(String(i))) specs.push({ parent: bridge, child: intf, relation: 'ownership' });
        }
      }
    }
    specs.push(...this.patchLinks(intfRows));
    this.edges.sync(specs);
  }

  /** One layer2 {Type: patch} edge per patch pair, from the end with the smaller UUID. */
  private patchLinks(intfRows: Map<string, Row>): EdgeSpec[] {
    const byName = new Map<string, string>();
    for (const [uuid, r] of intfRows) if (r.type === 'patch') byName.set(String(r.name), uuid);
    const specs: EdgeSpec[] = [];
    for (const [uuid, r] of intfRows) {
      if (r.type !== 'patch') continue;
      const peerUUID = byName.get(mapOf(r.options).peer ?? '');
      if (!peerUUID || peerUUID <= uuid) continue;
      const a = this.registry.ovsNode(uuid);
      const b = this.registry.ovsNode(peerUUID);
      if (a && b) specs.push({ parent: a, child: b, relation: 'layer2', metadata: { Type: 'patch' } });
    }
    return specs;
  }

  private syncNodes(nodes: Map<string, Node>, rows: Map<string, Row>, metadataOf: (uuid: string, row: Row) => Metadata): void {
    for (const [uuid, node] of [...nodes]) {
      if (rows.has(uuid)) continue;
      nodes.delete(uuid);
      this.graph.delNode(node);
    }
    for (const [uuid, row] of rows) {
      const m = metadataOf(uuid, row);
      const node = nodes.get(uuid);
      if (node && this.graph.getNode(node.id) === node) {
        const patch: Metadata = {};
        for (const k of Object.keys(node.metadata)) if (!(k in m) && OVS_KEYS.has(k)) patch[k] = undefined;
        this.graph.updateMetadata(node, { ...patch, ...m });
      } else nodes.set(uuid, this.graph.newNode(genID(this.hostID, String(m.Type), uuid), m));
    }
  }
}

/** Keys the probe may remove from bridge/port nodes when the database stops reporting them. */
const OVS_KEYS = new Set(['ExtID', 'Ovs', 'BondMode', 'LACP', 'Vlans']);

function extIDs(r: Row): Metadata {
  const ext = mapOf(r.external_ids);
  return Object.keys(ext).length ? { ExtID: ext } : {};
}

function portMetadata(uuid: string, p: Row, hostTID: string): Metadata {
  const m: Metadata = { Name: String(p.name), UUID: uuid, Type: 'ovsport', ...extIDs(p), Ovs: { OtherConfig: mapOf(p.other_config) } };
  const bond = optional(p.bond_mode);
  if (bond !== undefined) m.BondMode = String(bond);
  const lacp = optional(p.lacp);
  if (lacp !== undefined) m.LACP = String(lacp);
  const vlans = [...setOf(p.tag), ...setOf(p.trunks)].map(Number).filter((v) => Number.isInteger(v));
  if (vlans.length) m.Vlans = vlans;
  m.TID = genID(`${hostTID}${uuid}ovsport`);
  return m;
}

function interfaceMetadata(uuid: string, r: Row): Metadata {
  const type = String(r.type ?? '');
  const options = mapOf(r.options);
  const status = mapOf(r.status);
  const ovs: Metadata = { Options: options, OtherConfig: mapOf(r.other_config) };
  const error = optional(r.error);
  if (error !== undefined) ovs.Error = String(error);
  const m: Metadata = { Name: String(r.name), UUID: uuid, ...extIDs(r), Ovs: ovs };
  if (!KERNEL_BACKED.has(type) || type === 'internal') {
    m.Type = type;
    m.Driver = 'openvswitch';
  } else if (type === 'tap') m.Type = 'tap';
  if (status.driver_name && !m.Driver) m.Driver = status.driver_name;
  const ofport = Number(optional(r.ofport) ?? 0);
  if (ofport) m.OfPort = ofport;
  const ifindex = Number(optional(r.ifindex) ?? 0);
  if (ifindex > 0) m.IfIndex = ifindex;
  const mac = optional(r.mac_in_use);
  if (mac && type !== 'internal') m.MAC = String(mac);
  if (TUNNELS.has(type)) {
    if (options.local_ip) m.LocalIP = options.local_ip;
    if (options.remote_ip) m.RemoteIP = options.remote_ip;
    if (status.tunnel_egress_iface) m.TunEgressIface = status.tunnel_egress_iface;
    if (status.tunnel_egress_iface_carrier) m.TunEgressIfaceCarrier = status.tunnel_egress_iface_carrier;
  }
  return m;
}
