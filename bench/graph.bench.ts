import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { genID, Graph, type Node } from '../src/graph/graph.js';
import { executeGremlin, parseGremlin, resultToJSON } from '../src/gremlin/index.js';
import type { Benchmark, BenchResult } from './harness.js';

/**
 * Memory and query speed of the topology graph at analyzer scale: 100 agents × 1000 nodes (namespaces with veth
 * pairs plugged into OVS br-int, br-tun with GRE/VXLAN tunnel ports, a Linux bridge with taps, underlay NICs),
 * plus a fabric TOR switch linking the agents' eth1. Requirement: < 1 GB RSS, G.V().Has('Type','veth').Count()
 * < 50 ms.
 */

const HOSTS = 100;
const NS_PER_HOST = 230;
const TAPS_PER_HOST = 47;
const TUNNELS_PER_HOST = 10;

let mac = 0;
function nextMAC(): string {
  mac++;
  const hex = (n: number) => (n & 0xff).toString(16).padStart(2, '0');
  return `fa:16:3e:${hex(mac >> 16)}:${hex(mac >> 8)}:${hex(mac)}`;
}

function interfaceMetric(seed: number): Record<string, number> {
  return {
    RxBytes: seed * 1500,
    TxBytes: seed * 1200,
    RxPackets: seed,
    TxPackets: seed,
    RxDropped: 0,
    TxDropped: 0,
    RxErrors: 0,
    TxErrors: 0,
    Start: 1_700_000_000_000,
    Last: 1_700_000_030_000,
  };
}

function linkMetadata(name: string, type: string, ifIndex: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    Name: name,
    Type: type,
    EncapType: 'ether',
    IfIndex: ifIndex,
    MTU: 1500,
    MAC: nextMAC(),
    State: 'UP',
    LinkFlags: ['UP', 'BROADCAST', 'RUNNING', 'MULTICAST', 'LOWER_UP'],
    Driver: type === 'veth' ? 'veth' : type === 'device' ? 'virtio_net' : type,
    Metric: interfaceMetric(ifIndex),
    ...extra,
  };
}

