import { resolve } from 'node:path';
import type { SchemaObject } from 'ajv';
import { CIDR_PATTERN, IPV4_PATTERN, cidrContains, cidrOverlaps, parseCidr } from './ipv4.js';
import { DEFAULT_LAB_FILE } from './paths.js';
import { schemaProblems, throwProblems, type FileProblem } from './schema-check.js';
import { readYamlSource, type YamlSource } from './yaml-source.js';

export const LAB_FILE_INVALID = 'SKYDIVE_LAB_FILE_INVALID';

export type LabRole = 'analyzer' | 'agent';
export type ProviderName = 'netns' | 'vagrant';

export interface LabHost {
  name: string;
  roles: LabRole[];
  /** Address on the lab network (without prefix length). */
  address: string;
}

export interface LabDefinition {
  /** Absolute path of the lab file. */
  file: string;
  name: string;
  provider: ProviderName;
  network: { subnet: string; prefix: number; interface: string };
  management: { subnet: string };
  analyzer: { port: number };
  agent: { port: number; probes: string[] };
  fabric: { tor: string; mtu: number };
  ovs: { datapath: 'netdev' | 'system' };
  /** Extra keys merged into every host's /etc/skydive/skydive.yml. */
  skydive: Record<string, unknown>;
  vagrant: { box: string; memory: number; cpus: number };
  hosts: LabHost[];
}

const port = { type: 'integer', minimum: 1, maximum: 65535 };

export const LAB_SCHEMA: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  required: ['hosts'],
  properties: {
    name: { type: 'string', pattern: '^[a-z][a-z0-9]{0,7}$', description: '1 to 8 lowercase letters or digits, starting with a letter' },
    provider: { enum: ['netns', 'vagrant'] },
    network: {
      type: 'object',
      additionalProperties: false,
      properties: {
        subnet: { type: 'string', pattern: CIDR_PATTERN, description: 'an IPv4 CIDR such as 192.168.50.0/24' },
        interface: { type: 'string', pattern: '^[a-zA-Z][a-zA-Z0-9_.-]{0,14}$', description: 'an interface name' },
      },
    },
    management: {
      type: 'object',
      additionalProperties: false,
      properties: { subnet: { type: 'string', pattern: CIDR_PATTERN, description: 'an IPv4 CIDR such as 10.250.0.0/24' } },
    },
    analyzer: { type: 'object', additionalProperties: false, properties: { port } },
    agent: {
      type: 'object',
      additionalProperties: false,
      properties: { port, probes: { type: 'array', items: { type: 'string', pattern: '^[a-z]+$', description: 'a probe name' } } },
    },
    fabric: {
      type: 'object',
      additionalProperties: false,
      properties: {
        tor: { type: 'string', pattern: '^[A-Z][A-Z0-9_]*$', description: 'an upper-case node name such as TOR1' },
        mtu: { type: 'integer', minimum: 68, maximum: 65535 },
      },
    },
    ovs: { type: 'object', additionalProperties: false, properties: { datapath: { enum: ['netdev', 'system'] } } },
    skydive: { type: 'object' },
    vagrant: {
      type: 'object',
      additionalProperties: false,
      properties: {
        box: { type: 'string', minLength: 1 },
        memory: { type: 'integer', minimum: 256 },
        cpus: { type: 'integer', minimum: 1 },
      },
    },
    hosts: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'roles', 'address'],
        properties: {
          name: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,14}$', description: 'a host name: 1 to 15 lowercase letters, digits or dashes' },
          roles: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: ['analyzer', 'agent'] } },
          address: { type: 'string', pattern: IPV4_PATTERN, description: 'an IPv4 address such as 192.168.50.20' },
        },
      },
    },
  },
};

interface RawLab {
  name?: string;
  provider?: ProviderName;
  network?: { subnet?: string; interface?: string };
  management?: { subnet?: string };
  analyzer?: { port?: number };
  agent?: { port?: number; probes?: string[] };
  fabric?: { tor?: string; mtu?: number };
  ovs?: { datapath?: 'netdev' | 'system' };
  skydive?: Record<string, unknown>;
  vagrant?: { box?: string; memory?: number; cpus?: number };
  hosts: Array<{ name: string; roles: LabRole[]; address: string }>;
}

export function labFilePath(given?: string): string {
  return resolve(given || process.env.SKYDIVE_LAB || DEFAULT_LAB_FILE);
}

