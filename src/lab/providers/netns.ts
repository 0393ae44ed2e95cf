import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { SkydiveError } from '../../common/errors.js';
import { cidrOverlaps, managementPair, parseCidr } from '../ipv4.js';
import type { LabDefinition, LabHost } from '../lab-file.js';
import { PROVIDER_FAILED, runLocal } from '../local-command.js';
import { PROJECT_ROOT } from '../paths.js';
import type { HostRecord, LabState } from '../state.js';
import { processStartTime } from '../teardown.js';
import type { LabProvider, ProviderContext, UpResult } from './provider.js';

/**
 * Lab hosts as namespaces of this machine. Each host is:
 *  - a network namespace `<lab>-<host>` whose `eth1` is a veth to the lab switch (a Linux bridge in the namespace
 *    `<lab>-tor`, so lab subnets never touch this machine's own interfaces), plus `eth0`, a veth with a /30 of
 *    management.subnet to `<lab>-m<i>` in the root namespace (SSH and the analyzer's API from this machine);
 *  - its own mount, UTS and PID namespaces, held by its sshd (PID 1 there): private /run (tmpfs: /run/netns,
 *    /run/openvswitch...), copy-on-write /etc (overlay, upper layer in the lab state), its own /var/log,
 *    /var/lib/openvswitch and /usr/local/sbin, the project read-only at /opt/skydive, its own hostname;
 *  - reached only through SSH, so every command inherits all of these namespaces, as on a VM.
 * Killing the PID namespace ends every process of the host; deleting the network namespace removes its links.
 */
export class NetnsProvider implements LabProvider {
  readonly name = 'netns' as const;
  readonly installsPackages = false;

  async up(ctx: ProviderContext): Promise<UpResult> {
    const { lab, state, progress } = ctx;
    await progress.step('lab', 'preflight', () => preflight(lab));
    await progress.step('lab', 'keys', async () => {
      await makeKeys(state);
      return 'created';
    });
    const tor = torNetns(lab);
    await progress.step('lab', 'switch', async () => {
      state.record({ kind: 'netns', name: tor });
      await runLocal('ip', ['netns', 'add', tor]);
      await runLocal('ip', ['-n', tor, 'link', 'set', 'lo', 'up']);
      await runLocal('ip', ['-n', tor, 'link', 'add', torBridge(lab), 'type', 'bridge']);
      await runLocal('ip', ['-n', tor, 'link', 'set', torBridge(lab), 'up']);
      return `${torBridge(lab)} in namespace ${tor}`;
    });
    for (const [i, h] of lab.hosts.entries()) await progress.step(h.name, 'host', () => createHost(ctx, h, i));
    await Promise.all(
      lab.hosts.map((h, i) =>
        progress.step(h.name, 'sshd', async () => {
          await waitForPort(managementPair(parseCidr(lab.management.subnet), i).host, 22, 15000, state.path('hosts', h.name, 'boot.log'));
          return 'listening';
        }),
      ),
    );
    return { hosts: lab.hosts.map((h, i) => hostRecord(lab, state, h, i)), analyzerApi: analyzerApi(lab) };
  }

  async reusable(ctx: ProviderContext): Promise<boolean> {
    const { lab, state } = ctx;
    const d = state.data;
    if (d.provider !== 'netns' || d.hosts.length !== lab.hosts.length) return false;
    const same = lab.hosts.every((h, i) => {
      const r = d.hosts[i];
      return r.name === h.name && r.address === h.address && r.ssh.host === managementPair(parseCidr(lab.management.subnet), i).host;
    });
    if (!same) return false;
    for (const h of lab.hosts) {
      const p = d.resources.find((r) => r.kind === 'process' && r.host === h.name);
      if (!p || p.kind !== 'process' || processStartTime(p.pid) !== p.startTime) return false;
    }
    const reach = await Promise.all(d.hosts.map((h) => portOpen(h.ssh.host, h.ssh.port)));
    return reach.every(Boolean);
  }

  async prepareInstall(): Promise<Record<string, string>> {
    // the project is bind-mounted at /opt/skydive by the host's boot script
    return {};
  }
}

function hostNetns(lab: LabDefinition, host: string): string {
  return `${lab.name}-${host}`;
}

function torNetns(lab: LabDefinition): string {
  return `${lab.name}-tor`;
}

function torBridge(lab: LabDefinition): string {
  return lab.fabric.tor.toLowerCase();
}

function managementLink(lab: LabDefinition, index: number): string {
  return `${lab.name}-m${index}`;
}

function analyzerApi(lab: LabDefinition): string {
  const i = lab.hosts.findIndex((h) => h.roles.includes('analyzer'));
  return `${managementPair(parseCidr(lab.management.subnet), i).host}:${lab.analyzer.port}`;
}

