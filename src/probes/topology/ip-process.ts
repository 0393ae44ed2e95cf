import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';

/**
 * Node cannot open netlink sockets nor enter a network namespace, so each namespace gets two long-lived `ip`
 * children: `ip monitor` (the rtnetlink notification source) and `ip -json -batch -` (the state reader, one
 * command at a time, so that a whole re-read costs no process spawn). Both run in the namespace through
 * `nsenter --net=<path>` (any run path works, not only /var/run/netns).
 */

/**
 * `ip monitor` never reads its stdin, so it would outlive an agent killed without cleanup (and keep its namespace
 * alive): setpriv makes the kernel kill it with its parent.
 */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv', '/usr/sbin/setpriv'].find((p) => existsSync(p));

function nsArgv(nsPath: string | undefined, ipArgs: string[]): [string, string[]] {
  const argv = nsPath ? ['nsenter', `--net=${nsPath}`, 'ip', ...ipArgs] : ['ip', ...ipArgs];
  if (SETPRIV) return [SETPRIV, ['--pdeathsig', 'KILL', '--', ...argv]];
  return [argv[0], argv.slice(1)];
}

const COMMAND_TIMEOUT_MS = 10000;

interface Pending {
  cmd: string;
  resolve(line: string): void;
  reject(err: Error): void;
}

/** A `ip -json -details -statistics -statistics -batch -` child: `run('link show')` resolves with the JSON line. */
export class IpBatch {
  private child?: ChildProcessWithoutNullStreams;
  private readonly queue: Pending[] = [];
  private inflight?: Pending;
  private closed = false;
  private deadline?: NodeJS.Timeout;

  constructor(private readonly nsPath?: string) {}

  run(cmd: string): Promise<string> {
    if (this.closed) return Promise.reject(new Error('ip batch closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ cmd, resolve, reject });
      this.pump();
    });
  }

  private spawnChild(): ChildProcessWithoutNullStreams {
    const [cmd, args] = nsArgv(this.nsPath, ['-json', '-details', '-statistics', '-statistics', '-force', '-batch', '-']);
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    createInterface({ input: child.stdout }).on('line', (line) => this.settle(undefined, line));
    let stderr = '';
    createInterface({ input: child.stderr }).on('line', (line) => {
      // a failed command prints nothing on stdout, then "Command failed -:N" on stderr
      if (/^Command failed/.test(line)) this.settle(new Error(`ip ${this.inflight?.cmd}: ${stderr.trim() || line}`));
      else stderr += `${line}\n`;
      if (stderr.length > 4096) stderr = stderr.slice(-4096);
    });
    child.stdin.on('error', () => undefined);
    child.on('error', (err) => this.fail(child, err));
    child.on('close', (code) => this.fail(child, new Error(`ip batch exited (${code})${stderr ? `: ${stderr.trim()}` : ''}`)));
    return child;
  }

  private settle(err: Error | undefined, line?: string): void {
    const p = this.inflight;
    if (!p) return;
    clearTimeout(this.deadline);
    this.inflight = undefined;
    if (err) p.reject(err);
    else p.resolve(line ?? '');
    this.pump();
  }

  private fail(child: ChildProcessWithoutNullStreams, err: Error): void {
    if (this.child !== child) return;
    this.child = undefined;
    const p = this.inflight;
    clearTimeout(this.deadline);
    this.inflight = undefined;
    p?.reject(err);
    if (this.closed) for (const q of this.queue.splice(0)) q.reject(err);
    else this.pump();
  }

  private pump(): void {
    if (this.inflight || !this.queue.length || this.closed) return;
    if (!this.child) this.child = this.spawnChild();
    this.inflight = this.queue.shift()!;
    this.child.stdin.write(`${this.inflight.cmd}\n`);
    // a stuck child must not stall the probe: drop it, the next command gets a fresh one
    this.deadline = setTimeout(() => {
      const c = this.child;
      this.child = undefined;
      c?.kill('SIGKILL');
      this.settle(new Error(`ip ${this.inflight?.cmd}: no answer after ${COMMAND_TIMEOUT_MS} ms`));
    }, COMMAND_TIMEOUT_MS);
  }

  close(): void {
    this.closed = true;
    const c = this.child;
    this.child = undefined;
    c?.kill();
    const err = new Error('ip batch closed');
    clearTimeout(this.deadline);
    this.inflight?.reject(err);
    this.inflight = undefined;
    for (const q of this.queue.splice(0)) q.reject(err);
  }
}

/**
 * `ip -o monitor label link address route neigh`: calls `onEvent` for every notification line. `ready()`
 * resolves once the child's netlink socket is bound to its multicast groups, so that a state read made after it
 * cannot miss a change.
 */
export class IpMonitor {
  private child?: ChildProcessWithoutNullStreams;
  private closed = false;

  constructor(
    private readonly nsPath: string | undefined,
    private readonly onEvent: (line: string) => void,
    private readonly onExit: (err: Error) => void,
  ) {}

  start(): void {
    const [cmd, args] = nsArgv(this.nsPath, ['-o', 'monitor', 'label', 'link', 'address', 'route', 'neigh']);
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }) as unknown as ChildProcessWithoutNullStreams;
    this.child = child;
    createInterface({ input: child.stdout }).on('line', (l) => this.onEvent(l));
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2048)));
    child.on('error', (err) => this.exited(child, err));
    child.on('close', (code) => this.exited(child, new Error(`ip monitor exited (${code})${stderr ? `: ${stderr.trim()}` : ''}`)));
  }

  private exited(child: ChildProcessWithoutNullStreams, err: Error): void {
    if (this.child !== child) return;
    this.child = undefined;
    if (!this.closed) this.onExit(err);
  }

  /**
   * The kernel sends no acknowledgement of a subscription, so look for the child's rtnetlink socket (portid =
   * its pid, protocol 0) with non-zero groups in its own /proc/<pid>/net/netlink. Bounded: gives up after
   * `timeoutMs` (the first full read then still covers everything but a change made in that window).
   */
  async ready(timeoutMs = 3000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const pid = this.child?.pid;
      if (!pid || this.closed) return false;
      try {
        const text = await readFile(`/proc/${pid}/net/netlink`, 'utf8');
        for (const line of text.split('\n').slice(1)) {
          const f = line.trim().split(/\s+/);
          if (f.length >= 4 && f[1] === '0' && f[2] === String(pid) && f[3] !== '00000000') return true;
        }
      } catch {
        /* process not there yet or already gone */
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    return false;
  }

  close(): void {
    this.closed = true;
    this.child?.kill();
    this.child = undefined;
  }
}
