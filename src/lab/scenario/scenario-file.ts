import { spawnSync } from 'node:child_process';
import { relative } from 'node:path';
import type { SchemaObject } from 'ajv';
import type { LabDefinition } from '../lab-file.js';
import { schemaProblems, throwProblems, type FileProblem } from '../schema-check.js';
import { readYamlSource, type DocPath, type YamlSource } from '../yaml-source.js';
import { gremlinProblem } from './gremlin-syntax.js';

export const SCENARIO_INVALID = 'SKYDIVE_LAB_SCENARIO_INVALID';

/** Where something is written in its scenario file, `scenarios/gre-tunnel.yaml:12`, for run-time messages. */
export type At = string;

export interface ScenarioCommand {
  command: string;
  at: At;
}

export interface HostCommands {
  host: string;
  commands: ScenarioCommand[];
}

export interface CaptureSpec {
  name: string;
  gremlin: string;
  type?: string;
  bpf?: string;
  description?: string;
  at: At;
}

export interface InjectionSpec {
  name: string;
  src: string;
  dst?: string;
  type: string;
  count: number;
  intervalMs: number;
  id?: number;
  payload?: string;
  srcIP?: string;
  dstIP?: string;
  srcMAC?: string;
  dstMAC?: string;
  srcPort?: number;
  dstPort?: number;
  mode?: string;
  ttl?: number;
  at: At;
}

interface CheckBase {
  name: string;
  timeoutMs: number;
  at: At;
}
export type CheckSpec = CheckBase &
  (
    | { kind: 'gremlin'; gremlin: string; count?: number; min?: number; max?: number; fields?: Record<string, unknown> }
    | { kind: 'flowLink'; children: string; parents: string }
    | { kind: 'sameTrackingID'; queries: string[] }
    | { kind: 'command'; host: string; run: string }
  );

export interface Scenario {
  file: string;
  name: string;
  description?: string;
  /** run the teardown commands before setup too (leftovers of an interrupted run), ignoring their errors */
  preCleanup: boolean;
  setup: HostCommands[];
  captures: CaptureSpec[];
  injections: InjectionSpec[];
  checks: CheckSpec[];
  teardown: HostCommands[];
}

const DURATION = {
  type: ['number', 'string'],
  pattern: '^\\d+(\\.\\d+)?(ms|s|m)$',
  minimum: 0,
  description: 'a duration: seconds, or a number with ms, s or m',
};
const NAME = { type: 'string', minLength: 1 };
const QUERY = { type: 'string', minLength: 1 };
const HOST_COMMANDS = {
  type: 'array',
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['host', 'run'],
    properties: { host: NAME, run: { type: 'array', items: { type: 'string', minLength: 1 } } },
  },
};
const COUNT = { type: 'integer', minimum: 0 };

export const SCENARIO_SCHEMA: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: NAME,
    description: { type: 'string' },
    timeout: DURATION,
    preCleanup: { type: 'boolean' },
    setup: HOST_COMMANDS,
    teardown: HOST_COMMANDS,
    captures: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'gremlin'],
        properties: {
          name: NAME,
          gremlin: QUERY,
          type: { enum: ['ovssflow', 'pcapsocket', 'ovsmirror', 'dpdk', 'afpacket', 'pcap', 'ebpf', 'sflow', 'ovsnetflow'] },
          bpf: { type: 'string' },
          description: { type: 'string' },
        },
      },
    },
    injections: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'src'],
        properties: {
          name: NAME,
          src: QUERY,
          dst: QUERY,
          type: { enum: ['icmp4', 'icmp6', 'tcp4', 'tcp6', 'udp4', 'udp6'] },
          count: { type: 'integer', minimum: 1 },
          interval: { type: 'integer', minimum: 0, description: 'milliseconds between packets' },
          id: COUNT,
          payload: { type: 'string' },
          srcIP: { type: 'string' },
          dstIP: { type: 'string' },
          srcMAC: { type: 'string' },
          dstMAC: { type: 'string' },
          srcPort: { type: 'integer', minimum: 0, maximum: 65535 },
          dstPort: { type: 'integer', minimum: 0, maximum: 65535 },
          mode: { enum: ['unique', 'random'] },
          ttl: { type: 'integer', minimum: 1, maximum: 255 },
        },
      },
    },
    checks: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          name: NAME,
          timeout: DURATION,
          gremlin: QUERY,
          count: COUNT,
          min: COUNT,
          max: COUNT,
          fields: { type: 'object', minProperties: 1 },
          flowLink: {
            type: 'object',
            additionalProperties: false,
            required: ['children', 'parents'],
            properties: { children: QUERY, parents: QUERY },
          },
          sameTrackingID: { type: 'array', minItems: 2, items: QUERY },
          command: {
            type: 'object',
            additionalProperties: false,
            required: ['host', 'run'],
            properties: { host: NAME, run: { type: 'string', minLength: 1 } },
          },
        },
      },
    },
  },
};

