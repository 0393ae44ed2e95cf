import type { Logger } from 'pino';
import { errorMessage } from '../../common/errors.js';
import type { AnalyzerClient } from '../analyzer-api.js';
import { AnalyzerError } from '../../common/http-client.js';
import type { LabCapabilities } from '../lab.js';
import { SshConnection } from '../ssh.js';
import type { HostRecord } from '../state.js';
import { captureActive, countVerdict, fieldsVerdict, flowLinkVerdict, items, sameTrackingIDVerdict, type Verdict } from './checks.js';
import { readsFlows, resolveCaptureRefs, type CheckSpec, type HostCommands, type Scenario } from './scenario-file.js';

export type CaseStatus = 'passed' | 'failed' | 'error' | 'skipped';

/** One reported step of a scenario run (a JUnit testcase). */
export interface CaseResult {
  name: string;
  status: CaseStatus;
  ms: number;
  message?: string;
  /** command output, query answers: kept for the report */
  output?: string;
  /** file:line of the step in the scenario */
  at?: string;
}

export interface ScenarioResult {
  name: string;
  file: string;
  startedAt: Date;
  ms: number;
  cases: CaseResult[];
}

export interface RunEnvironment {
  hosts: HostRecord[];
  /** undefined when the analyzer does not run (not in this build) */
  api?: AnalyzerClient;
  caps: LabCapabilities;
  /** why API-dependent steps are skipped when caps say no */
  unavailable: { topology: string; capture: string; injection: string };
  print: (line: string) => void;
  log: Logger;
  /** pause between two attempts of a check (ms) */
  retryIntervalMs?: number;
}

const CAPTURE_TIMEOUT_MS = 30000;
const ENDPOINT_TIMEOUT_MS = 30000;

class Skip extends Error {}

/**
 * Run one scenario: setup commands on their hosts, captures (waiting until active), packet injections (once
 * their endpoints exist), checks retried until their deadline, then teardown (always). Steps that need what the
 * analyzer does not serve yet (captures, injection, flows) are reported as skipped, with the reason.
 */
