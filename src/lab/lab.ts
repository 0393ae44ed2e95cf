import { SkydiveError, UsageError } from '../common/errors.js';
import { AnalyzerClient } from './analyzer-api.js';
import { loadLabFile, type LabDefinition, type ProviderName } from './lab-file.js';
import { Progress, labFileLogger } from './progress.js';
import { NetnsProvider } from './providers/netns.js';
import type { LabProvider, ProviderContext } from './providers/provider.js';
import { VagrantProvider } from './providers/vagrant.js';
import { provisionLab } from './provisioner.js';
import { SshConnection } from './ssh.js';
import { LabState, lockLab, type HostRecord } from './state.js';
import { teardownLab } from './teardown.js';

export const LAB_NOT_UP = 'SKYDIVE_LAB_NOT_UP';
export const LAB_UNKNOWN_HOST = 'SKYDIVE_LAB_UNKNOWN_HOST';

export function providerFor(name: ProviderName): LabProvider {
  return name === 'vagrant' ? new VagrantProvider() : new NetnsProvider();
}

/**
 * `lab up`: create the hosts (or reuse those of a previous up when they are all still running), provision them,
 * start Skydive, wait for the agents. A half-created or broken lab is torn down first, from its journal.
 */
export async function labUp(opts: { labFile?: string; provider?: ProviderName; out?: (l: string) => void } = {}): Promise<LabState> {
  const lab = loadLabFile(opts.labFile);
  if (opts.provider) lab.provider = opts.provider;
  const unlock = lockLab(lab.name);
  try {
    const log = labFileLogger(LabState.dirFor(lab.name) + '/lab.log');
    const progress = new Progress(log, opts.out);
    const provider = providerFor(lab.provider);
    let state = LabState.load(lab.name);
    let reuse = false;
    if (state) {
      reuse = await provider.reusable({ lab, state, progress, log });
      if (!reuse) {
        progress.info(`lab ${lab.name}: removing the previous (incomplete or stopped) lab first`);
        await teardownLab(state, progress, ['lock', 'lab.log']);
        state = undefined;
      }
    }
    if (!state) state = LabState.create(lab.name, lab.provider, lab.file);
    const ctx: ProviderContext = { lab, state, progress, log };
    let hosts: HostRecord[];
    let analyzerApi: string;
    if (reuse) {
      progress.info(`lab ${lab.name}: hosts already running, provisioning them again`);
      hosts = state.data.hosts;
      analyzerApi = state.data.analyzerApi!;
    } else {
      ({ hosts, analyzerApi } = await provider.up(ctx));
      state.update((d) => {
        d.hosts = hosts;
        d.analyzerApi = analyzerApi;
      });
    }
    state.update((d) => {
      d.phase = 'provisioning';
      d.services = {};
    });
    try {
      await provisionLab(ctx, provider, hosts, analyzerApi);
    } catch (err) {
      state.update((d) => {
        d.phase = 'failed';
      });
      throw err;
    }
    state.update((d) => {
      d.phase = 'up';
    });
    return state;
  } finally {
    unlock();
  }
}

/** `lab down`: remove everything the lab's journal lists (nothing to do when there is no state). */
export async function labDown(opts: { labFile?: string; out?: (l: string) => void } = {}): Promise<boolean> {
  const lab = loadLabFile(opts.labFile);
  const state = LabState.load(lab.name);
  if (!state) return false;
  const unlock = lockLab(lab.name);
  try {
    const progress = new Progress(labFileLogger(state.path('lab.log')), opts.out);
    await teardownLab(state, progress);
    return true;
  } finally {
    unlock();
  }
}

export function requireState(lab: LabDefinition): LabState {
  const state = LabState.load(lab.name);
  if (!state || !state.data.hosts.length) {
    throw new SkydiveError(LAB_NOT_UP, `lab ${lab.name} is not up (no hosts in ${LabState.dirFor(lab.name)}): run \`skydive lab up\` first`);
  }
  return state;
}

export function hostRecord(state: LabState, name: string): HostRecord {
  const h = state.data.hosts.find((x) => x.name === name);
  if (!h) throw new UsageError(LAB_UNKNOWN_HOST, `no host "${name}" in lab ${state.data.name} (hosts: ${state.data.hosts.map((x) => x.name).join(', ')})`);
  return h;
}

export interface LabCapabilities {
  /** the analyzer answers topology queries */
  topology: boolean;
  capture: boolean;
  injection: boolean;
}

export async function analyzerCapabilities(api: AnalyzerClient | undefined): Promise<LabCapabilities> {
  if (!api) return { topology: false, capture: false, injection: false };
  let topology = false;
  try {
    await api.topology('G.V().Count()');
    topology = true;
  } catch {
    topology = false;
  }
  const [capture, injection] = topology ? await Promise.all([api.serves('capture'), api.serves('injectpacket')]) : [false, false];
  return { topology, capture, injection };
}

export interface LabStatusReport {
  name: string;
  provider: ProviderName;
  phase: string;
  stateDir: string;
  analyzer: { api: string | null; url: string | null; running: boolean };
  capabilities: LabCapabilities;
  hosts: Array<{
    name: string;
    role: string;
    roles: string[];
    address: string;
    ssh: string;
    sshHost: string;
    sshPort: number;
    sshUser: string;
    sshKey: string;
    services: Record<string, string>;
  }>;
}

/** `lab status`: what the state says, plus what the analyzer answers right now. */
export async function labStatus(opts: { labFile?: string } = {}): Promise<LabStatusReport> {
  const lab = loadLabFile(opts.labFile);
  const state = requireState(lab);
  const d = state.data;
  const analyzerRunning = Object.values(d.services).some((s) => s.analyzer === 'running');
  const api = d.analyzerApi ? new AnalyzerClient(d.analyzerApi, 3000) : undefined;
  return {
    name: d.name,
    provider: d.provider,
    phase: d.phase,
    stateDir: state.dir,
    analyzer: { api: d.analyzerApi ?? null, url: d.analyzerApi ? `http://${d.analyzerApi}/` : null, running: analyzerRunning },
    capabilities: await analyzerCapabilities(analyzerRunning ? api : undefined),
    hosts: d.hosts.map((h) => ({
      name: h.name,
      role: h.roles.join(','),
      roles: h.roles,
      address: h.address,
      ssh: `${h.ssh.user}@${h.ssh.host}:${h.ssh.port}`,
      sshHost: h.ssh.host,
      sshPort: h.ssh.port,
      sshUser: h.ssh.user,
      sshKey: h.ssh.privateKeyPath,
      services: Object.fromEntries(Object.entries(d.services[h.name] ?? {}).map(([k, v]) => [k, String(v)])),
    })),
  };
}

/** `lab ssh HOST -- COMMAND`: run one command, its output streamed here; resolves with its exit status. */
export async function labSshCommand(opts: { labFile?: string; host: string; command?: string; tty?: boolean }): Promise<number> {
  const lab = loadLabFile(opts.labFile);
  const rec = hostRecord(requireState(lab), opts.host);
  const conn = await SshConnection.open(rec.ssh);
  try {
    if (opts.command === undefined || opts.tty) return await conn.interactive(opts.command);
    const r = await conn.exec(opts.command, {
      onStdout: (d) => process.stdout.write(d),
      onStderr: (d) => process.stderr.write(d),
    });
    return r.code;
  } finally {
    conn.close();
  }
}