export const DEFAULT_CHECK_TIMEOUT_MS = 30000;

/** `${captures.NAME.id}` in a check or injection query: the UUID of the scenario's capture NAME, known at run time. */
export const CAPTURE_REF = /\$\{captures\.([A-Za-z0-9_.-]+?)\.id\}/g;

/** Replace the capture references of a query by the UUIDs of the captures created; undefined names are reported. */
export function resolveCaptureRefs(q: string, ids: ReadonlyMap<string, string>): { query: string; missing: string[] } {
  const missing: string[] = [];
  const query = q.replace(CAPTURE_REF, (whole, name: string) => {
    const id = ids.get(name);
    if (id === undefined) missing.push(name);
    return id ?? whole;
  });
  return { query, missing };
}

export function parseDuration(v: number | string | undefined, fallbackMs: number): number {
  if (v === undefined) return fallbackMs;
  if (typeof v === 'number') return v * 1000;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(v)!;
  return Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60000);
}

type Raw = Record<string, any>;

/**
 * Read and validate a scenario against the lab it will run on. Every problem (schema, unknown host, unknown
 * ${hosts.X.address} variable, Gremlin or shell syntax) is reported at once with its file, line and key.
 */
export function loadScenario(file: string, lab: LabDefinition): Scenario {
  const display = relative(process.cwd(), file) || file;
  const src = readYamlSource(file, SCENARIO_INVALID, display.startsWith('..') ? file : display);
  return scenarioFromSource(src, lab);
}

