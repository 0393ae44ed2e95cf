import { readlinkSync } from 'node:fs';
import { basename } from 'node:path';
import type { Logger } from 'pino';
import { childLogger } from '../../common/log.js';
import { errorMessage } from '../../common/errors.js';
import type { Graph, Metadata, Node } from '../../graph/graph.js';
import { EdgeSet, type EdgeSpec } from './edges.js';
import type { InterfaceRegistry } from './interfaces.js';
import { IpBatch, IpMonitor } from './ip-process.js';
import {
  metricDelta,
  parseAddresses,
  parseIpOutput,
  parseLinks,
  parseNeighbors,
  parseNsids,
  parseRoutes,
  type Addresses,
  type InterfaceMetric,
  type IpLink,
  type Neighbor,
  type RoutingTable,
} from './iproute-json.js';
import type { ProbeContext, TopologyProbe } from './probe.js';

/**
 * The netlink probe: one `NamespaceLinks` per network namespace (the agent's own, then one per netns found by
 * the netns probe). Each is driven by rtnetlink notifications (`ip monitor`): a notification schedules a
 * re-read of links, addresses, routes and neighbours (coalesced over a few ms), diffed into the graph through
 * the InterfaceRegistry. Interface counters (Metric/LastUpdateMetric) are refreshed on a timer, as they do not
 * produce notifications.
 */
export class NetlinkProbe implements TopologyProbe {
  readonly name = 'netlink';
  private readonly namespaces = new Map<string, NamespaceLinks>();
  private readonly log = childLogger('netlink');
  private readonly metricsInterval: number;
  private readonly graph: Graph;
  private stopped = false;

  constructor(
    ctx: ProbeContext,
    private readonly registry: InterfaceRegistry,
    private readonly hostNode: Node,
  ) {
    this.graph = ctx.graph;
    this.metricsInterval = Math.max(1, Number(ctx.config.get('agent.topology.netlink.metrics_update', 30)) || 30) * 1000;
  }

  async start(): Promise<void> {
    await this.addNamespace('', undefined, this.hostNode);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const ns of this.namespaces.values()) ns.stop();
    this.namespaces.clear();
  }

  /** Start watching a namespace whose interfaces are owned by `root` (a netns node). */
  async addNamespace(nsPath: string, name: string | undefined, root: Node): Promise<void> {
    if (this.stopped || this.namespaces.has(nsPath)) return;
    const ns = new NamespaceLinks(this, this.graph, this.registry, nsPath, name, root, this.metricsInterval, this.log);
    this.namespaces.set(nsPath, ns);
    await ns.start();
  }

  /** Stop watching a namespace and remove its interfaces from the graph. */
  removeNamespace(nsPath: string): void {
    const ns = this.namespaces.get(nsPath);
    if (!ns) return;
    this.namespaces.delete(nsPath);
    ns.stop();
    ns.removeAll();
    this.linksChanged(ns);
  }

  /** A namespace gained or lost interfaces: veth peers seen from the others may have appeared or gone. */
  linksChanged(from: NamespaceLinks): void {
    for (const ns of this.namespaces.values()) if (ns !== from) ns.rerender();
  }

  /**
   * The other end of a veth whose peer lives in another namespace: the namespace named by the link's nsid when
   * iproute2 knows the name, else any namespace holding a veth that points back at this one.
   */
  findForeignPeer(from: NamespaceLinks, link: IpLink, nsName: string | undefined): { ns: NamespaceLinks; link: IpLink } | undefined {
    let fallback: { ns: NamespaceLinks; link: IpLink } | undefined;
    for (const ns of this.namespaces.values()) {
      if (ns === from) continue;
      const peer = ns.linkByIndex(link.linkIndex!);
      if (!peer || peer.kind !== 'veth' || peer.linkNetnsid === undefined || peer.linkIndex !== link.ifindex) continue;
      if (nsName !== undefined && ns.name === nsName) return { ns, link: peer };
      if (nsName === undefined && ns.nsPath === '') return { ns, link: peer };
      fallback ??= { ns, link: peer };
    }
    return fallback;
  }
}

interface NsState {
  links: Map<number, IpLink>;
  byName: Map<string, number>;
  addrs: Map<number, Addresses>;
  routes: Map<number, RoutingTable[]>;
  neighbors: Map<number, Neighbor[]>;
  nsids: Map<number, string>;
}