export async function runScenario(sc: Scenario, env: RunEnvironment): Promise<ScenarioResult> {
  const result: ScenarioResult = { name: sc.name, file: sc.file, startedAt: new Date(), ms: 0, cases: [] };
  const t0 = performance.now();
  const conns = new Map<string, Promise<SshConnection>>();
  const conn = (host: string): Promise<SshConnection> => {
    if (!conns.has(host)) {
      const rec = env.hosts.find((h) => h.name === host)!;
      const p = SshConnection.open(rec.ssh);
      p.catch(() => conns.delete(host));
      conns.set(host, p);
    }
    return conns.get(host)!;
  };
  const icon: Record<CaseStatus, string> = { passed: 'PASS', failed: 'FAIL', error: 'ERROR', skipped: 'SKIP' };
  const record = (c: CaseResult): CaseResult => {
    result.cases.push(c);
    const why = c.message ? `: ${c.message}` : '';
    env.print(`  ${icon[c.status].padEnd(5)} ${c.name} (${(c.ms / 1000).toFixed(1)} s)${why}`);
    env.log.info({ scenario: sc.name, case: c.name, status: c.status, message: c.message, at: c.at }, 'scenario case');
    return c;
  };
  const step = async (name: string, at: string | undefined, fn: () => Promise<{ message?: string; output?: string } | void>): Promise<CaseResult> => {
    const s = performance.now();
    try {
      const r = (await fn()) ?? {};
      return record({ name, status: 'passed', ms: performance.now() - s, at, ...r });
    } catch (err) {
      const ms = performance.now() - s;
      if (err instanceof Skip) return record({ name, status: 'skipped', ms, at, message: err.message });
      if (err instanceof CaseFailure) return record({ name, status: 'failed', ms, at, message: err.message, output: err.output });
      return record({ name, status: 'error', ms, at, message: `${at ? `${at}: ` : ''}${errorMessage(err)}` });
    }
  };
  const needTopology = (): void => {
    if (!env.caps.topology) throw new Skip(env.unavailable.topology);
  };

  env.print(`scenario ${sc.name} (${sc.file})`);
  const created: Array<{ resource: 'capture' | 'injectpacket'; uuid: string }> = [];
  let setupOk = true;
  try {
    if (sc.preCleanup) {
      for (const hc of sc.teardown) await step(`pre-cleanup ${hc.host}`, hc.commands[0]?.at, () => runCommands(hc, conn, false));
    }
    for (const hc of sc.setup) {
      const c = await step(`setup ${hc.host}`, hc.commands[0]?.at, () => runCommands(hc, conn, true));
      if (c.status !== 'passed') {
        setupOk = false;
        break;
      }
    }
    const afterSetup = (): void => {
      if (!setupOk) throw new Skip('setup failed');
    };

    const captureIDs = new Map<string, string>();
    const resolve = (q: string): string => {
      const r = resolveCaptureRefs(q, captureIDs);
      if (r.missing.length) throw new Skip(`capture ${r.missing.join(', ')} was not created`);
      return r.query;
    };
    for (const cap of sc.captures) {
      await step(`capture ${cap.name}`, cap.at, async () => {
        afterSetup();
        if (!env.caps.capture) throw new Skip(env.unavailable.capture);
        const { UUID } = await env.api!.createCapture({ GremlinQuery: cap.gremlin, Type: cap.type, BPFFilter: cap.bpf, Name: `${sc.name}/${cap.name}`, Description: cap.description });
        created.push({ resource: 'capture', uuid: UUID });
        captureIDs.set(cap.name, UUID);
        const v = await retry(env, CAPTURE_TIMEOUT_MS, async () => {
          const active = captureActive(await env.api!.topology(cap.gremlin), UUID);
          return { ok: active, detail: active ? 'active' : `capture ${UUID} not active on any node of ${cap.gremlin}` };
        });
        if (!v.ok) throw new CaseFailure(`${cap.at}: ${v.detail}`);
        return { message: `capture ${UUID} active` };
      });
    }

    for (const inj of sc.injections) {
      await step(`injection ${inj.name}`, inj.at, async () => {
        afterSetup();
        if (!env.caps.injection) throw new Skip(env.unavailable.injection);
        const src = resolve(inj.src);
        const dst = inj.dst === undefined ? undefined : resolve(inj.dst);
        for (const q of [src, dst].filter((x): x is string => !!x)) {
          const v = await retry(env, ENDPOINT_TIMEOUT_MS, async () => {
            const n = items(await env.api!.topology(q)).length;
            return { ok: n > 0, detail: n ? `${n} node(s)` : `no node for ${q}` };
          });
          if (!v.ok) throw new CaseFailure(`${inj.at}: injection endpoint not found: ${v.detail}`);
        }
        const { UUID } = await env.api!.createInjection({
          Src: src,
          Dst: dst,
          Type: inj.type,
          Count: inj.count,
          Interval: inj.intervalMs,
          ICMPID: inj.id,
          Payload: inj.payload,
          SrcIP: inj.srcIP,
          DstIP: inj.dstIP,
          SrcMAC: inj.srcMAC,
          DstMAC: inj.dstMAC,
          SrcPort: inj.srcPort,
          DstPort: inj.dstPort,
          Mode: inj.mode,
          TTL: inj.ttl,
        });
        created.push({ resource: 'injectpacket', uuid: UUID });
        return { message: `injection ${UUID}: ${inj.count} × ${inj.type}` };
      });
    }

    for (const chk of sc.checks) {
      await step(`check ${chk.name}`, chk.at, async () => {
        afterSetup();
        if (chk.kind !== 'command') {
          needTopology();
          if (needsFlows(chk) && !env.caps.capture) throw new Skip(`reads flows: ${env.unavailable.capture}`);
        }
        // a check on the flows of a capture that could not be created is skipped, not retried
        for (const q of checkQueries(chk)) resolve(q);
        const v = await retry(env, chk.timeoutMs, () => evaluate(chk, env, conn, resolve));
        if (!v.ok) throw new CaseFailure(`${chk.at}: ${v.detail}`, v.output);
        return { message: v.detail, output: v.output };
      });
    }
  } finally {
    for (const r of created.reverse()) {
      await step(`teardown ${r.resource} ${r.uuid}`, undefined, async () => {
        await env.api!.delete(r.resource, r.uuid);
      });
    }
    for (const hc of sc.teardown) await step(`teardown ${hc.host}`, hc.commands[0]?.at, () => runCommands(hc, conn, false));
    for (const c of conns.values()) c.then((x) => x.close()).catch(() => undefined);
    result.ms = performance.now() - t0;
  }
  return result;
}

