import { hostname } from 'node:os';
import { errorMessage } from '../common/errors.js';
import { parseFabricRule } from '../probes/topology/fabric.js';

/**
 * Every configuration key we know, with its type, default and a one-line description (reference §4.1). Typed
 * branches reject unknown keys so that typos are caught at start-up; `open` branches (storage backends, auth
 * backends, probe sections we do not interpret, UI...) accept anything below them, as the original does.
 */
export type KeyType =
  | 'string'
  | 'int'
  | 'bool'
  | 'strings' // list of strings; a scalar string is split on whitespace/commas (env overrides)
  | 'address' // host:port
  | 'addresses' // list of host:port
  | 'open'; // free-form subtree

export interface KeySpec {
  readonly kind: 'key';
  readonly type: KeyType;
  readonly default?: unknown;
  readonly doc: string;
  /** Allowed values (strings, or each element of a list). */
  readonly values?: readonly string[];
  /** Accepted for compatibility but not used by this implementation: a warning is logged. */
  readonly ignored?: string;
  /** Inclusive minimum for ints. */
  readonly min?: number;
  /** How a scalar string splits into a list (default: whitespace and commas). */
  readonly separator?: RegExp;
  /** Checks one element of a list value; returns what is wrong. */
  readonly checkItem?: (item: string) => string | undefined;
}

export interface SchemaTree {
  [name: string]: KeySpec | SchemaTree;
}

function k(type: KeyType, def: unknown, doc: string, extra: Partial<Omit<KeySpec, 'kind' | 'type' | 'doc' | 'default'>> = {}): KeySpec {
  return { kind: 'key', type, default: def, doc, ...extra };
}
const open = (doc: string, def?: unknown, extra: Partial<KeySpec> = {}): KeySpec => k('open', def, doc, extra);

export function isKeySpec(x: KeySpec | SchemaTree | undefined): x is KeySpec {
  return !!x && (x as KeySpec).kind === 'key';
}

/** Topology probes the original's agent knows (netlink, netns and hardware are always on). */
export const AGENT_TOPOLOGY_PROBES = [
  'netlink', 'netns', 'hardware', 'ovsdb', 'docker', 'neutron', 'opencontrail', 'socketinfo', 'lxd', 'lldp',
  'libvirt', 'runc', 'vpp', 'bess', 'blockdev', 'ovn', 'k8s', 'istio',
] as const;
export const ANALYZER_TOPOLOGY_PROBES = ['fabric', 'peering', 'k8s', 'istio', 'ovn', 'ovnk8s'] as const;
export const AGENT_FLOW_PROBES = ['gopacket', 'pcapsocket', 'afpacket', 'pcap', 'sflow', 'ovssflow', 'ovsmirror', 'ovsnetflow', 'dpdk', 'ebpf'] as const;
export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'NOTICE', 'WARNING', 'WARN', 'ERROR', 'CRITICAL', 'FATAL'] as const;

const ETCD_IGNORED = 'this implementation has no etcd: the analyzer keeps captures, alerts and other resources in its own store';