function hostRecord(lab: LabDefinition, state: LabState, h: LabHost, i: number): HostRecord {
  return {
    name: h.name,
    roles: h.roles,
    address: h.address,
    ssh: { host: managementPair(parseCidr(lab.management.subnet), i).host, port: 22, user: 'root', privateKeyPath: state.path('ssh', 'id_ed25519') },
  };
}

const REQUIRED_TOOLS = ['ip', 'unshare', 'ssh-keygen', '/usr/sbin/sshd', 'ovsdb-server', 'ovs-vswitchd', 'sudo'];

async function preflight(lab: LabDefinition): Promise<string> {
  if (process.getuid?.() !== 0) throw new SkydiveError(PROVIDER_FAILED, 'the netns provider needs root (namespaces, links, mounts)');
  const missing: string[] = [];
  for (const t of REQUIRED_TOOLS) {
    const r = await runLocal('bash', ['-c', `command -v ${t}`], { allowFail: true });
    if (r.code !== 0) missing.push(t);
  }
  if (missing.length) throw new SkydiveError(PROVIDER_FAILED, `missing on this machine: ${missing.join(', ')} (make deps installs them)`);
  const mgmt = parseCidr(lab.management.subnet);
  const addrs = JSON.parse((await runLocal('ip', ['-4', '-j', 'addr', 'show'])).stdout) as Array<{ ifname: string; addr_info: Array<{ local: string; prefixlen: number }> }>;
  for (const l of addrs) {
    for (const a of l.addr_info ?? []) {
      if (cidrOverlaps(mgmt, parseCidr(`${a.local}/${a.prefixlen}`))) {
        throw new SkydiveError(PROVIDER_FAILED, `management.subnet ${lab.management.subnet} of ${lab.file} overlaps ${a.local}/${a.prefixlen} on ${l.ifname} of this machine: choose another range`);
      }
    }
  }
  const routes = JSON.parse((await runLocal('ip', ['-4', '-j', 'route', 'show'])).stdout) as Array<{ dst: string; dev?: string }>;
  for (const r of routes) {
    if (r.dst === 'default') continue;
    const dst = r.dst.includes('/') ? r.dst : `${r.dst}/32`;
    if (cidrOverlaps(mgmt, parseCidr(dst))) {
      throw new SkydiveError(PROVIDER_FAILED, `management.subnet ${lab.management.subnet} of ${lab.file} overlaps the route ${r.dst} via ${r.dev ?? '?'} of this machine: choose another range`);
    }
  }
  const taken = [torNetns(lab), ...lab.hosts.map((h) => hostNetns(lab, h.name))].filter((n) => existsSync(`/run/netns/${n}`));
  if (taken.length) throw new SkydiveError(PROVIDER_FAILED, `network namespace(s) ${taken.join(', ')} already exist and do not belong to this lab's state: remove them or rename the lab`);
  return 'ok';
}

async function makeKeys(state: LabState): Promise<void> {
  const dir = state.path('ssh');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const [file, comment] of [
    ['id_ed25519', 'skydive-lab-client'],
    ['host_ed25519_key', 'skydive-lab-host'],
  ]) {
    if (!existsSync(`${dir}/${file}`)) await runLocal('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', `${dir}/${file}`]);
  }
  writeFileSync(`${dir}/authorized_keys`, readFileSync(`${dir}/id_ed25519.pub`), { mode: 0o600 });
}

