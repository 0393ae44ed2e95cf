import { existsSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { SkydiveError } from '../common/errors.js';
import { runLocal } from './local-command.js';
import type { Progress } from './progress.js';
import type { LabState, Resource } from './state.js';

export const TEARDOWN_INCOMPLETE = 'SKYDIVE_LAB_TEARDOWN_INCOMPLETE';

/**
 * Field 22 of /proc/PID/stat (start time in clock ticks): with the pid, identifies a process across pid reuse.
 * Undefined for a process that is gone or a zombie (dead, waiting for its parent to reap it).
 */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may contain spaces: fields are counted after its closing parenthesis
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' ? undefined : fields[19];
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  return processStartTime(pid) !== undefined;
}

function pidsWhere(nsKind: 'pid' | 'net', nsLink: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readlinkSync(`/proc/${e}/ns/${nsKind}`) === nsLink && alive(Number(e))) out.push(Number(e));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

function kill(pids: number[]): void {
  for (const p of pids) {
    if (p === process.pid) continue;
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

async function waitGone(what: () => number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = what();
    if (!left.length || Date.now() > deadline) return left;
    kill(left);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function netnsInode(name: string): string | undefined {
  try {
    // /run/netns/NAME is a mount of the namespace's nsfs inode, the number /proc/PID/ns/net links show
    return `net:[${statSync(`/run/netns/${name}`).ino}]`;
  } catch {
    return undefined;
  }
}

async function linkExists(name: string): Promise<boolean> {
  return (await runLocal('ip', ['link', 'show', 'dev', name], { allowFail: true })).code === 0;
}

/**
 * Remove everything the lab's journal lists, newest first: the hosts' processes (whole PID namespaces), network
 * namespaces (with their links), root-namespace links, Vagrant machines. Works from state.json alone, so it also
 * cleans up after a crashed `lab up`. Leaves the state in place (and fails) when something could not be removed.
 */
export async function teardownLab(state: LabState, progress: Progress, keep: string[] = []): Promise<void> {
  const resources = [...state.data.resources].reverse();
  const leftovers: string[] = [];
  const processes = resources.filter((x): x is Extract<Resource, { kind: 'process' }> => x.kind === 'process');
  await Promise.all(processes.map((r) =>
    progress.step(r.host, 'stop', async () => {
      const victims = (): number[] => {
        const pids = r.pidns ? pidsWhere('pid', r.pidns) : [];
        if (processStartTime(r.pid) === r.startTime) pids.push(r.pid);
        return pids;
      };
      const left = await waitGone(victims, 10000);
      if (left.length) leftovers.push(`processes ${left.join(', ')} of host ${r.host}`);
      return left.length ? `${left.length} process(es) survived` : 'stopped';
    }),
  ));
  for (const r of resources) {
    if (r.kind === 'netns') {
      await progress.step('lab', `netns ${r.name}`, async () => {
        if (!existsSync(`/run/netns/${r.name}`)) return 'absent';
        // processes started into this namespace from outside the host (ip netns exec) would keep it alive
        const ino = netnsInode(r.name);
        if (ino) await waitGone(() => pidsWhere('net', ino), 5000);
        const res = await runLocal('ip', ['netns', 'del', r.name], { allowFail: true });
        if (res.code !== 0) leftovers.push(`network namespace ${r.name} (${res.stderr.trim()})`);
        return 'deleted';
      });
    } else if (r.kind === 'link') {
      if (await linkExists(r.name)) {
        await runLocal('ip', ['link', 'del', 'dev', r.name], { allowFail: true });
        if (await linkExists(r.name)) leftovers.push(`link ${r.name}`);
      }
    } else if (r.kind === 'vagrant') {
      await progress.step('lab', 'vagrant destroy', async () => {
        const res = await runLocal('vagrant', ['destroy', '-f'], { allowFail: true, cwd: r.cwd, env: { ...process.env, ...r.env }, timeoutMs: 15 * 60000 });
        if (res.code !== 0) leftovers.push(`vagrant machines in ${r.cwd} (${res.stderr.trim().split('\n').pop()})`);
        return res.code === 0 ? 'destroyed' : 'failed';
      });
    }
  }
  if (leftovers.length) {
    throw new SkydiveError(TEARDOWN_INCOMPLETE, `lab ${state.data.name}: could not remove ${leftovers.join('; ')}; state kept in ${state.dir}, run lab down again`);
  }
  state.remove(keep);
}