export const SCHEMA: SchemaTree = {
  host_id: k('string', undefined, 'Name of this host in the topology (host node Name, element Host); default: the hostname'),
  analyzers: k('addresses', [], 'Analyzers an agent publishes its topology to (host:port list)'),
  analyzer: {
    listen: k('address', '127.0.0.1:8082', 'Address of the analyzer REST API and WebSocket endpoints'),
    cluster: k('string', undefined, 'Cluster name for cross-cluster peering', { ignored: 'cross-cluster peering is not implemented' }),
    peers: open('Cross-cluster peering (analyzer.peers.<cluster>.*)', undefined, { ignored: 'cross-cluster peering is not implemented' }),
    auth: open('API and cluster authentication backends (noauth by default)', { api: { backend: 'noauth' }, cluster: { backend: 'noauth' } }),
    topology: {
      backend: k('string', 'memory', 'Name of the storage.<name> entry used for topology history'),
      fabric: k('strings', [], 'Static fabric topology rules, e.g. "TOR1[Name=tor1] -> TOR1_PORT1[Name=port1]"', { checkItem: checkFabricRule, separator: /\n+/ }),
      probes: k('strings', [], 'Analyzer topology probes (fabric and peering always run)', { values: ANALYZER_TOPOLOGY_PROBES }),
      k8s: open('Kubernetes probe settings'),
      istio: open('Istio probe settings'),
      ovn: open('OVN probe settings'),
    },
    flow: {
      backend: k('string', 'memory', 'Name of the storage.<name> entry used for flows'),
      max_buffer_size: k('int', 100000, 'Flows buffered before they are written to the flow backend', { min: 1 }),
    },
    startup: {
      capture_gremlin: k('string', '', 'Gremlin query of a capture created at start-up'),
      capture_bpf: k('string', '', 'BPF filter of the start-up capture'),
      capture_type: k('string', '', 'Capture type of the start-up capture (empty: default for the node type)'),
    },
    replication: open('Analyzer replication settings'),
    ssh_enabled: k('bool', false, 'SSH access through the UI', { ignored: 'no SSH console in this implementation' }),
  },
  agent: {
    listen: k('address', '127.0.0.1:8081', 'Address of the agent REST API'),
    auth: open('Agent API and cluster credentials (agent.auth.cluster.username/password)', { api: { backend: 'noauth' } }),
    metadata: open('Extra metadata added to the host node', {}),
    metadata_config: open('Files whose content is added to the host node (Config.<name>)'),
    capture: open('Capture settings (stats_update...)'),
    topology: {
      probes: k('strings', ['ovsdb'], 'Extra topology probes (netlink, netns, hardware always run)', { values: AGENT_TOPOLOGY_PROBES }),
      netlink: {
        metrics_update: k('int', 30, 'Seconds between interface metric updates (LastUpdateMetric)', { min: 1 }),
      },
      netns: {
        run_path: k('string', '/var/run/netns', 'Directory watched for network namespaces'),
      },
      docker: open('Docker probe settings (url, netns.run_path)', { url: 'unix:///var/run/docker.sock', netns: { run_path: '/var/run/docker/netns' } }),
      runc: open('runc probe settings (run_path)', { run_path: ['/run/containerd/runc', '/run/runc', '/run/runc-ctrs'] }),
      neutron: open('Neutron probe settings'),
      opencontrail: open('OpenContrail probe settings'),
      socketinfo: open('Socket info probe settings'),
      lxd: open('LXD probe settings'),
      lldp: open('LLDP probe settings (interfaces)'),
      libvirt: open('libvirt probe settings'),
      vpp: open('VPP probe settings'),
      bess: open('BESS probe settings'),
      blockdev: open('Block device probe settings'),
      k8s: open('Kubernetes probe settings'),
      istio: open('Istio probe settings'),
      ovn: open('OVN probe settings'),
    },
    flow: {
      probes: k('strings', ['gopacket', 'pcapsocket'], 'Flow probes available to captures', { values: AGENT_FLOW_PROBES }),
      stats_update: k('int', 1, 'Seconds between capture statistics updates', { min: 1 }),
      pcapsocket: {
        bind_address: k('string', '127.0.0.1', 'Address of pcapsocket listeners'),
        min_port: k('int', 8100, 'First TCP port of pcapsocket captures', { min: 1 }),
        max_port: k('int', 8132, 'Last TCP port of pcapsocket captures', { min: 1 }),
        port_min: k('int', undefined, 'Ignored spelling found in the original sample (use min_port)', { ignored: 'pcapsocket reads min_port/max_port' }),
        port_max: k('int', undefined, 'Ignored spelling found in the original sample (use max_port)', { ignored: 'pcapsocket reads min_port/max_port' }),
      },
      sflow: {
        bind_address: k('string', '127.0.0.1', 'Address of sFlow listeners'),
        port_min: k('int', 6345, 'First UDP port of sFlow captures', { min: 1 }),
        port_max: k('int', 6355, 'Last UDP port of sFlow captures', { min: 1 }),
      },
      netflow: {
        bind_address: k('string', '127.0.0.1', 'Address of NetFlow listeners'),
        port_min: k('int', 4768, 'First UDP port of NetFlow captures', { min: 1 }),
        port_max: k('int', 4778, 'Last UDP port of NetFlow captures', { min: 1 }),
      },
      ebpf: open('eBPF flow probe settings'),
    },
  },
  flow: {
    expire: k('int', 600, 'Seconds without packets after which a flow ends', { min: 1 }),
    update: k('int', 60, 'Seconds between flow updates sent to the analyzer', { min: 1 }),
    protocol: k('string', 'udp', 'Transport of flows from agents to the analyzer', { values: ['udp', 'websocket'] }),
    max_entries: k('int', 500000, 'Maximum flows in an agent flow table', { min: 1 }),
    default_layer_key_mode: k('string', 'L2', 'Default flow key mode of captures', { values: ['L2', 'L3'] }),
    application_ports: open('Extra port-to-application mappings'),
    application_timeout: open('Per-application flow timeouts in seconds', { arp: 10, dns: 10 }),
  },
  ovs: {
    ovsdb: k('string', 'unix:///var/run/openvswitch/db.sock', 'OVSDB server the ovsdb probe connects to'),
    enable_stats: k('bool', false, 'Report OVS interface statistics (Ovs.Metric)'),
    oflow: open('OpenFlow rule probe settings (enable, native, openflow_versions, address)', { enable: false, native: false }),
  },
  storage: open('Storage backends: storage.<name>.driver (memory, elasticsearch or orientdb) plus the driver settings', {
    memory: { driver: 'memory' },
  }),
  logging: {
    level: k('string', 'INFO', 'Log level', { values: LOG_LEVELS }),
    backends: k('strings', ['stderr'], 'Log backends', { ignored: 'logs are always JSON lines on stderr' }),
    encoder: k('string', '', 'Log encoder', { ignored: 'logs are always JSON lines' }),
    color: k('bool', true, 'Coloured logs', { ignored: 'logs are always JSON lines' }),
    file: open('File log backend settings'),
    syslog: open('Syslog log backend settings'),
  },
  http: {
    ws: {
      ping_delay: k('int', 2, 'Seconds between WebSocket pings', { min: 1 }),
      pong_timeout: k('int', 5, 'Seconds without pong (after ping_delay) before a WebSocket peer is dropped', { min: 1 }),
      queue_size: k('int', 10000, 'Messages queued per WebSocket peer', { ignored: 'outgoing messages are buffered by the socket' }),
      enable_write_compression: k('bool', true, 'permessage-deflate on WebSockets'),
      bulk_maxmsgs: k('int', 100, 'Messages per bulk', { ignored: 'messages are not bulked' }),
      bulk_maxdelay: k('int', 1, 'Bulk delay', { ignored: 'messages are not bulked' }),
    },
    rest: open('REST debug settings'),
    cookie: open('Cookies set on the UI'),
  },
  auth: open('Authentication backends auth.<name>.{type,...}'),
  rbac: open('RBAC model and policy'),
  tls: open('TLS certificates'),
  ui: open('Web UI settings'),
  etcd: open('Embedded etcd settings', undefined, { ignored: ETCD_IGNORED }),
  sflow: open('sFlow settings'),
  opencontrail: open('OpenContrail settings'),
};