async function createHost(ctx: ProviderContext, h: LabHost, i: number): Promise<string> {
  const { lab, state } = ctx;
  const ns = hostNetns(lab, h.name);
  const tor = torNetns(lab);
  const mlink = managementLink(lab, i);
  const m = managementPair(parseCidr(lab.management.subnet), i);

  state.record({ kind: 'netns', name: ns });
  await runLocal('ip', ['netns', 'add', ns]);
  await runLocal('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  // eth1: the host's lab interface, its peer (named after the host) is a port of the lab switch
  await runLocal('ip', ['link', 'add', lab.network.interface, 'netns', ns, 'type', 'veth', 'peer', 'name', h.name, 'netns', tor]);
  await runLocal('ip', ['-n', tor, 'link', 'set', h.name, 'master', torBridge(lab), 'up']);
  await runLocal('ip', ['-n', ns, 'link', 'set', lab.network.interface, 'up']);
  state.record({ kind: 'link', name: mlink });
  // eth0 as on a Vagrant VM: the management interface, eth1 the lab one
  await runLocal('ip', ['link', 'add', mlink, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
  await runLocal('ip', ['addr', 'add', `${m.machine}/${m.prefix}`, 'dev', mlink]);
  await runLocal('ip', ['link', 'set', mlink, 'up']);
  await runLocal('ip', ['-n', ns, 'addr', 'add', `${m.host}/${m.prefix}`, 'dev', 'eth0']);
  await runLocal('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);

  const dir = state.path('hosts', h.name);
  for (const d of ['etc', 'etc-work', 'var-log', 'var-lib-openvswitch', 'usr-local-sbin']) mkdirSync(`${dir}/${d}`, { recursive: true });
  // login records sshd and login shells expect in /var/log
  for (const f of ['lastlog', 'wtmp', 'btmp']) writeFileSync(`${dir}/var-log/${f}`, '');
  writeFileSync(`${dir}/etc/hostname`, `${h.name}\n`);
  writeFileSync(
    `${dir}/etc/hosts`,
    ['127.0.0.1 localhost', '::1 localhost ip6-localhost ip6-loopback', ...lab.hosts.map((o) => `${o.address} ${o.name}`)].join('\n') + '\n',
  );
  writeFileSync(`${dir}/sshd_config`, sshdConfig(state));
  writeFileSync(`${dir}/boot.sh`, bootScript(dir, h.name));

  const log = openSync(`${dir}/boot.log`, 'a');
  const child = spawn(
    'ip',
    ['netns', 'exec', ns, 'unshare', '--mount', '--uts', '--pid', '--fork', '--kill-child', '--mount-proc', '--propagation', 'private', 'bash', `${dir}/boot.sh`],
    { detached: true, stdio: ['ignore', log, log] },
  );
  closeSync(log);
  const pid = child.pid;
  if (!pid) throw new SkydiveError(PROVIDER_FAILED, `cannot start the namespaces of host ${h.name}`);
  child.unref();
  state.record({ kind: 'process', host: h.name, pid, startTime: processStartTime(pid) ?? '' });
  const pidns = await newPidNamespace(pid, `${dir}/boot.log`);
  state.update((d) => {
    const r = d.resources.find((x) => x.kind === 'process' && x.pid === pid);
    if (r && r.kind === 'process') r.pidns = pidns;
  });
  return `namespace ${ns}, ssh root@${m.host}`;
}

function sshdConfig(state: LabState): string {
  const ssh = state.path('ssh');
  return [
    '# sshd of a skydive lab host (netns provider): root login with the lab key only',
    'ListenAddress 0.0.0.0',
    'Port 22',
    `HostKey ${ssh}/host_ed25519_key`,
    `AuthorizedKeysFile ${ssh}/authorized_keys`,
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'PrintMotd no',
    'PrintLastLog no',
    'UseDNS no',
    'PidFile /run/sshd.pid',
    'MaxSessions 64',
    'MaxStartups 64:30:128',
    'Subsystem sftp internal-sftp',
    'AcceptEnv LANG LC_*',
    '',
  ].join('\n');
}

/** Runs as PID 1 of the host's PID namespace, inside its network, mount (private) and UTS namespaces. */
function bootScript(dir: string, name: string): string {
  return `#!/bin/bash
# Boot of lab host ${name}: private mounts, then sshd holds the namespaces (it is PID 1 here).
set -euo pipefail
mount -t tmpfs -o mode=0755 skydive-lab-run /run
mkdir -p /run/sshd /run/netns /run/lock /run/openvswitch /run/skydive
chmod 1777 /run/lock
mount -t overlay skydive-lab-etc -o lowerdir=/etc,upperdir=${dir}/etc,workdir=${dir}/etc-work /etc
mount --bind ${dir}/var-log /var/log
if [ -d /var/lib/openvswitch ]; then mount --bind ${dir}/var-lib-openvswitch /var/lib/openvswitch; fi
mount --bind ${dir}/usr-local-sbin /usr/local/sbin
mount -t tmpfs -o mode=0755 skydive-lab-opt /opt
mkdir /opt/skydive
mount --bind ${PROJECT_ROOT} /opt/skydive
mount -o remount,bind,ro /opt/skydive
hostname ${name}
exec /usr/sbin/sshd -D -e -f ${dir}/sshd_config
`;
}

/** The PID namespace `unshare --fork` made for its child (once it exists). */
async function newPidNamespace(pid: number, bootLog: string): Promise<string> {
  const own = readlinkSync('/proc/self/ns/pid');
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      const ns = readlinkSync(`/proc/${pid}/ns/pid_for_children`);
      if (ns !== own) return ns;
    } catch {
      // unreadable for an instant while the process execs; an error only once the process is gone
      if (processStartTime(pid) === undefined) {
        throw new SkydiveError(PROVIDER_FAILED, `the namespaces of a lab host exited at once (pid ${pid}): ${tail(bootLog)}`);
      }
    }
    if (Date.now() > deadline) throw new SkydiveError(PROVIDER_FAILED, `pid ${pid} did not create its PID namespace`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function portOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port, timeout: timeoutMs });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(false));
  });
}

async function waitForPort(host: string, port: number, timeoutMs: number, bootLog: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await portOpen(host, port))) {
    if (Date.now() > deadline) {
      throw new SkydiveError(PROVIDER_FAILED, `sshd did not answer on ${host}:${port} within ${timeoutMs} ms: ${tail(bootLog)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function tail(file: string): string {
  const text = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  return text ? text.split('\n').slice(-3).join(' | ') : 'no output';
}
