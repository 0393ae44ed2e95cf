import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { SkydiveError } from '../common/errors.js';
import type { LabRole, ProviderName } from './lab-file.js';
import { stateRoot } from './paths.js';

/**
 * Everything a lab created, written to disk BEFORE each creation (a journal), so that `lab down` can remove it all
 * even after `lab up` crashed half-way: /var/lib/skydive-lab/<lab>/state.json (root overridable with
 * SKYDIVE_LAB_STATE_DIR). The same directory holds the lab's SSH keys, per-host files and the structured log.
 */
export type Resource =
  | { kind: 'netns'; name: string }
  /** a link in this machine's root namespace */
  | { kind: 'link'; name: string }
  /** the `unshare` process holding a host's namespaces; killing its pid namespace ends every process of the host */
  | { kind: 'process'; host: string; pid: number; startTime: string; pidns?: string }
  | { kind: 'vagrant'; cwd: string; env: Record<string, string> };

export interface SshEndpoint {
  host: string;
  port: number;
  user: string;
  privateKeyPath: string;
}

export interface HostRecord {
  name: string;
  roles: LabRole[];
  address: string;
  ssh: SshEndpoint;
}

/** running: supervised/systemd service started; unavailable: this build has no such command yet. */
export type ServiceState = 'running' | 'unavailable' | 'failed';

export interface LabStateData {
  version: 1;
  name: string;
  provider: ProviderName;
  labFile: string;
  createdAt: string;
  phase: 'creating' | 'provisioning' | 'up' | 'failed';
  resources: Resource[];
  hosts: HostRecord[];
  /** host:port of the analyzer's API, reachable from this machine */
  analyzerApi?: string;
  services: Record<string, Partial<Record<LabRole, ServiceState>>>;
}

export const LAB_BUSY = 'SKYDIVE_LAB_BUSY';

export class LabState {
  private constructor(readonly dir: string, public data: LabStateData) {}

  static dirFor(name: string): string {
    return join(stateRoot(), name);
  }

  static load(name: string): LabState | undefined {
    const dir = LabState.dirFor(name);
    const file = join(dir, 'state.json');
    if (!existsSync(file)) return undefined;
    try {
      return new LabState(dir, JSON.parse(readFileSync(file, 'utf8')) as LabStateData);
    } catch (err) {
      throw new SkydiveError('SKYDIVE_LAB_STATE_CORRUPT', `cannot read ${file}: ${(err as Error).message}`);
    }
  }

  static create(name: string, provider: ProviderName, labFile: string): LabState {
    const dir = LabState.dirFor(name);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = new LabState(dir, {
      version: 1,
      name,
      provider,
      labFile,
      createdAt: new Date().toISOString(),
      phase: 'creating',
      resources: [],
      hosts: [],
      services: {},
    });
    st.save();
    return st;
  }

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  /** Journal a resource before creating it. */
  record(res: Resource): void {
    this.data.resources.push(res);
    this.save();
  }

  update(fn: (d: LabStateData) => void): void {
    fn(this.data);
    this.save();
  }

  save(): void {
    const file = join(this.dir, 'state.json');
    writeFileSync(file + '.tmp', JSON.stringify(this.data, null, 2) + '\n', { mode: 0o600 });
    renameSync(file + '.tmp', file);
  }

  /**
   * Remove the state directory (keys, per-host files, logs): the last step of `lab down`. `keep` names entries
   * to leave (the lock and log of a `lab up` that recreates the lab).
   */
  remove(keep: string[] = []): void {
    if (!keep.length) return rmSync(this.dir, { recursive: true, force: true });
    for (const e of readdirSync(this.dir)) if (!keep.includes(e)) rmSync(join(this.dir, e), { recursive: true, force: true });
  }
}

/**
 * One `lab up`/`lab down` at a time per lab: an exclusive lock file holding the owner's pid (a stale lock of a
 * dead process is taken over).
 */
export function lockLab(name: string): () => void {
  const dir = LabState.dirFor(name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(readFileSync(file, 'utf8'));
      if (owner && owner !== process.pid && processAlive(owner)) {
        throw new SkydiveError(LAB_BUSY, `lab ${name} is busy: process ${owner} is running lab up/down on it`);
      }
      rmSync(file, { force: true });
    }
  }
  throw new SkydiveError(LAB_BUSY, `cannot lock lab ${name} (${file})`);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