class CaseFailure extends Error {
  constructor(message: string, readonly output?: string) {
    super(message);
  }
}

function checkQueries(chk: CheckSpec): string[] {
  switch (chk.kind) {
    case 'gremlin':
      return [chk.gremlin];
    case 'flowLink':
      return [chk.children, chk.parents];
    case 'sameTrackingID':
      return chk.queries;
    default:
      return [];
  }
}

function needsFlows(chk: CheckSpec): boolean {
  if (chk.kind === 'flowLink' || chk.kind === 'sameTrackingID') return true;
  return chk.kind === 'gremlin' && readsFlows(chk.gremlin);
}

/** Run a host's commands in order; output is kept for the report. Setup stops at the first failure. */
async function runCommands(hc: HostCommands, conn: (h: string) => Promise<SshConnection>, stopOnError: boolean): Promise<{ output: string; message: string }> {
  const c = await conn(hc.host);
  const out: string[] = [];
  let failures = 0;
  for (const cmd of hc.commands) {
    const r = await c.exec(cmd.command, { timeoutMs: 120000 });
    out.push(`$ ${cmd.command}`, ...[r.stdout, r.stderr].map((s) => s.trimEnd()).filter(Boolean), ...(r.code ? [`(exit status ${r.code})`] : []));
    if (r.code !== 0) {
      const msg = `${cmd.at}: \`${cmd.command}\` exited with ${r.code}${r.stderr.trim() ? `: ${r.stderr.trim().split('\n').pop()}` : ''}`;
      if (stopOnError) throw new CaseFailure(msg, out.join('\n'));
      failures++;
    }
  }
  // teardown goes on after a failed command (what it removes may already be gone); details are in the output
  return { output: out.join('\n'), message: `${hc.commands.length} command(s)${failures ? `, ${failures} failed (ignored)` : ''}` };
}

async function evaluate(chk: CheckSpec, env: RunEnvironment, conn: (h: string) => Promise<SshConnection>, resolve: (q: string) => string): Promise<Verdict> {
  const api = env.api!;
  const topology = (q: string): Promise<unknown> => api.topology(resolve(q));
  switch (chk.kind) {
    case 'gremlin': {
      const res = await topology(chk.gremlin);
      const output = JSON.stringify(res).slice(0, 4000);
      const count = countVerdict(res, chk);
      if (!count.ok || !chk.fields) return { ...count, output };
      const f = fieldsVerdict(res, chk.fields);
      return { ok: f.ok, detail: `${count.detail}; ${f.detail}`, output };
    }
    case 'flowLink': {
      const [children, parents] = await Promise.all([topology(chk.children), topology(chk.parents)]);
      return { ...flowLinkVerdict(children, parents), output: JSON.stringify({ children, parents }).slice(0, 4000) };
    }
    case 'sameTrackingID': {
      const results = await Promise.all(chk.queries.map((q) => topology(q)));
      return { ...sameTrackingIDVerdict(results), output: JSON.stringify(results).slice(0, 4000) };
    }
    case 'command': {
      const r = await (await conn(chk.host)).exec(chk.run, { timeoutMs: chk.timeoutMs });
      const output = `$ ${chk.run}\n${r.stdout}${r.stderr}`.trimEnd();
      return { ok: r.code === 0, detail: r.code === 0 ? `exit status 0 on ${chk.host}` : `exit status ${r.code} on ${chk.host}`, output };
    }
  }
}

/**
 * Attempt until the verdict is ok or the deadline passes (polling, interval 1 s). A query the analyzer rejects
 * (HTTP 400: bad Gremlin) fails at once: retrying cannot fix it.
 */
async function retry(env: RunEnvironment, timeoutMs: number, attempt: () => Promise<Verdict>): Promise<Verdict> {
  const deadline = Date.now() + timeoutMs;
  let last: Verdict = { ok: false, detail: 'not attempted' };
  for (;;) {
    try {
      last = await attempt();
      if (last.ok) return last;
    } catch (err) {
      if (err instanceof AnalyzerError && err.statusCode === 400) return { ok: false, detail: `analyzer rejected the query: ${err.message}` };
      last = { ok: false, detail: errorMessage(err) };
    }
    if (Date.now() >= deadline) return { ...last, detail: `${last.detail} (after ${(timeoutMs / 1000).toFixed(0)} s)` };
    await new Promise((r) => setTimeout(r, env.retryIntervalMs ?? 1000));
  }
}
