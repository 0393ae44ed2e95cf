import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SkydiveError } from '../../common/errors.js';
import type { LabDefinition } from '../lab-file.js';
import { PROVIDER_FAILED, runLocal } from '../local-command.js';
import { PROJECT_ROOT } from '../paths.js';
import type { SshConnection } from '../ssh.js';
import type { HostRecord } from '../state.js';
import type { LabProvider, ProviderContext, UpResult } from './provider.js';

/**
 * What the project tarball for VMs holds: the built CLI and servers, their manifests, the provision scripts, and
 * the UI's static files (the analyzer serves them from the source tree, see src/ui/index.ts).
 */
const TARBALL_CONTENT = ['bin', 'dist', 'package.json', 'package-lock.json', 'provision', 'scenarios', 'native/build/Release', 'src/ui/static'];

/**
 * Lab hosts as Vagrant VMs, from the repository's Vagrantfile (which reads the same lab file, SKYDIVE_LAB).
 * `vagrant up` creates them, `vagrant ssh-config` gives their SSH endpoints; provisioning then runs over SSH as
 * for netns hosts. The analyzer's API is reached on its private-network address.
 */
export class VagrantProvider implements LabProvider {
  readonly name = 'vagrant' as const;
  readonly installsPackages = true;

  private env(lab: LabDefinition): Record<string, string> {
    return { SKYDIVE_LAB: lab.file };
  }

  async up(ctx: ProviderContext): Promise<UpResult> {
    const { lab, state, progress } = ctx;
    const env = this.env(lab);
    await progress.step('lab', 'vagrant', async () => {
      const v = await runLocal('vagrant', ['--version'], { allowFail: true });
      if (v.code !== 0) throw new SkydiveError(PROVIDER_FAILED, 'vagrant is not installed (apt-get install vagrant, plus a provider: libvirt or VirtualBox)');
      return v.stdout.trim();
    });
    state.record({ kind: 'vagrant', cwd: PROJECT_ROOT, env });
    await progress.step('lab', 'vagrant up', async () => {
      await runLocal('vagrant', ['up'], { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, timeoutMs: 60 * 60000 });
      return `${lab.hosts.length} machine(s)`;
    });
    const hosts = await this.sshConfig(lab);
    const analyzer = lab.hosts.find((h) => h.roles.includes('analyzer'))!;
    return { hosts, analyzerApi: `${analyzer.address}:${lab.analyzer.port}` };
  }

  private async sshConfig(lab: LabDefinition): Promise<HostRecord[]> {
    const out = (await runLocal('vagrant', ['ssh-config'], { cwd: PROJECT_ROOT, env: { ...process.env, ...this.env(lab) } })).stdout;
    const endpoints = parseSshConfig(out);
    return lab.hosts.map((h) => {
      const e = endpoints.get(h.name);
      if (!e) throw new SkydiveError(PROVIDER_FAILED, `vagrant ssh-config has no machine ${h.name}`);
      return { name: h.name, roles: h.roles, address: h.address, ssh: e };
    });
  }

  async reusable(ctx: ProviderContext): Promise<boolean> {
    if (ctx.state.data.provider !== 'vagrant') return false;
    const st = await runLocal('vagrant', ['status', '--machine-readable'], { cwd: PROJECT_ROOT, env: { ...process.env, ...this.env(ctx.lab) }, allowFail: true });
    const running = st.stdout.split('\n').filter((l) => l.split(',')[2] === 'state' && l.split(',')[3] === 'running').map((l) => l.split(',')[1]);
    return ctx.lab.hosts.every((h) => running.includes(h.name));
  }

  /** Upload a tarball of the built project; install.sh unpacks it at /opt/skydive and runs npm ci --omit=dev. */
  async prepareInstall(conn: SshConnection): Promise<Record<string, string>> {
    const dir = mkdtempSync(join(tmpdir(), 'skydive-lab-'));
    const tarball = join(dir, 'skydive.tar.gz');
    try {
      await runLocal('tar', ['-czf', tarball, '-C', PROJECT_ROOT, '--ignore-failed-read', ...TARBALL_CONTENT], { timeoutMs: 5 * 60000 });
      const remote = `/tmp/skydive-${process.pid}.tar.gz`;
      await conn.upload(tarball, remote);
      return { SKYDIVE_TARBALL: remote };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** `vagrant ssh-config` output → SSH endpoint per machine. */
export function parseSshConfig(text: string): Map<string, HostRecord['ssh']> {
  const out = new Map<string, HostRecord['ssh']>();
  let cur: { name: string; host?: string; port?: number; user?: string; key?: string } | undefined;
  const flush = (): void => {
    if (cur?.host && cur.user && cur.key) out.set(cur.name, { host: cur.host, port: cur.port ?? 22, user: cur.user, privateKeyPath: cur.key });
  };
  for (const raw of text.split('\n')) {
    const [k, ...rest] = raw.trim().split(/\s+/);
    const v = rest.join(' ').replace(/^"|"$/g, '');
    switch (k) {
      case 'Host':
        flush();
        cur = { name: v };
        break;
      case 'HostName':
        if (cur) cur.host = v;
        break;
      case 'Port':
        if (cur) cur.port = Number(v);
        break;
      case 'User':
        if (cur) cur.user = v;
        break;
      case 'IdentityFile':
        if (cur && !cur.key) cur.key = v;
        break;
    }
  }
  flush();
  return out;
}