/** Read, validate and complete a lab file; every problem is reported with its file, line and key. */
export function loadLabFile(file?: string): LabDefinition {
  const path = labFilePath(file);
  const src = readYamlSource(path, LAB_FILE_INVALID);
  return labFromSource(src, path);
}

export function labFromSource(src: YamlSource, absPath: string): LabDefinition {
  if (src.data === null || typeof src.data !== 'object' || Array.isArray(src.data)) {
    throwProblems(src, [{ path: [], message: 'a lab file is a mapping with at least a "hosts" list' }], LAB_FILE_INVALID);
  }
  throwProblems(src, schemaProblems(src, LAB_SCHEMA), LAB_FILE_INVALID);
  const raw = src.data as RawLab;
  const provider = raw.provider ?? 'netns';
  const lab: LabDefinition = {
    file: absPath,
    name: raw.name ?? 'skydive',
    provider,
    network: {
      subnet: raw.network?.subnet ?? '192.168.50.0/24',
      prefix: parseCidr(raw.network?.subnet ?? '192.168.50.0/24').prefix,
      interface: raw.network?.interface ?? 'eth1',
    },
    management: { subnet: raw.management?.subnet ?? '10.250.0.0/24' },
    analyzer: { port: raw.analyzer?.port ?? 8082 },
    agent: { port: raw.agent?.port ?? 8081, probes: raw.agent?.probes ?? ['ovsdb'] },
    fabric: { tor: raw.fabric?.tor ?? 'TOR1', mtu: raw.fabric?.mtu ?? 1500 },
    // The netns provider shares this machine's kernel, which has no openvswitch module: userspace datapath only.
    ovs: { datapath: raw.ovs?.datapath ?? (provider === 'netns' ? 'netdev' : 'system') },
    skydive: raw.skydive ?? {},
    vagrant: { box: raw.vagrant?.box ?? 'debian/bookworm64', memory: raw.vagrant?.memory ?? 2048, cpus: raw.vagrant?.cpus ?? 2 },
    hosts: raw.hosts.map((h) => ({ name: h.name, roles: h.roles, address: h.address })),
  };
  throwProblems(src, semanticProblems(lab, raw), LAB_FILE_INVALID);
  return lab;
}

function semanticProblems(lab: LabDefinition, raw: RawLab): FileProblem[] {
  const problems: FileProblem[] = [];
  const net = parseCidr(lab.network.subnet);
  const names = new Map<string, number>();
  const addresses = new Map<string, number>();
  lab.hosts.forEach((h, i) => {
    if (names.has(h.name)) problems.push({ path: ['hosts', i, 'name'], message: `host "${h.name}" is already defined by hosts[${names.get(h.name)}]` });
    names.set(h.name, i);
    if (addresses.has(h.address)) problems.push({ path: ['hosts', i, 'address'], message: `${h.address} is already used by hosts[${addresses.get(h.address)}]` });
    addresses.set(h.address, i);
    if (!cidrContains(net, h.address)) problems.push({ path: ['hosts', i, 'address'], message: `${h.address} is not inside network.subnet ${lab.network.subnet}` });
    if (h.name === 'tor') problems.push({ path: ['hosts', i, 'name'], message: '"tor" is the name of the lab switch' });
  });
  const analyzers = lab.hosts.filter((h) => h.roles.includes('analyzer'));
  if (analyzers.length !== 1) problems.push({ path: ['hosts'], message: `exactly one host must have the role "analyzer" (found ${analyzers.length})` });
  if (lab.provider === 'netns') {
    const mgmt = parseCidr(lab.management.subnet);
    if (mgmt.size / 4 < lab.hosts.length) {
      problems.push({ path: ['management', 'subnet'], message: `${lab.management.subnet} has room for ${mgmt.size / 4} hosts (one /30 each), the lab has ${lab.hosts.length}` });
    }
    if (cidrOverlaps(mgmt, net)) problems.push({ path: ['management', 'subnet'], message: `overlaps network.subnet ${lab.network.subnet}` });
    if (lab.network.interface === 'eth0') {
      problems.push({ path: ['network', 'interface'], message: 'eth0 is the management interface of netns hosts: use another name (eth1)' });
    }
    if (raw.ovs?.datapath === 'system') {
      problems.push({ path: ['ovs', 'datapath'], message: 'the netns provider shares this kernel, which has no openvswitch module: use "netdev"' });
    }
  }
  return problems;
}

export function analyzerHost(lab: LabDefinition): LabHost {
  return lab.hosts.find((h) => h.roles.includes('analyzer'))!;
}