export function buildTopology(): Graph {
  const g = new Graph({ host: 'analyzer', origin: 'analyzer.analyzer' });
  const tor = g.newNode(genID('fabric', 'tor1'), { Name: 'tor1', Type: 'device', Probe: 'fabric' }, { origin: 'analyzer.analyzer' });
  for (let h = 1; h <= HOSTS; h++) {
    const hostName = `agent-${h}`;
    const opts = { host: hostName, origin: `agent.${hostName}` };
    const add = (metadata: Record<string, unknown>, ...idParts: string[]): Node => {
      const id = genID(hostName, ...idParts);
      return g.newNode(id, { ...metadata, TID: id }, opts);
    };
    const own = (p: Node, c: Node) => g.newEdge(genID(p.id + c.id + 'ownership'), p, c, { RelationType: 'ownership' }, opts);
    const l2 = (p: Node, c: Node, extra: Record<string, unknown> = {}) =>
      g.newEdge(genID(p.id + c.id + 'layer2'), p, c, { RelationType: 'layer2', ...extra }, opts);

    const host = add({ Name: hostName, Type: 'host', Hostname: hostName, OS: 'linux', Platform: 'debian', KernelVersion: '6.1.0-18-amd64', CPU: [{ CPU: 0, Cores: 4, ModelName: 'Xeon' }] }, 'host');
    let ifIndex = 1;
    const lo = add(linkMetadata('lo', 'device', ifIndex++, { MTU: 65536, IPV4: ['127.0.0.1/8'], IPV6: ['::1/128'] }), 'lo');
    const eth0 = add(linkMetadata('eth0', 'device', ifIndex++, { IPV4: [`192.168.122.${h}/24`], Speed: 10000 }), 'eth0');
    const eth1 = add(linkMetadata('eth1', 'device', ifIndex++, { IPV4: [`172.16.${h >> 8}.${h & 0xff}/16`], Speed: 10000 }), 'eth1');
    for (const n of [lo, eth0, eth1]) own(host, n);
    const port = add({ Name: `tor1-port${h}`, Type: 'device', Probe: 'fabric', MTU: 1500 }, 'tor-port');
    own(tor, port);
    l2(tor, port, { Type: 'fabric' });
    l2(port, eth1, { Type: 'fabric' });

    const ovsSystem = add(linkMetadata('ovs-system', 'openvswitch', ifIndex++, { Ovs: { Version: '3.1.0', DBVersion: '8.3.1' } }), 'ovs-system');
    own(host, ovsSystem);
    const bridge = (name: string) => {
      const br = add({ Name: name, Type: 'ovsbridge', UUID: genID(hostName, name, 'uuid'), Ovs: { OtherConfig: { 'datapath-id': '0000' + name }, Protocols: ['OpenFlow13'] } }, name);
      own(host, br);
      return br;
    };
    const ovsPort = (br: Node, name: string) => {
      const p = add({ Name: name, Type: 'ovsport', UUID: genID(hostName, name, 'port'), Ovs: { OtherConfig: {} } }, 'port', name);
      own(br, p);
      l2(br, p);
      return p;
    };
    const brInt = bridge('br-int');
    const brTun = bridge('br-tun');
    const patchTun = add({ Name: 'patch-tun', Type: 'patch', Driver: 'openvswitch', OfPort: 1, Ovs: { Options: { peer: 'patch-int' } } }, 'patch-tun');
    const patchInt = add({ Name: 'patch-int', Type: 'patch', Driver: 'openvswitch', OfPort: 1, Ovs: { Options: { peer: 'patch-tun' } } }, 'patch-int');
    l2(ovsPort(brInt, 'patch-tun'), patchTun);
    own(brInt, patchTun);
    l2(ovsPort(brTun, 'patch-int'), patchInt);
    own(brTun, patchInt);
    l2(patchTun, patchInt, { Type: 'patch' });
    for (let t = 1; t <= TUNNELS_PER_HOST; t++) {
      const peer = ((h + t - 1) % HOSTS) + 1;
      const type = t % 2 ? 'gre' : 'vxlan';
      const name = `${type}-${peer}`;
      const remote = `172.16.${peer >> 8}.${peer & 0xff}`;
      const intf = add(
        { Name: name, Type: type, Driver: 'openvswitch', OfPort: t + 1, LocalIP: `172.16.${h >> 8}.${h & 0xff}`, RemoteIP: remote, Ovs: { Options: { remote_ip: remote, key: 'flow' } } },
        name,
      );
      l2(ovsPort(brTun, name), intf);
      own(brTun, intf);
    }

    const br0 = add(linkMetadata('br0', 'bridge', ifIndex++), 'br0');
    own(host, br0);
    for (let t = 0; t < TAPS_PER_HOST; t++) {
      const tap = add(linkMetadata(`tap${t}`, 'tun', ifIndex++, { MasterIndex: br0.metadata.IfIndex, MTU: 1450 }), 'tap', String(t));
      own(host, tap);
      l2(br0, tap);
    }

    for (let i = 0; i < NS_PER_HOST; i++) {
      const nsName = `vm-${h}-${i}`;
      const ns = add({ Name: nsName, Type: 'netns', Path: `/var/run/netns/${nsName}`, Inode: 4026532000 + i }, 'netns', nsName);
      own(host, ns);
      const hostIf = ifIndex++;
      const inside = add(
        linkMetadata('eth0', 'veth', 2, {
          PeerIfIndex: hostIf,
          IPV4: [`10.${h}.${i >> 8}.${(i & 0xff) + 1}/16`],
          IPV6: [`fd00:${h.toString(16)}::${(i + 1).toString(16)}/64`],
          Neighbors: [{ IP: `10.${h}.255.254`, MAC: 'fa:16:3e:ff:ff:fe', State: ['REACHABLE'] }],
        }),
        'veth-in',
        nsName,
      );
      own(ns, inside);
      const outside = add(linkMetadata(`tap-${nsName}`, 'veth', hostIf, { PeerIfIndex: 2, UUID: genID(hostName, nsName, 'iface'), ExtID: { 'iface-id': genID(nsName, 'neutron'), 'attached-mac': inside.metadata.MAC } }), 'veth-out', nsName);
      own(host, outside);
      l2(outside, inside, { Type: 'veth' });
      l2(ovsPort(brInt, `tap-${nsName}`), outside);
    }
  }
  return g;
}