export function scenarioFromSource(src: YamlSource, lab: LabDefinition): Scenario {
  if (src.data === null || typeof src.data !== 'object' || Array.isArray(src.data)) {
    throwProblems(src, [{ path: [], message: 'a scenario is a mapping with at least a "name"' }], SCENARIO_INVALID);
  }
  throwProblems(src, schemaProblems(src, SCENARIO_SCHEMA), SCENARIO_INVALID);
  const raw = src.data as Raw;
  const problems: FileProblem[] = [];
  const at = (path: DocPath): At => src.where(path);
  const hostNames = new Set(lab.hosts.map((h) => h.name));

  const expand = (text: string, path: DocPath): string =>
    text.replace(/\$\{hosts\.([a-z0-9-]+)\.(address|name)\}/g, (whole, host: string, field: 'address' | 'name') => {
      const h = lab.hosts.find((x) => x.name === host);
      if (!h) {
        problems.push({ path, message: `${whole}: no host "${host}" in lab ${lab.name} (${[...hostNames].join(', ')})` });
        return whole;
      }
      return h[field];
    });
  const host = (name: string, path: DocPath): string => {
    if (!hostNames.has(name)) problems.push({ path, message: `no host "${name}" in lab ${lab.name} (hosts: ${[...hostNames].join(', ')})` });
    return name;
  };
  const captureNames = new Set(((raw.captures ?? []) as Raw[]).map((c) => c.name as string));
  // ${captures.NAME.id} is replaced at run time by the UUID of that capture (to read only its flows)
  const captureRefs = (text: string, path: DocPath): void => {
    for (const m of text.matchAll(CAPTURE_REF)) {
      if (!captureNames.has(m[1])) problems.push({ path, message: `${m[0]}: no capture "${m[1]}" in this scenario (${[...captureNames].join(', ') || 'none'})` });
    }
  };
  const query = (q: string, path: DocPath, allowCaptureRefs = true): string => {
    const text = expand(q, path);
    if (allowCaptureRefs) captureRefs(text, path);
    else if (text.search(CAPTURE_REF) >= 0) problems.push({ path, message: 'a capture query cannot use ${captures.NAME.id}' });
    const p = gremlinProblem(text);
    if (p) problems.push({ path, message: p.message });
    return text;
  };
  const shell = (cmd: string, path: DocPath): string => {
    const text = expand(cmd, path);
    const r = spawnSync('bash', ['-n', '-c', text], { encoding: 'utf8' });
    if (r.status !== 0) problems.push({ path, message: `shell syntax error: ${r.stderr.trim().replace(/^bash: -c: /, '')}` });
    return text;
  };
  const hostCommands = (section: 'setup' | 'teardown'): HostCommands[] =>
    ((raw[section] ?? []) as Raw[]).map((s, i) => ({
      host: host(s.host, [section, i, 'host']),
      commands: (s.run as string[]).map((c, j) => ({ command: shell(c, [section, i, 'run', j]), at: at([section, i, 'run', j]) })),
    }));
  const names = new Map<string, string>();
  const uniqueName = (section: string, name: string, path: DocPath): string => {
    const key = `${section}/${name}`;
    if (names.has(key)) problems.push({ path, message: `name "${name}" is already used in ${section} (${names.get(key)})` });
    names.set(key, src.where(path));
    return name;
  };
  const defaultTimeout = parseDuration(raw.timeout, DEFAULT_CHECK_TIMEOUT_MS);

  const scenario: Scenario = {
    file: src.file,
    name: raw.name,
    description: raw.description,
    preCleanup: raw.preCleanup ?? false,
    setup: hostCommands('setup'),
    teardown: hostCommands('teardown'),
    captures: ((raw.captures ?? []) as Raw[]).map((c, i) => ({
      name: uniqueName('captures', c.name, ['captures', i, 'name']),
      gremlin: query(c.gremlin, ['captures', i, 'gremlin'], false),
      type: c.type,
      bpf: c.bpf,
      description: c.description,
      at: at(['captures', i]),
    })),
    injections: ((raw.injections ?? []) as Raw[]).map((j, i) => ({
      name: uniqueName('injections', j.name, ['injections', i, 'name']),
      src: query(j.src, ['injections', i, 'src']),
      dst: j.dst === undefined ? undefined : query(j.dst, ['injections', i, 'dst']),
      type: j.type ?? 'icmp4',
      count: j.count ?? 1,
      intervalMs: j.interval ?? 1000,
      id: j.id,
      payload: j.payload,
      srcIP: j.srcIP === undefined ? undefined : expand(j.srcIP, ['injections', i, 'srcIP']),
      dstIP: j.dstIP === undefined ? undefined : expand(j.dstIP, ['injections', i, 'dstIP']),
      srcMAC: j.srcMAC,
      dstMAC: j.dstMAC,
      srcPort: j.srcPort,
      dstPort: j.dstPort,
      mode: j.mode,
      ttl: j.ttl,
      at: at(['injections', i]),
    })),
    checks: ((raw.checks ?? []) as Raw[]).map((c, i) => checkSpec(c, i)),
  };

  function checkSpec(c: Raw, i: number): CheckSpec {
    const path = ['checks', i];
    const base = { name: uniqueName('checks', c.name, [...path, 'name']), timeoutMs: parseDuration(c.timeout, defaultTimeout), at: at(path) };
    const kinds = ['gremlin', 'flowLink', 'sameTrackingID', 'command'].filter((k) => c[k] !== undefined);
    if (kinds.length !== 1) {
      problems.push({ path, message: `a check has exactly one of gremlin, flowLink, sameTrackingID, command (found ${kinds.length ? kinds.join(', ') : 'none'})` });
      return { ...base, kind: 'command', host: '', run: '' };
    }
    for (const k of ['count', 'min', 'max', 'fields']) {
      if (c[k] !== undefined && kinds[0] !== 'gremlin') problems.push({ path: [...path, k], message: `"${k}" applies to gremlin checks only`, atKey: true });
    }
    if (c.count !== undefined && (c.min !== undefined || c.max !== undefined)) {
      problems.push({ path: [...path, 'count'], message: 'use either count or min/max', atKey: true });
    }
    switch (kinds[0]) {
      case 'gremlin':
        return { ...base, kind: 'gremlin', gremlin: query(c.gremlin, [...path, 'gremlin']), count: c.count, min: c.min, max: c.max, fields: c.fields };
      case 'flowLink':
        return {
          ...base,
          kind: 'flowLink',
          children: query(c.flowLink.children, [...path, 'flowLink', 'children']),
          parents: query(c.flowLink.parents, [...path, 'flowLink', 'parents']),
        };
      case 'sameTrackingID':
        return { ...base, kind: 'sameTrackingID', queries: (c.sameTrackingID as string[]).map((q, j) => query(q, [...path, 'sameTrackingID', j])) };
      default:
        return { ...base, kind: 'command', host: host(c.command.host, [...path, 'command', 'host']), run: shell(c.command.run, [...path, 'command', 'run']) };
    }
  }

  throwProblems(src, problems, SCENARIO_INVALID);
  return scenario;
}

/** Whether a query reads flows (needs captures on the analyzer). */
export function readsFlows(q: string): boolean {
  return /\.\s*flows\s*\(/i.test(q);
}
