import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump } from 'js-yaml';
import { SKYDIVE_BIN } from './shared.js';
import { waitFor } from './wait.js';

/**
 * Real skydive processes for functional tests: `startAllInOne()` runs `bin/skydive allinone` on free loopback
 * ports and waits until the analyzer shows its agent connected and synchronised; `SkydiveProcess` runs any
 * `bin/skydive` server command with its logs in a temp file.
 */
export interface AllInOne {
  analyzerAddr: string;
  agentAddr: string;
  /** host_id of the agent (and of the analyzer). */
  hostID: string;
  /** File receiving the process's logs (stderr/stdout). */
  logFile: string;
  /** POST /api/topology; throws with the analyzer's message on non-2xx. */
  query(gremlin: string): Promise<any>;
  /** Kills the process; safe to call twice. */
  stop(): Promise<void>;
}

let counter = 0;

/** The agent runs no optional topology probe unless the config asks (`agent.topology.probes`): tests do not depend on the machine's OVS. */
export async function startAllInOne(opts: { config?: Record<string, unknown>; hostID?: string } = {}): Promise<AllInOne> {
  const [analyzerPort, agentPort] = await freePorts(2);
  const hostID = opts.hostID ?? `allinone-${process.pid}-${++counter}`;
  const analyzerAddr = `127.0.0.1:${analyzerPort}`;
  const agentAddr = `127.0.0.1:${agentPort}`;
  const config = deepMerge(
    { host_id: hostID, analyzer: { listen: analyzerAddr }, agent: { listen: agentAddr, topology: { probes: [] } } },
    opts.config ?? {},
  );
  const proc = new SkydiveProcess('allinone', config);
  await proc.start();
  try {
    await waitForAgent(analyzerAddr, hostID, () => proc.exited);
  } catch (err) {
    await proc.stop();
    throw new Error(`${(err as Error).message}\nallinone logs: ${proc.logFile}\n${proc.logTail()}`);
  }
  return {
    analyzerAddr,
    agentAddr,
    hostID,
    logFile: proc.logFile,
    query: (gremlin: string) => topologyQuery(analyzerAddr, gremlin),
    stop: async () => {
      await proc.stop();
      // logs of a process that did not stop cleanly stay for inspection
      if (proc.exitCode === 0) proc.removeFiles();
    },
  };
}

/** A `bin/skydive <command> --conf <temp yaml> [args]` child process; logs go to `logFile`. */
export class SkydiveProcess {
  readonly dir: string;
  readonly logFile: string;
  private child?: ChildProcess;
  private exitPromise?: Promise<number | null>;
  private stopping?: Promise<void>;
  exited: string | undefined;
  exitCode: number | null | undefined;

  constructor(
    readonly command: string,
    config: Record<string, unknown>,
    readonly args: string[] = [],
  ) {
    this.dir = mkdtempSync(join(tmpdir(), `skydive-${command}-`));
    this.logFile = join(this.dir, `${command}.log`);
    writeFileSync(join(this.dir, 'skydive.yml'), dump(config));
  }

  async start(): Promise<void> {
    this.stopping = undefined;
    this.exited = undefined;
    const fd = openSync(this.logFile, 'a');
    const child = spawn(SKYDIVE_BIN, [this.command, '--conf', join(this.dir, 'skydive.yml'), ...this.args], {
      stdio: ['ignore', fd, fd],
      env: { ...process.env, SKYDIVE_LOGGING_LEVEL: process.env.SKYDIVE_LOGGING_LEVEL ?? 'debug' },
    });
    closeSync(fd);
    this.child = child;
    this.exitPromise = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exited = `exited with ${signal ?? `code ${code}`}`;
        this.exitCode = code;
        resolve(code);
      });
    });
  }

  /** SIGTERM, then SIGKILL if it does not exit within 10 s; safe to call twice. */
  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.stopping) {
      this.stopping = (async () => {
        const child = this.child;
        if (!child || this.exited) return;
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
        await this.exitPromise;
        clearTimeout(timer);
      })();
    }
    return this.stopping;
  }

  /** Kill without letting it clean up (SIGKILL). */
  kill(): Promise<void> {
    return this.stop('SIGKILL');
  }

  logTail(lines = 30): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no logs)';
    }
  }

  /** Remove the temp directory (config and logs). */
  removeFiles(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Wait until the analyzer lists the agent as connected and holds its host node. */
export async function waitForAgent(analyzerAddr: string, hostID: string, exited: () => string | undefined = () => undefined, timeout = 30000): Promise<void> {
  await waitFor(
    async () => {
      const why = exited();
      if (why) throw new Error(`skydive ${why}`);
      const status = await httpJSON('GET', analyzerAddr, '/api/status');
      if (!status.body?.Agents?.[hostID]?.IsConnected) return false;
      const hosts = await topologyQuery(analyzerAddr, `G.V().Has('Type', 'host', 'Name', '${hostID}')`);
      return Array.isArray(hosts) && hosts.length === 1;
    },
    (ok) => ok === true,
    { timeout, what: `agent ${hostID} connected and synchronised to the analyzer at ${analyzerAddr}` },
  );
}

export async function topologyQuery(analyzerAddr: string, gremlin: string): Promise<any> {
  const res = await httpJSON('POST', analyzerAddr, '/api/topology', { GremlinQuery: gremlin });
  if (res.status < 200 || res.status >= 300) throw new Error(res.body?.message ?? `HTTP ${res.status}: ${res.text}`);
  return res.body;
}

/** A JSON request; resolves with status and parsed body whatever the status. */
export async function httpJSON(method: string, addr: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any; text: string; headers: Headers }> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['Content-Type'] ??= 'application/json';
  }
  const res = await fetch(`http://${addr}${path}`, init);
  const text = await res.text();
  let parsed: any;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed, text, headers: res.headers };
}

/** Ports free on 127.0.0.1 right now (bound to port 0 then released). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

function deepMerge(into: Record<string, unknown>, from: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(from)) {
    const cur = into[k];
    if (v && typeof v === 'object' && !Array.isArray(v) && cur && typeof cur === 'object' && !Array.isArray(cur)) {
      deepMerge(cur as Record<string, unknown>, v as Record<string, unknown>);
    } else into[k] = v;
  }
  return into;
}