/** A gc function when the harness did not pass --expose-gc. */
function gcFunction(): () => void {
  const global = globalThis as { gc?: () => void };
  if (global.gc) return global.gc;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

let graph: Graph | undefined;
function topology(): Graph {
  if (!graph) graph = buildTopology();
  return graph;
}

/** Wall and CPU times of a query: on a shared machine the CPU time is the steadier figure. */
async function timeQuery(q: string, runs: number, targetMs?: number): Promise<BenchResult> {
  const g = topology();
  const parsed = parseGremlin(q);
  const wall: number[] = [];
  const cpu: number[] = [];
  let result: unknown;
  for (let i = 0; i < runs; i++) {
    const cpu0 = process.cpuUsage();
    const start = process.hrtime.bigint();
    result = resultToJSON(await executeGremlin(parsed, { graph: g }));
    wall.push(Number(process.hrtime.bigint() - start) / 1e6);
    const c = process.cpuUsage(cpu0);
    cpu.push((c.user + c.system) / 1000);
  }
  const median = (l: number[]) => Math.round([...l].sort((a, b) => a - b)[Math.floor(l.length / 2)] * 100) / 100;
  return {
    result: typeof result === 'number' ? result : Array.isArray(result) ? `${result.length} item(s)` : String(result),
    medianMs: median(wall),
    cpuMedianMs: median(cpu),
    minMs: Math.round(Math.min(...wall) * 100) / 100,
    runs,
    ...(targetMs ? { targetMs } : {}),
  };
}

const QUERIES: [string, number, number?][] = [
  ["G.V().Has('Type','veth').Count()", 30, 50],
  ["G.V().Has('Name','agent-42').Out().Out().Count()", 30],
  ["G.V().Has('IPV4', Ipv4Range('10.42.0.0/16')).Count()", 20],
  ["G.V().Has('Type','ovsbridge').Out().Out().Has('Name', Without('br-int')).Count()", 20],
  ["G.V().Has('Name','vm-7-3','Type','netns').Out().ShortestPathTo(Metadata('Type','gre'), Metadata('RelationType','layer2'))", 20],
  ["G.V().Has('Name','vm-7-3','Type','netns').ShortestPathTo(Metadata('Name','vm-93-200'))", 10],
  ["G.V().Has('Type','host','Name','agent-42').Descendants(0).Count()", 20],
];

export const benchmarks: Benchmark[] = [
  {
    name: 'graph: 100k-node topology in memory',
    async run() {
      const gc = gcFunction();
      gc();
      const before = process.memoryUsage();
      const start = process.hrtime.bigint();
      const g = topology();
      const buildMs = Number(process.hrtime.bigint() - start) / 1e6;
      gc();
      const after = process.memoryUsage();
      return {
        nodes: g.nodeCount,
        edges: g.edgeCount,
        buildMs: Math.round(buildMs),
        rssMB: mb(after.rss),
        heapUsedMB: mb(after.heapUsed),
        graphHeapMB: mb(after.heapUsed - before.heapUsed),
        limitRssMB: 1024,
      };
    },
  },
  ...QUERIES.map(([q, runs, target]) => ({ name: `graph: ${q}`, run: () => timeQuery(q, runs, target) })),
];

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const b of benchmarks) console.log(b.name, JSON.stringify(await b.run()));
}
