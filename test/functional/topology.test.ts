import assert from 'node:assert/strict';
import { startAllInOne, type AllInOne } from '../helpers/allinone.js';
import { TestOVS } from '../helpers/ovs.js';
import { Cleanup, sh } from '../helpers/sh.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The topology checks of the original's functional suite (lab.md §3.1 items 29-37), against `bin/skydive
 * allinone` with the ovsdb probe on a private userspace OVS. Every object is created by the test with a tpf-
 * prefix and removed in the after hook, whatever happened.
 */
describe('agent topology probes (allinone, real kernel and OVS)', function () {
  this.timeout(120000);
  const cleanup = new Cleanup();
  let ovs: TestOVS;
  let aio: AllInOne;

  before(async () => {
    ovs = await TestOVS.start();
    cleanup.add(() => ovs.stop());
    aio = await startAllInOne({ config: { ovs: { ovsdb: ovs.ovsdbURL }, agent: { topology: { probes: ['ovsdb'], netlink: { metrics_update: 1 } } } } });
    cleanup.add(() => aio.stop());
  });
  after(() => cleanup.run());

  const nodes = async (gremlin: string): Promise<any[]> => {
    const r = await aio.query(gremlin);
    assert.ok(Array.isArray(r), `${gremlin} returned ${JSON.stringify(r)}`);
    return r;
  };
  /** Wait until the query returns exactly `n` elements; resolves with them. */
  const expectCount = (gremlin: string, n: number, timeout = 10000): Promise<any[]> =>
    waitFor(() => nodes(gremlin), (r) => r.length === n, { what: `${n} result(s) for ${gremlin}`, timeout, interval: 50 });
  const netns = (name: string): void => {
    cleanup.add(`ip netns del ${name} 2>/dev/null`);
  };
  const link = (name: string): void => {
    cleanup.add(`ip link del ${name} 2>/dev/null`);
  };
  /** An OVS bridge (userspace datapath); del-br also removes the tap devices of its internal ports. */
  const bridge = async (name: string, internalPorts: string[] = []): Promise<void> => {
    for (const n of [name, ...internalPorts]) link(n);
    cleanup.add(() => ovs.vsctl(`--if-exists del-br ${name}`));
    await ovs.addBridge(name);
  };

  it('ovsdb: patch and tunnel interfaces are owned by their bridge, internal ones by the host (TestOVSOwnershipLink)', async () => {
    await bridge('tpf-bro', ['tpf-intfo']);
    await ovs.vsctl('add-port tpf-bro tpf-patch -- set interface tpf-patch type=patch options:peer=tpf-nopeer');
    await ovs.vsctl('add-port tpf-bro tpf-gre -- set interface tpf-gre type=gre options:remote_ip=10.10.10.10');
    await ovs.vsctl('add-port tpf-bro tpf-vxlan -- set interface tpf-vxlan type=vxlan options:remote_ip=10.10.10.20');
    await ovs.vsctl('add-port tpf-bro tpf-geneve -- set interface tpf-geneve type=geneve options:remote_ip=10.10.10.30');
    await ovs.vsctl('add-port tpf-bro tpf-intfo -- set interface tpf-intfo type=internal');
    for (const x of ['tpf-patch', 'tpf-gre', 'tpf-vxlan', 'tpf-geneve']) {
      await expectCount(`G.V().Has('Name','${x}','Type',Ne('ovsport')).InE().Has('RelationType','ownership').InV().Has('Name','tpf-bro')`, 1);
    }
    await expectCount(`G.V().Has('Name','tpf-intfo','Type',Ne('ovsport')).InE().Has('RelationType','ownership').InV().Has('Type','host')`, 1);
    const [gre] = await expectCount(`G.V().Has('Name','tpf-gre','Type','gre','RemoteIP','10.10.10.10','Driver','openvswitch').HasKey('UUID')`, 1);
    assert.equal(gre.Metadata.Ovs.Options.remote_ip, '10.10.10.10');
    await expectCount(`G.V().Has('Name','tpf-vxlan','Ovs.Options.remote_ip','10.10.10.20')`, 1);
  });

  it('ovsdb: a bridge has its port and internal interface (TestBridgeOVS)', async () => {
    await bridge('tpf-brb');
    const q = `G.V().Has('Type','ovsbridge','Name','tpf-brb').Out('Type','ovsport','Name','tpf-brb').Out('Type','internal','Name','tpf-brb','Driver','openvswitch')`;
    await expectCount(`${q}.Dedup()`, 1);
    const [br] = await expectCount(`G.V().Has('Type','ovsbridge','Name','tpf-brb')`, 1);
    assert.match(br.Metadata.UUID, /^[0-9a-f-]{36}$/);
    await expectCount(`G.V().Has('Type','ovsbridge','Name','tpf-brb').InE().Has('RelationType','ownership').InV().Has('Type','host')`, 1);
    await expectCount(`G.V().Has('Type','ovsbridge','Name','tpf-brb').OutE().Has('RelationType','layer2').InV().Has('Type','ovsbridge')`, 1);
  });

  it('ovsdb: patch peers are linked once (TestPatchOVS)', async () => {
    await bridge('tpf-brpa1');
    await bridge('tpf-brpa2');
    await ovs.vsctl('add-port tpf-brpa1 tpf-pa1 -- set interface tpf-pa1 type=patch');
    await ovs.vsctl('add-port tpf-brpa2 tpf-pa2 -- set interface tpf-pa2 type=patch');
    await ovs.vsctl('set interface tpf-pa1 option:peer=tpf-pa2');
    await ovs.vsctl('set interface tpf-pa2 option:peer=tpf-pa1');
    const q = `G.V().Has('Type','patch','Name','tpf-pa1','Driver','openvswitch').Both('Type','patch','Name','tpf-pa2','Driver','openvswitch')`;
    await expectCount(q, 1);
    await expectCount(`${q}.Dedup()`, 1);
    await expectCount(`G.V().Has('Name','tpf-pa1').BothE().Has('RelationType','layer2','Type','patch')`, 1);
  });

  it('ovsdb: an internal interface merges with its kernel device (TestInterfaceOVS)', async () => {
    await bridge('tpf-br32', ['tpf-if32']);
    await ovs.vsctl('add-port tpf-br32 tpf-if32 -- set interface tpf-if32 type=internal');
    await expectCount(`G.V().Has('Type','internal','Name','tpf-if32','Driver','openvswitch').HasKey('UUID').HasKey('MAC')`, 1);
    await expectCount(`G.V().Has('Name','tpf-if32','Type',Ne('ovsport'))`, 1);
    const [intf] = await expectCount(`G.V().Has('Name','tpf-if32','Type','internal').HasKey('IfIndex').HasKey('OfPort')`, 1);
    assert.equal(intf.Metadata.EncapType, 'ether', 'netlink metadata on the same node');
  });

  it('netlink: veth pair, then rename and MAC change (TestVeth, TestMacNameUpdate)', async () => {
    link('tpf-v0');
    await sh('ip link add tpf-v0 type veth peer name tpf-v1');
    await expectCount(`G.V().Has('Type','veth','Name','tpf-v0').Both('Type','veth','Name','tpf-v1')`, 1);
    await expectCount(`G.V().Has('Name','tpf-v0').BothE().Has('RelationType','layer2','Type','veth')`, 1);
    const [v0] = await nodes(`G.V().Has('Name','tpf-v0')`);
    const [v1] = await nodes(`G.V().Has('Name','tpf-v1')`);
    assert.equal(v0.Metadata.PeerIfIndex, v1.Metadata.IfIndex);
    assert.equal(v0.Metadata.Driver, 'veth');
    await sh('ip link set tpf-v1 name tpf-v2 && ip link set tpf-v2 address 00:00:00:00:00:aa');
    const [v2] = await expectCount(`G.V().Has('Name','tpf-v2','MAC','00:00:00:00:00:aa')`, 1);
    assert.equal(v2.ID, v1.ID, 'a rename updates the same node');
    await expectCount(`G.V().Has('Name','tpf-v1')`, 0);
  });

  it('netlink: Linux bridge with a tap (TestBridge)', async () => {
    link('tpf-lbr');
    link('tpf-tap');
    await sh('ip link add tpf-lbr type bridge && ip tuntap add mode tap dev tpf-tap && ip link set tpf-tap master tpf-lbr');
    await expectCount(`G.V().Has('Type','bridge','Name','tpf-lbr').Out('Name','tpf-tap')`, 1);
    const [tap] = await expectCount(`G.V().Has('Name','tpf-tap','Type','tap','Driver','tun')`, 1);
    const [br] = await nodes(`G.V().Has('Name','tpf-lbr')`);
    assert.equal(tap.Metadata.MasterIndex, br.Metadata.IfIndex);
    await sh('ip link set tpf-tap nomaster');
    await expectCount(`G.V().Has('Type','bridge','Name','tpf-lbr').Out('Name','tpf-tap')`, 0);
  });

  it('netns: namespaces, veth into a namespace, peers across namespaces, OVS internal moved into one (TestNameSpace*)', async () => {
    netns('tpf-ns1');
    await sh('ip netns add tpf-ns1');
    const [ns1] = await expectCount(`G.V().Has('Name','tpf-ns1','Type','netns')`, 1);
    assert.equal(ns1.Metadata.Path, '/var/run/netns/tpf-ns1');
    await expectCount(`G.V().Has('Name','tpf-ns1','Type','netns').InE().Has('RelationType','ownership').InV().Has('Type','host')`, 1);

    link('tpf-n0');
    await sh('ip link add tpf-n0 type veth peer name tpf-n1 netns tpf-ns1');
    await expectCount(`G.V().Has('Name','tpf-ns1','Type','netns').Out('Name','tpf-n1','Type','veth')`, 1);
    await expectCount(`G.V().Has('Name','tpf-n0').Both('Name','tpf-n1')`, 1);

    netns('tpf-ns2');
    netns('tpf-ns3');
    await sh('ip netns add tpf-ns2 && ip netns add tpf-ns3');
    await sh('ip link add tpf-w0 type veth peer name tpf-w1 netns tpf-ns2 && ip link set tpf-w0 netns tpf-ns3');
    const [w0] = await expectCount(`G.V().Has('LinkNetNsName','tpf-ns2')`, 1);
    const [w1] = await expectCount(`G.V().Has('LinkNetNsName','tpf-ns3')`, 1);
    assert.equal(w0.Metadata.Name, 'tpf-w0');
    assert.equal(w1.Metadata.Name, 'tpf-w1');
    await expectCount(`G.V().Has('Name','tpf-ns3','Type','netns').Out('Name','tpf-w0').Both('Type','veth','Name','tpf-w1')`, 1);

    netns('tpf-ns4');
    await bridge('tpf-br35', ['tpf-if35']);
    await ovs.vsctl('add-port tpf-br35 tpf-if35 -- set interface tpf-if35 type=internal');
    await expectCount(`G.V().Has('Name','tpf-if35','Type','internal').In('Type','host')`, 1);
    await sh('ip netns add tpf-ns4 && ip link set tpf-if35 netns tpf-ns4');
    await expectCount(`G.V().Has('Name','tpf-ns4','Type','netns').Out('Name','tpf-if35','Type','internal')`, 1);
    await expectCount(`G.V().Has('Name','tpf-if35','Type','internal')`, 1);
    await expectCount(`G.V().Has('Name','tpf-if35','Type','internal').In('Type','ovsport','Name','tpf-if35')`, 1);

    await sh('ip netns del tpf-ns1');
    await expectCount(`G.V().Has('Name','tpf-ns1')`, 0);
    await expectCount(`G.V().Has('Name','tpf-n1')`, 0);
    await expectCount(`G.V().Has('Name','tpf-n0')`, 0);
  });

  it('netlink: interface changes, within 1 s each (add, rename, re-address, move, remove)', async () => {
    netns('tpf-ns5');
    link('tpf-l0');
    await sh('ip netns add tpf-ns5');
    await expectCount(`G.V().Has('Name','tpf-ns5','Type','netns')`, 1);
    const within = (q: string, n: number) => expectCount(q, n, 1000);
    await sh('ip link add tpf-l0 type veth peer name tpf-l1');
    await within(`G.V().Has('Name','tpf-l1','Type','veth').In('Type','host')`, 1);
    await sh('ip link set tpf-l1 name tpf-l2');
    await within(`G.V().Has('Name','tpf-l2','Type','veth')`, 1);
    await sh('ip addr add 10.239.0.1/24 dev tpf-l0');
    await within(`G.V().Has('Name','tpf-l0','IPV4','10.239.0.1/24')`, 1);
    await sh('ip addr del 10.239.0.1/24 dev tpf-l0');
    await within(`G.V().Has('Name','tpf-l0').HasKey('IPV4')`, 0);
    await sh('ip link set tpf-l2 netns tpf-ns5');
    await within(`G.V().Has('Name','tpf-ns5','Type','netns').Out('Name','tpf-l2')`, 1);
    await within(`G.V().Has('Name','tpf-l2')`, 1);
    await sh('ip link del tpf-l0');
    await within(`G.V().Has('Name',Within('tpf-l0','tpf-l2'))`, 0);
  });

  it('netlink: an interface change makes a new revision (TestInterfaceUpdate)', async () => {
    netns('tpf-iu');
    await sh('ip netns add tpf-iu');
    const q = `G.V().Has('Name','tpf-iu','Type','netns').Out().Has('Name','lo')`;
    const [before] = await expectCount(q, 1);
    assert.equal(before.Metadata.State, 'DOWN');
    await sh('ip netns exec tpf-iu ip link set lo up');
    const [after] = await waitFor(() => nodes(q), (r) => r.length === 1 && r[0].Metadata.State === 'UNKNOWN', { what: 'lo up in tpf-iu' });
    assert.ok(after.Revision > before.Revision, `revision ${before.Revision} -> ${after.Revision}`);
    assert.ok(after.Metadata.LinkFlags.includes('UP'));
    assert.deepEqual(after.Metadata.IPV4, ['127.0.0.1/8']);
  });

  it('netlink: interface counters are refreshed every metrics_update seconds (TestInterfaceMetrics)', async () => {
    netns('tpf-im');
    await sh('ip netns add tpf-im && ip netns exec tpf-im ip link set lo up');
    const q = `G.V().Has('Name','tpf-im','Type','netns').Out().Has('Name','lo')`;
    await expectCount(q, 1);
    await sh('ip netns exec tpf-im ping -c 15 -i 0.01 -q 127.0.0.1');
    const [lo] = await expectCount(`${q}.Has('Metric.TxPackets',Gte(30)).Has('LastUpdateMetric.TxPackets',Gt(0))`, 1);
    const m = lo.Metadata.LastUpdateMetric;
    assert.ok(m.Start < m.Last, 'LastUpdateMetric covers a period');
    assert.ok(lo.Metadata.Metric.RxBytes > 0);
  });

  it('netlink: routing tables and neighbours (TestRouteTable, TestNeighbors)', async () => {
    netns('tpf-rt1');
    link('tpf-rt-h');
    await sh('ip netns add tpf-rt1 && ip link add tpf-rt-h type veth peer name tpf-rt-e netns tpf-rt1');
    await sh('ip link set tpf-rt-h up && ip -n tpf-rt1 link set tpf-rt-e up && ip -n tpf-rt1 addr add 10.237.91.42/24 dev tpf-rt-e');
    const q = `G.V().Has('Name','tpf-rt-e','IPV4','10.237.91.42/24')`;
    const [before] = await waitFor(() => nodes(q), (r) => r.length === 1 && r[0].Metadata.RoutingTables?.length === 2, { what: 'main and local tables' });
    assert.deepEqual(before.Metadata.RoutingTables.map((t: any) => t.ID), [254, 255]);
    await sh('ip -n tpf-rt1 route add 10.237.92.0/24 via 10.237.91.42 table 2');
    const [after] = await waitFor(() => nodes(q), (r) => r.length === 1 && r[0].Metadata.RoutingTables?.length === 3, { what: 'table 2' });
    const t2 = after.Metadata.RoutingTables.find((t: any) => t.ID === 2);
    assert.deepEqual(t2.Routes, [{ Protocol: 3, Prefix: '10.237.92.0/24', NextHops: [{ Priority: 0, IP: '10.237.91.42', IfIndex: after.Metadata.IfIndex }] }]);

    await sh('ip -n tpf-rt1 neigh add 10.237.91.252 dev tpf-rt-e lladdr a6:d1:a0:51:03:49');
    const [nb] = await expectCount(`G.V().Has('Name','tpf-rt-e','Neighbors.MAC','a6:d1:a0:51:03:49')`, 1);
    assert.deepEqual(
      nb.Metadata.Neighbors.find((n: any) => n.IP === '10.237.91.252'),
      { MAC: 'a6:d1:a0:51:03:49', IP: '10.237.91.252', State: ['NUD_PERMANENT'], IfIndex: nb.Metadata.IfIndex },
    );
  });
});
