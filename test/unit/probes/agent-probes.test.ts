import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../../src/common/errors.js';
import { Config } from '../../../src/config/config.js';
import { genID, Graph, type Node } from '../../../src/graph/graph.js';
import { startAgentProbes, type AgentProbes } from '../../../src/probes/topology/index.js';
import { Cleanup, sh } from '../../helpers/sh.js';
import { waitFor } from '../../helpers/wait.js';

/** startAgentProbes on the real kernel, with a private netns run path (names prefixed upa-). */
describe('agent topology probes', function () {
  this.timeout(60000);
  const cleanup = new Cleanup();
  const base = mkdtempSync(join(tmpdir(), 'upa-'));
  const runPath = join(base, 'netns');
  const g = new Graph({ host: 'upa-host', origin: 'agent.upa-host' });
  let probes: AgentProbes;

  before(async () => {
    cleanup.add(`rm -rf ${base}`);
    probes = await startAgentProbes({
      graph: g,
      hostID: 'upa-host',
      config: new Config({
        agent: { topology: { probes: [], netns: { run_path: runPath } }, metadata: { mydict: { value: 123 }, Rack: 'r1' } },
      }),
    });
    cleanup.add(() => probes.stop());
  });
  after(() => cleanup.run());

  const find = (m: Record<string, unknown>): Node[] => [...g.lookupNodes(m)];
  const children = (n: Node, f: Record<string, unknown> = {}): Node[] => g.lookupChildren(n, f, { RelationType: 'ownership' });

  it('creates the host node with hardware metadata and agent.metadata', () => {
    const h = probes.hostNode;
    assert.equal(h.id, genID('upa-host'));
    assert.equal(h.metadata.Type, 'host');
    assert.equal(h.metadata.Name, 'upa-host');
    assert.equal(h.metadata.TID, genID('upa-host'));
    assert.equal(h.metadata.OS, 'linux');
    assert.equal(h.metadata.KernelVersion, release());
    assert.ok(Array.isArray(h.metadata.CPU) && (h.metadata.CPU as unknown[]).length >= 1);
    assert.equal(typeof (h.metadata.CPU as Array<Record<string, unknown>>)[0].ModelName, 'string');
    assert.deepEqual(h.metadata.mydict, { value: 123 });
    assert.equal(h.metadata.Rack, 'r1');
    assert.deepEqual(children(h, { Name: 'lo', Type: 'device' }).length, 1, 'loopback of the agent namespace');
  });

  it('waits for a run path that does not exist yet, then follows namespaces mounted there', async () => {
    assert.equal(find({ Type: 'netns' }).filter((n) => String(n.metadata.Path).startsWith(base)).length, 0);
    const nsFile = join(runPath, 'upa-a');
    cleanup.add(`umount ${nsFile} 2>/dev/null; rm -f ${nsFile}`);
    cleanup.add('ip link del upa-h 2>/dev/null');
    await sh(`mkdir -p ${runPath} && touch ${nsFile} && unshare --net=${nsFile} true`);
    const ns = await waitFor(() => find({ Type: 'netns', Name: 'upa-a' })[0], Boolean, { what: 'netns node', timeout: 5000 });
    assert.equal(ns.metadata.Path, nsFile);
    assert.equal(typeof ns.metadata.Inode, 'number');
    assert.equal(g.lookupParents(ns, { Type: 'host' }, { RelationType: 'ownership' }).length, 1);
    await waitFor(() => children(ns, { Name: 'lo' }).length, (n) => n === 1, { what: 'loopback inside the namespace', timeout: 5000 });

    // a veth whose peer lives in a namespace iproute2 cannot name (not under /var/run/netns)
    await sh(`ip link add upa-h type veth peer name upa-p netns ${nsFile}`);
    const p = await waitFor(() => children(ns, { Name: 'upa-p', Type: 'veth' })[0], Boolean, { what: 'veth inside', timeout: 5000 });
    const h = await waitFor(() => find({ Name: 'upa-h', Type: 'veth' })[0], Boolean, { what: 'veth outside', timeout: 5000 });
    await waitFor(() => h.metadata.LinkNetNsName, (v) => v === 'upa-a', { what: 'LinkNetNsName resolved through the peer', timeout: 5000 });
    assert.equal(p.metadata.LinkNetNsName, undefined, 'the host namespace has no name');
    assert.equal(h.metadata.PeerIfIndex, p.metadata.IfIndex);
    await waitFor(() => [...g.nodeEdges(p)].filter((e) => e.metadata.Type === 'veth' && (e.parent === h.id || e.child === h.id)).length, (n) => n === 1, { what: 'one veth edge across namespaces', timeout: 5000 });

    await sh(`umount ${nsFile} && rm ${nsFile}`);
    await waitFor(() => find({ Type: 'netns', Name: 'upa-a' }).length + find({ Name: 'upa-p' }).length, (n) => n === 0, { what: 'namespace and its interfaces removed', timeout: 5000 });
    // our ip processes no longer hold the namespace: it is destroyed, and the peer with it
    await waitFor(() => find({ Name: 'upa-h' }).length, (n) => n === 0, { what: 'outer veth destroyed with the namespace', timeout: 5000 });
  });

  it('goes back to watching the parent when the run path is removed', async () => {
    await sh(`rmdir ${runPath}`);
    const nsFile = join(runPath, 'upa-b');
    cleanup.add(`umount ${nsFile} 2>/dev/null; rm -f ${nsFile}`);
    await waitFor(() => sh(`mkdir ${runPath} && touch ${nsFile} && unshare --net=${nsFile} true && echo ok`, { allowFail: true }), (out) => out.includes('ok'), { what: 'run path recreated' });
    await waitFor(() => find({ Type: 'netns', Name: 'upa-b' }).length, (n) => n === 1, { what: 'namespace in the recreated run path', timeout: 5000 });
  });

  it('rejects unknown probe names clearly', async () => {
    const g2 = new Graph({ host: 'x', origin: 'agent.x' });
    await assert.rejects(
      startAgentProbes({ graph: g2, hostID: 'x', config: new Config({ agent: { topology: { probes: ['ovsdb', 'upa-nope'] } } }) }),
      (e: unknown) => e instanceof UsageError && e.code === 'SKYDIVE_CONFIG_PROBE' && /"upa-nope".*available: ovsdb/.test(e.message),
    );
    assert.equal(g2.nodeCount, 0, 'nothing started');
  });

  it("skips the original's probes that are not implemented here instead of refusing the configuration", async () => {
    const g3 = new Graph({ host: 'y', origin: 'agent.y' });
    const started = await startAgentProbes({ graph: g3, hostID: 'y', config: new Config({ agent: { topology: { probes: ['docker'] } } }) });
    try {
      assert.deepEqual(started.probes.map((p) => p.name).sort(), ['netlink', 'netns']);
      assert.ok([...g3.lookupNodes({ Type: 'host', Name: 'y' })].length === 1, 'host node created');
    } finally {
      await started.stop();
    }
  });
});
