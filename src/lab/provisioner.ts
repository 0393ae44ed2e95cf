import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SkydiveError } from '../common/errors.js';
import { AnalyzerClient, connectedAgents } from './analyzer-api.js';
import type { LabHost, LabRole } from './lab-file.js';
import { PROVISION_DIR } from './paths.js';
import { StepSkipped } from './progress.js';
import type { LabProvider, ProviderContext } from './providers/provider.js';
import { HOST_CONFIG_PATH, renderSkydiveConfig } from './skydive-config.js';
import { SshConnection, envPrefix, shellQuote } from './ssh.js';
import type { HostRecord, ServiceState } from './state.js';

export const PROVISION_FAILED = 'SKYDIVE_LAB_PROVISION_FAILED';
/** Exit status of provision/service.sh when this build has no such server command yet. */
const SERVICE_UNAVAILABLE = 3;

/** Run provision/NAME as root on the host (the script travels on stdin: nothing to copy first). */
export async function runProvisionScript(
  conn: SshConnection,
  script: string,
  env: Record<string, string>,
  args: string[] = [],
  timeoutMs = 10 * 60000,
): Promise<{ code: number; stdout: string; output: string }> {
  const text = readFileSync(join(PROVISION_DIR, script));
  const cmd = `sudo ${envPrefix(env)}bash -s -- ${args.map(shellQuote).join(' ')}`;
  const r = await conn.exec(cmd, { stdin: text, timeoutMs });
  return { code: r.code, stdout: r.stdout.trim(), output: (r.stdout + r.stderr).trim() };
}

function lastLine(output: string): string {
  return output.split('\n').filter(Boolean).pop() ?? '';
}

async function scriptStep(conn: SshConnection, script: string, env: Record<string, string>, args: string[] = []): Promise<string> {
  const r = await runProvisionScript(conn, script, env, args);
  if (r.code !== 0) {
    throw new SkydiveError(PROVISION_FAILED, `provision/${script} exited with ${r.code}: ${r.output.split('\n').slice(-5).join(' | ')}`);
  }
  return lastLine(r.stdout);
}

/** Write a file as root on the host. */
export async function writeHostFile(conn: SshConnection, path: string, content: string): Promise<void> {
  const dir = path.slice(0, path.lastIndexOf('/')) || '/';
  const r = await conn.exec(`sudo sh -c ${shellQuote(`mkdir -p ${shellQuote(dir)} && cat > ${shellQuote(path)}`)}`, { stdin: content, timeoutMs: 30000 });
  if (r.code !== 0) throw new SkydiveError(PROVISION_FAILED, `cannot write ${path}: ${r.stderr.trim()}`);
}

/**
 * Provision every host over SSH, the same way for every provider: base tools, the project at /opt/skydive, Open
 * vSwitch and the lab interface, /etc/skydive/skydive.yml, then the analyzer and the agents as services; finally
 * wait until the analyzer's /api/status lists every agent. Progress is printed per host and step.
 */
export async function provisionLab(ctx: ProviderContext, provider: LabProvider, hosts: HostRecord[], analyzerApi: string): Promise<void> {
  const { lab, state, progress, log } = ctx;
  const conns = new Map<string, SshConnection>();
  try {
    await Promise.all(
      hosts.map(async (rec) => {
        const host = lab.hosts.find((h) => h.name === rec.name)!;
        const conn = await progress.step(host.name, 'ssh', async () => {
          conns.set(host.name, await SshConnection.open(rec.ssh));
          return `${rec.ssh.user}@${rec.ssh.host}`;
        }).then(() => conns.get(host.name)!);
        const env = {
          LAB_PROVIDER: lab.provider,
          LAB_HOST: host.name,
          LAB_INSTALL_PACKAGES: provider.installsPackages ? '1' : '0',
          NODE_VERSION: process.version,
        };
        await progress.step(host.name, 'base', () => scriptStep(conn, 'base.sh', env));
        await progress.step(host.name, 'install', async () => {
          const extra = await provider.prepareInstall(conn, host, ctx);
          return `skydive ${await scriptStep(conn, 'install.sh', { ...env, ...extra })}`;
        });
        await progress.step(host.name, 'ovs', () =>
          scriptStep(conn, 'ovs.sh', {
            ...env,
            LAB_IFACE: lab.network.interface,
            LAB_ADDRESS: host.address,
            LAB_PREFIX: String(lab.network.prefix),
            OVS_DATAPATH: lab.ovs.datapath,
          }),
        );
        await progress.step(host.name, 'config', async () => {
          await writeHostFile(conn, HOST_CONFIG_PATH, renderSkydiveConfig(lab, host));
          return HOST_CONFIG_PATH;
        });
      }),
    );

    const startRole = async (host: LabHost, role: LabRole): Promise<void> => {
      let outcome: ServiceState = 'failed';
      try {
        await progress.step(host.name, role, async () => {
          const r = await runProvisionScript(conns.get(host.name)!, 'service.sh', { LAB_HOST: host.name }, [role]);
          if (r.code === SERVICE_UNAVAILABLE) {
            outcome = 'unavailable';
            throw new StepSkipped(lastLine(r.stdout));
          }
          if (r.code !== 0) throw new SkydiveError(PROVISION_FAILED, `provision/service.sh ${role} exited with ${r.code}: ${lastLine(r.output)}`);
          outcome = 'running';
          return lastLine(r.stdout);
        });
      } finally {
        state.update((d) => {
          (d.services[host.name] ??= {})[role] = outcome;
        });
      }
    };
    const analyzer = lab.hosts.find((h) => h.roles.includes('analyzer'))!;
    await startRole(analyzer, 'analyzer');
    await Promise.all(lab.hosts.filter((h) => h.roles.includes('agent')).map((h) => startRole(h, 'agent')));

    const agents = lab.hosts.filter((h) => h.roles.includes('agent') && state.data.services[h.name]?.agent === 'running').map((h) => h.name);
    if (state.data.services[analyzer.name]?.analyzer === 'running') {
      await progress.step(analyzer.name, 'status', () => waitForAgents(new AnalyzerClient(analyzerApi, 3000), agents, 90000));
    } else {
      log.warn('analyzer not running: /api/status not checked');
    }
  } finally {
    for (const c of conns.values()) c.close();
  }
}

/** Wait (polling /api/status) until every named agent is connected to the analyzer. */
export async function waitForAgents(api: AnalyzerClient, agents: string[], timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    try {
      const connected = connectedAgents(await api.status());
      const missing = agents.filter((a) => !connected.includes(a));
      if (!missing.length) return `${agents.length} agent(s) connected (${agents.join(', ')}), API http://${api.addressText}/`;
      last = `waiting for ${missing.join(', ')}`;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new SkydiveError(PROVISION_FAILED, `analyzer ${api.addressText}: agents not connected after ${timeoutMs / 1000} s (${last})`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
