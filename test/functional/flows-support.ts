import assert from 'node:assert/strict';
import { httpJSON, startAllInOne, type AllInOne } from '../helpers/allinone.js';
import { Cleanup, sh } from '../helpers/sh.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Shared steps of the flows-*.test.ts functional tests (lab.md §3.1 shorthands): namespaces behind veths, Linux
 * bridges, captures and injections through the analyzer's REST API, and waits on Gremlin results. Every object
 * created is registered in the test's Cleanup first.
 */

/** Allinone configuration for flow tests: flows reach the analyzer every second. */
export function flowConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { flow: { update: 1, expire: 600 }, ...extra };
}

/**
 * The mocha hooks of a flows-*.test.ts file: one allinone for the whole file (its configuration may first start
 * what it needs, registering the undo in `suite`), and a fresh Cleanup for each test, run after it.
 */
export function flowSuiteHooks(
  config: (suite: Cleanup) => Promise<Record<string, unknown>> | Record<string, unknown>,
  ready: (aio: AllInOne, api: FlowsAPI) => void,
  eachTest: (cleanup: Cleanup) => void,
): void {
  const suite = new Cleanup();
  let cleanup = new Cleanup();
  before(async () => {
    const aio = await startAllInOne({ config: await config(suite) });
    suite.add(() => aio.stop());
    ready(aio, new FlowsAPI(aio));
  });
  beforeEach(() => {
    cleanup = new Cleanup();
    eachTest(cleanup);
  });
  afterEach(() => cleanup.run());
  after(() => suite.run());
}

/** `VNS(h,p,ns,cidr)`: namespace `ns` whose interface `p` is the peer of `h` in the root namespace; both up. */
export async function vethNamespace(cleanup: Cleanup, host: string, peer: string, ns: string, cidrs: string[]): Promise<void> {
  cleanup.add(`ip netns del ${ns} 2>/dev/null`);
  cleanup.add(`ip link del ${host} 2>/dev/null`);
  await sh(`ip netns add ${ns}`);
  await sh(`ip link add ${host} type veth peer name ${peer} netns ${ns}`);
  await sh(`ip link set ${host} up && ip -n ${ns} link set ${peer} up && ip -n ${ns} link set lo up`);
  for (const c of cidrs) await sh(`ip -n ${ns} address add ${c} dev ${peer}${c.includes(':') ? ' nodad' : ''}`);
}

/** `LBR(br: ifs)`: a Linux bridge with the given ports, up. */
export async function linuxBridge(cleanup: Cleanup, br: string, ports: string[]): Promise<void> {
  cleanup.add(`ip link del ${br} 2>/dev/null`);
  await sh(`ip link add ${br} type bridge && ip link set ${br} up`);
  for (const p of ports) await sh(`ip link set ${p} master ${br}`);
}

export class FlowsAPI {
  constructor(readonly aio: AllInOne) {}

  async query(gremlin: string): Promise<any> {
    return this.aio.query(gremlin);
  }

  /** Wait until the query returns a list accepted by `ok` (default: exactly `n` items). */
  async waitList(gremlin: string, n: number | ((r: any[]) => boolean), timeout = 30000): Promise<any[]> {
    const ok = typeof n === 'number' ? (r: any[]) => r.length === n : n;
    return waitFor(
      async () => {
        const r = await this.query(gremlin);
        return Array.isArray(r) ? r : [];
      },
      ok,
      { what: `${typeof n === 'number' ? `${n} result(s)` : 'results'} for ${gremlin}`, timeout, interval: 250 },
    );
  }

  async waitValue(gremlin: string, ok: (v: any) => boolean, timeout = 30000): Promise<any> {
    return waitFor(() => this.query(gremlin), ok, { what: `the value of ${gremlin}`, timeout, interval: 250 });
  }

  async post(path: string, body: unknown): Promise<{ status: number; body: any; text: string }> {
    return httpJSON('POST', this.aio.analyzerAddr, path, body);
  }

  /** POST /api/capture, deleted by the cleanup; resolves once the capture runs on every node it matches (≥ 1). */
  async capture(cleanup: Cleanup, body: Record<string, unknown>, expectedNodes = 1): Promise<string> {
    const res = await this.post('/api/capture', body);
    assert.equal(res.status, 201, `capture creation: ${res.text}`);
    const id = res.body.UUID as string;
    cleanup.add(() => httpJSON('DELETE', this.aio.analyzerAddr, `/api/capture/${id}`).catch(() => undefined));
    await this.waitList(`${body.GremlinQuery}.Has('Captures.ID', '${id}', 'Captures.State', 'active')`, expectedNodes);
    return id;
  }

  /** POST /api/injectpacket; fails the test with the analyzer's message when it is refused. */
  async inject(body: Record<string, unknown>): Promise<any> {
    const res = await this.post('/api/injectpacket', { Type: 'icmp4', Interval: 100, ...body });
    assert.equal(res.status, 201, `packet injection: ${res.text}`);
    return res.body;
  }

  /** The node's TID (exactly one node must match). */
  async tid(gremlin: string): Promise<string> {
    const [n] = await this.waitList(gremlin, 1);
    assert.ok(n.Metadata.TID, `${gremlin} has a TID`);
    return n.Metadata.TID as string;
  }
}