const EMPTY_STATE: NsState = { links: new Map(), byName: new Map(), addrs: new Map(), routes: new Map(), neighbors: new Map(), nsids: new Map() };

/** Coalescing window for bursts of notifications (an `ip link add` produces several). */
const COALESCE_MS = 5;

/** Interfaces of one namespace. */
export class NamespaceLinks {
  private state: NsState = EMPTY_STATE;
  private readonly metrics = new Map<number, { Metric: InterfaceMetric; LastUpdateMetric?: InterfaceMetric }>();
  private readonly batch: IpBatch;
  private readonly monitor: IpMonitor;
  private readonly edges: EdgeSet;
  private readonly drivers = new Map<string, string>();
  private timer?: NodeJS.Timeout;
  private metricsTimer?: NodeJS.Timeout;
  private restartTimer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private pendingFull = false;
  private pendingMetrics = false;
  private stopped = false;

  constructor(
    private readonly manager: NetlinkProbe,
    graph: Graph,
    private readonly registry: InterfaceRegistry,
    readonly nsPath: string,
    readonly name: string | undefined,
    private readonly root: Node,
    private readonly metricsInterval: number,
    private readonly log: Logger,
  ) {
    const path = nsPath || undefined;
    this.batch = new IpBatch(path);
    this.monitor = new IpMonitor(path, () => this.schedule(), (err) => this.monitorExited(err));
    this.edges = new EdgeSet(graph);
  }

  linkByIndex(ifindex: number): IpLink | undefined {
    return this.state.links.get(ifindex);
  }

