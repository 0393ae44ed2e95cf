import assert from 'node:assert/strict';
import { freePorts, type AllInOne } from '../helpers/allinone.js';
import { TestOVS } from '../helpers/ovs.js';
import { Cleanup } from '../helpers/sh.js';
import { FlowsAPI, flowConfig, vethNamespace, flowSuiteHooks } from './flows-support.js';

/**
 * sFlow captures of an Open vSwitch bridge (userspace datapath, private ovsdb-server/ovs-vswitchd): the agent
 * configures the bridge's sFlow export towards its own collector (`ovssflow`), or collects what the bridge
 * already exports to a port (`sflow` capture on an interface). Lab.md §3.1 scenarios 10 and 24. Names: fo-.
 */
describe('sFlow captures of OVS bridges (allinone, userspace OVS)', function () {
  this.timeout(120000);
  let cleanup: Cleanup;
  let ovs: TestOVS;
  let aio: AllInOne;
  let api: FlowsAPI;
  flowSuiteHooks(
    async (suite) => {
      ovs = await TestOVS.start();
      suite.add(() => ovs.stop());
      return flowConfig({ ovs: { ovsdb: ovs.ovsdbURL }, agent: { topology: { probes: ['ovsdb'] } } });
    },
    (a, p) => ((aio = a), (api = p)),
    (c) => (cleanup = c),
  );

  /** OVS bridge `br` with two namespaces <p>-vm1/<p>-vm2 (eth0 behind host veths <p>-vm1-eth0 / <p>-vm2-eth0 as ports). */
  async function bridgeWithVMs(br: string, p: string, ip1: string, ip2: string): Promise<void> {
    cleanup.add(`ip link del ${br} 2>/dev/null`);
    cleanup.add(() => ovs.vsctl(`--if-exists del-br ${br}`));
    await ovs.addBridge(br);
    await vethNamespace(cleanup, `${p}-vm1-eth0`, 'eth0', `${p}-vm1`, [ip1]);
    await vethNamespace(cleanup, `${p}-vm2-eth0`, 'eth0', `${p}-vm2`, [ip2]);
    await ovs.vsctl(`add-port ${br} ${p}-vm1-eth0 -- add-port ${br} ${p}-vm2-eth0`);
  }
  const vmIf = (p: string, vm: number) => `G.V().Has('Name', '${p}-vm${vm}', 'Type', 'netns').Out().Has('Name', 'eth0')`;

  it('ovssflow: the agent points the bridge sFlow export at its collector; flows carry the bridge TID; hops (TestFlowHops)', async () => {
    await bridgeWithVMs('br-fofh', 'fofh', '169.254.70.33/24', '169.254.70.34/24');
    const bridge = "G.V().Has('Name', 'br-fofh', 'Type', 'ovsbridge')";
    const tid = await api.tid(bridge);
    const id = await api.capture(cleanup, { GremlinQuery: bridge, SamplingRate: 1, PollingInterval: 1 });
    const [captures] = await api.query(`${bridge}.Values('Captures')`);
    assert.equal(captures[0].Type, 'ovssflow');
    assert.match(captures[0].SFlowSocket, /^127\.0\.0\.1:\d+$/);
    assert.match(await ovs.vsctl('list sflow'), new RegExp(`skydive-capture="?${id}`));

    await api.inject({ Src: vmIf('fofh', 1), Dst: vmIf('fofh', 2), Count: 1, Payload: 'y'.repeat(1016) });
    const [f] = await api.waitList(`${bridge}.Flows().Has('LayersPath', 'Ethernet/IPv4/ICMPv4')`, (r) => r.length === 1 && r[0].Metric.BAPackets === 1);
    assert.equal(f.NodeTID, tid);
    assert.equal(f.Metric.ABBytes, 1058, 'frame length minus the stripped FCS');
    const nodes = await api.waitList(`${bridge}.Flows().Has('TrackingID', '${f.TrackingID}').Nodes()`, 3);
    const names = nodes.map((n) => n.Metadata.Name).sort();
    assert.deepEqual(names, ['br-fofh', 'eth0', 'eth0']);
    const hops = await api.query(`${bridge}.Flows().Has('LayersPath', 'Ethernet/IPv4/ICMPv4').Hops()`);
    assert.equal(hops.length, 1);
    assert.ok(nodes.some((n) => n.ID === hops[0].ID), 'the hop is one of the flow nodes');
    // counter samples of the bridge ports end up on the bridge node
    await api.waitList(`${bridge}.HasKey('SFlow.IfMetrics')`, 1);

    const del = await fetch(`http://${aio.analyzerAddr}/api/capture/${id}`, { method: 'DELETE' });
    assert.equal(del.status, 200);
    await api.waitList(`${bridge}.HasKey('Captures')`, 0);
    assert.equal((await ovs.vsctl('get bridge br-fofh sflow')).trim(), '[]', 'the sFlow export was removed with the capture');
  });

  it('sflow: collects the datagrams a bridge already exports to a port of an interface (TestSFlowCapture)', async () => {
    await bridgeWithVMs('br-fosf', 'fosf', '169.254.29.11/24', '169.254.29.12/24');
    const [port] = await freePorts(1);
    const lo = "G.V().Has('Type', 'host').Out().Has('Name', 'lo')";
    const tid = await api.tid(lo);
    await api.capture(cleanup, { GremlinQuery: lo, Type: 'sflow', Port: port });
    cleanup.add(() => ovs.vsctl('clear bridge br-fosf sflow'));
    await ovs.vsctl(`-- --id=@sflow create sflow agent=lo target=\\"127.0.0.1:${port}\\" header=128 sampling=1 polling=10 -- set bridge br-fosf sflow=@sflow`);
    await api.inject({ Src: vmIf('fosf', 1), Dst: vmIf('fosf', 2), Count: 1 });
    const [f] = await api.waitList(`G.Flows('NodeTID', '${tid}').Has('Network.A', '169.254.29.11')`, 1);
    assert.equal(f.LayersPath, 'Ethernet/IPv4/ICMPv4');
  });

  it('refuses bad captures with the reason (400) and duplicates (409)', async () => {
    const post = (body: unknown) => api.post('/api/capture', body);
    let res = await post({ BPFFilter: 'icmp' });
    assert.equal(res.status, 400);
    assert.match(res.body.message, /GremlinQuery is required/);
    res = await post({ GremlinQuery: "G.V().Has('Name', 'x'" });
    assert.equal(res.status, 400);
    assert.match(res.body.message, /GremlinQuery is not a valid Gremlin query/);
    res = await post({ GremlinQuery: 'G.V()', BPFFilter: 'icmp and and' });
    assert.equal(res.status, 400);
    assert.match(res.body.message, /BPFFilter is not a valid BPF filter/);
    res = await post({ GremlinQuery: 'G.V()', HeaderSize: 10 });
    assert.equal(res.status, 400);
    res = await post({ GremlinQuery: 'G.V()', RawPacketLimit: 11 });
    assert.equal(res.status, 400);
    res = await post({ GremlinQuery: 'G.V()', Type: 'nope' });
    assert.equal(res.status, 400);
    res = await post({ GremlinQuery: "G.V().Has('Name', 'fo-none')", Type: 'ovssflow' });
    assert.equal(res.status, 201);
    const id = res.body.UUID;
    cleanup.add(() => fetch(`http://${aio.analyzerAddr}/api/capture/${id}`, { method: 'DELETE' }));
    res = await post({ GremlinQuery: "G.V().Has('Name', 'fo-none')", Type: 'ovssflow' });
    assert.equal(res.status, 409);
    const list = (await (await fetch(`http://${aio.analyzerAddr}/api/capture`)).json()) as Record<string, any>;
    assert.equal(list[id].Count, 0);
  });

  it('captures a bridge created after the capture (the query is re-evaluated on graph changes)', async () => {
    const bridge = "G.V().Has('Name', 'br-folate', 'Type', 'ovsbridge')";
    const res = await api.post('/api/capture', { GremlinQuery: bridge });
    assert.equal(res.status, 201);
    const id = res.body.UUID;
    cleanup.add(() => fetch(`http://${aio.analyzerAddr}/api/capture/${id}`, { method: 'DELETE' }));
    await bridgeWithVMs('br-folate', 'folate', '169.254.71.1/24', '169.254.71.2/24');
    await api.waitList(`${bridge}.Has('Captures.ID', '${id}', 'Captures.State', 'active')`, 1);
    const list = (await (await fetch(`http://${aio.analyzerAddr}/api/capture/${id}`)).json()) as any;
    assert.equal(list.Count, 1);
  });
});