function checkFabricRule(rule: string): string | undefined {
  try {
    parseFabricRule(rule);
    return undefined;
  } catch (err) {
    return errorMessage(err);
  }
}

/** Defaults as a tree, for Config; host_id defaults to the machine's hostname. */
export function schemaDefaults(tree: SchemaTree = SCHEMA): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(tree)) {
    if (isKeySpec(spec)) {
      if (spec.default !== undefined && !spec.ignored) out[name] = structuredClone(spec.default);
    } else {
      const sub = schemaDefaults(spec);
      if (Object.keys(sub).length) out[name] = sub;
    }
  }
  if (tree === SCHEMA) out.host_id = hostname();
  return out;
}

/** Every key of the schema with its spec, dotted ('agent.topology.probes'), in declaration order. */
export function schemaKeys(tree: SchemaTree = SCHEMA, prefix = ''): Array<[string, KeySpec]> {
  const out: Array<[string, KeySpec]> = [];
  for (const [name, spec] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${name}` : name;
    if (isKeySpec(spec)) out.push([path, spec]);
    else out.push(...schemaKeys(spec, path));
  }
  return out;
}

/** SKYDIVE_<KEY with . and - replaced by _>, upper case. */
export function envName(key: string): string {
  return 'SKYDIVE_' + key.toUpperCase().replace(/[.-]/g, '_');
}