  async start(): Promise<void> {
    this.monitor.start();
    if (!(await this.monitor.ready())) this.log.warn({ ns: this.nsPath || '(host)' }, 'ip monitor not subscribed in time; reading state anyway');
    await this.refresh('full');
    if (this.stopped) return;
    this.metricsTimer = setInterval(() => void this.refresh('metrics'), this.metricsInterval);
    this.metricsTimer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.restartTimer);
    clearInterval(this.metricsTimer);
    this.monitor.close();
    this.batch.close();
  }

  /** Remove every interface of this namespace from the graph (namespace gone). */
  removeAll(): void {
    this.edges.clear();
    for (const ifindex of this.state.links.keys()) this.registry.removeLink(this.nsPath, ifindex);
    this.state = EMPTY_STATE;
  }

  private monitorExited(err: Error): void {
    if (this.stopped) return;
    this.log.warn({ ns: this.nsPath || '(host)', err: err.message }, 'ip monitor exited; restarting');
    this.restartTimer = setTimeout(() => {
      if (this.stopped) return;
      this.monitor.start();
      this.schedule();
    }, 1000);
  }

  private schedule(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.refresh('full');
    }, COALESCE_MS);
  }

  /**
   * Re-read the namespace: 'full' after notifications, 'metrics' on the timer (links only, unless the set of
   * links changed). Requests made while a read runs fold into one more pass.
   */
  private refresh(kind: 'full' | 'metrics'): Promise<void> {
    if (kind === 'full') this.pendingFull = true;
    else this.pendingMetrics = true;
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
      if (!this.stopped && (this.pendingFull || this.pendingMetrics)) void this.refresh(this.pendingFull ? 'full' : 'metrics');
    });
    return this.running;
  }

  private async drain(): Promise<void> {
    while ((this.pendingFull || this.pendingMetrics) && !this.stopped) {
      const full = this.pendingFull;
      const metrics = this.pendingMetrics;
      this.pendingFull = this.pendingMetrics = false;
      try {
        if (full || !(await this.readMetrics())) await this.readAndApply(metrics);
      } catch (err) {
        if (!this.stopped) this.log.warn({ ns: this.nsPath || '(host)', err: errorMessage(err) }, 'cannot read namespace state');
      }
    }
  }

  private async readLinks(): Promise<IpLink[]> {
    return parseLinks(parseIpOutput(await this.batch.run('link show')));
  }

  /** Counters only; false when the links themselves changed (a full read is then due). */
  private async readMetrics(): Promise<boolean> {
    const links = await this.readLinks();
    if (this.stopped) return true;
    if (links.length !== this.state.links.size || links.some((l) => this.state.links.get(l.ifindex)?.name !== l.name)) return false;
    this.state = { ...this.state, links: new Map(links.map((l) => [l.ifindex, l])) };
    this.updateMetrics(links, true);
    this.rerender();
    return true;
  }

  private async readAndApply(withMetrics: boolean): Promise<void> {
    const links = await this.readLinks();
    const addrs = parseAddresses(parseIpOutput(await this.batch.run('addr show')));
    const byName = new Map(links.map((l) => [l.name, l.ifindex]));
    const indexOf = (dev: string): number | undefined => byName.get(dev);
    const routes = parseRoutes(parseIpOutput(await this.batch.run('route show table all')), indexOf);
    const neighbors = parseNeighbors(parseIpOutput(await this.batch.run('neigh show nud all')), indexOf);
    const nsids = links.some((l) => l.linkNetnsid !== undefined) ? parseNsids(parseIpOutput(await this.batch.run('netns list-id'))) : new Map<number, string>();
    if (this.stopped) return;
    const prev = this.state;
    this.state = { links: new Map(links.map((l) => [l.ifindex, l])), byName, addrs, routes, neighbors, nsids };
    this.updateMetrics(links, withMetrics);
    let changed = this.state.links.size !== prev.links.size;
    for (const [ifindex, old] of prev.links) {
      if (this.state.links.get(ifindex)?.name === old.name) continue;
      changed = true;
      if (!this.state.links.has(ifindex)) {
        this.registry.removeLink(this.nsPath, ifindex);
        this.metrics.delete(ifindex);
      }
    }
    this.rerender();
    if (changed) this.manager.linksChanged(this);
  }

  private updateMetrics(links: IpLink[], withMetrics: boolean): void {
    const now = Date.now();
    for (const l of links) {
      if (!l.stats) continue;
      const cur = this.metrics.get(l.ifindex);
      if (!cur) this.metrics.set(l.ifindex, { Metric: { ...l.stats, Last: now } });
      else if (withMetrics) {
        const delta = metricDelta(l.stats, cur.Metric);
        if (delta) this.metrics.set(l.ifindex, { Metric: { ...l.stats, Last: now }, LastUpdateMetric: { ...delta, Start: cur.Metric.Last, Last: now } });
      }
    }
  }

  /** Push the current state (as last read) into the graph: interface metadata, then edges. */
  rerender(): void {
    if (this.stopped) return;
    for (const l of this.state.links.values()) {
      this.registry.upsertLink({ nsKey: this.nsPath, ifindex: l.ifindex, ownerTID: String(this.root.metadata.TID ?? this.root.id), metadata: this.metadataOf(l) });
    }
    this.edges.sync(this.edgeSpecs());
  }

  private metadataOf(l: IpLink): Metadata {
    const s = this.state;
    const driver = this.driverOf(l);
    const m: Metadata = {
      Name: l.name,
      Type: driver === 'veth' ? 'veth' : linkType(l),
      EncapType: l.linkType,
      IfIndex: l.ifindex,
      Driver: driver,
      State: l.operstate.toUpperCase(),
      LinkFlags: l.flags.filter((f) => LINK_FLAGS.has(f)).map((f) => (f === 'POINTOPOINT' ? 'POINTTOPOINT' : f)),
    };
    if (l.mtu !== undefined) m.MTU = l.mtu;
    if (l.mac) m.MAC = l.mac;
    if (l.master !== undefined) {
      const mi = s.byName.get(l.master);
      if (mi !== undefined) m.MasterIndex = mi;
    }
    if (l.vlanID !== undefined) m.Vlan = l.vlanID;
    if (l.kind === 'veth') {
      const peer = this.peerOf(l);
      const peerIndex = l.linkIndex ?? (l.link !== undefined ? s.byName.get(l.link) : undefined);
      if (peerIndex !== undefined) m.PeerIfIndex = peerIndex;
      if (l.linkNetnsid !== undefined) {
        m.LinkNetNsID = l.linkNetnsid;
        const nsName = s.nsids.get(l.linkNetnsid) ?? peer?.ns.name;
        if (nsName !== undefined) m.LinkNetNsName = nsName;
      }
    } else {
      const parent = l.linkIndex ?? (l.link !== undefined ? s.byName.get(l.link) : undefined);
      if (parent !== undefined) m.ParentIndex = parent;
    }
    const a = s.addrs.get(l.ifindex);
    if (a?.IPV4.length) m.IPV4 = a.IPV4;
    if (a?.IPV6.length) m.IPV6 = a.IPV6;
    const nb = s.neighbors.get(l.ifindex);
    if (nb?.length) m.Neighbors = nb;
    const rt = s.routes.get(l.ifindex);
    if (rt?.length) m.RoutingTables = rt;
    const mt = this.metrics.get(l.ifindex);
    if (mt) {
      m.Metric = mt.Metric;
      if (mt.LastUpdateMetric) m.LastUpdateMetric = mt.LastUpdateMetric;
    }
    return m;
  }

  private peerOf(l: IpLink): { ns: NamespaceLinks; link: IpLink } | undefined {
    if (l.kind !== 'veth') return undefined;
    if (l.linkNetnsid === undefined) {
      const idx = l.link !== undefined ? this.state.byName.get(l.link) : l.linkIndex;
      const peer = idx !== undefined ? this.state.links.get(idx) : undefined;
      return peer ? { ns: this, link: peer } : undefined;
    }
    if (l.linkIndex === undefined) return undefined;
    return this.manager.findForeignPeer(this, l, this.state.nsids.get(l.linkNetnsid));
  }

  private edgeSpecs(): EdgeSpec[] {
    const specs: EdgeSpec[] = [];
    const s = this.state;
    const nodeOf = (ifindex: number | undefined): Node | undefined => (ifindex === undefined ? undefined : this.registry.linkNode(this.nsPath, ifindex));
    for (const l of s.links.values()) {
      const node = nodeOf(l.ifindex);
      if (!node) continue;
      specs.push({ parent: this.root, child: node, relation: 'ownership' });
      // ovs-system is the kernel datapath, not a switch its ports are plugged into
      if (l.master !== undefined && l.master !== 'ovs-system') {
        const master = nodeOf(s.byName.get(l.master));
        if (master) specs.push({ parent: master, child: node, relation: 'layer2' });
      }
      if (l.kind === 'vlan') {
        const parent = nodeOf(l.linkIndex ?? (l.link !== undefined ? s.byName.get(l.link) : undefined));
        if (parent) specs.push({ parent, child: node, relation: 'layer2', metadata: { Type: 'vlan' } });
      }
      const peer = this.peerOf(l);
      if (peer) {
        const peerNode = this.registry.linkNode(peer.ns.nsPath, peer.link.ifindex);
        // one edge per pair, held by the end with the lower ifindex; the other end is the parent
        if (peerNode && (peer.link.ifindex > l.ifindex || (peer.link.ifindex === l.ifindex && peerNode.id > node.id))) {
          specs.push({ parent: peerNode, child: node, relation: 'layer2', metadata: { Type: 'veth' } });
        }
      }
    }
    return specs;
  }

  /** ethtool's driver name: known for virtual kinds; physical devices of the agent's namespace via sysfs. */
  private driverOf(l: IpLink): string {
    if (l.kind) return KIND_DRIVERS[l.kind] ?? l.kind;
    if (this.nsPath) return '';
    const key = `${l.name}#${l.ifindex}`;
    let d = this.drivers.get(key);
    if (d === undefined) {
      try {
        d = basename(readlinkSync(`/sys/class/net/${l.name}/device/driver`));
      } catch {
        d = '';
      }
      this.drivers.set(key, d);
    }
    return d;
  }
}

const LINK_FLAGS = new Set(['UP', 'BROADCAST', 'LOOPBACK', 'POINTOPOINT', 'MULTICAST']);

const KIND_DRIVERS: Record<string, string> = {
  bond: 'bonding',
  gre: 'ip_gre',
  gretap: 'ip_gre',
  ip6gre: 'ip6_gre',
  ip6gretap: 'ip6_gre',
  ip6tnl: 'ip6_tunnel',
  vlan: '802.1Q VLAN Support',
};

/** Topology Type of a link: its netlink kind, tun devices as tun/tap, 'device' when the kernel gives no kind. */
function linkType(l: IpLink): string {
  if (!l.kind) return 'device';
  if (l.kind === 'tun') return l.tunMode === 'tap' ? 'tap' : 'tun';
  return l.kind;
}
