import assert from 'node:assert/strict';
import type { AllInOne } from '../helpers/allinone.js';
import { TestOVS } from '../helpers/ovs.js';
import { SKYDIVE_BIN } from '../helpers/shared.js';
import { Cleanup, sh } from '../helpers/sh.js';
import { FlowsAPI, flowConfig, linuxBridge, vethNamespace, flowSuiteHooks } from './flows-support.js';

/**
 * Tunnels (lab.md §3.1 scenario 13): the same ICMP exchange captured inside the tunnel (overlay) and on the
 * underlay interface, where it is decapsulated: the inner flow's ParentUUID is the UUID of the tunnel flow
 * captured there, and its TrackingID equals the one captured on the overlay side. VXLAN uses the kernel's vxlan
 * device; GRE uses Open vSwitch userspace GRE ports between two namespace "hosts" (this kernel has no gre module).
 * Names: ftv- / ftg-.
 */
describe('flows through VXLAN and GRE tunnels (allinone)', function () {
  this.timeout(180000);
  let cleanup: Cleanup;
  let aio: AllInOne;
  let api: FlowsAPI;
  flowSuiteHooks(
    () => flowConfig(),
    (a, p) => ((aio = a), (api = p)),
    (c) => (cleanup = c),
  );

  /** Checks the overlay flow and its decapsulated copy on the underlay; returns the tunnel flow. */
  async function checkTunnel(overlay: string, underlay: string, tunnelApp: string, count: number): Promise<any> {
    const overlayTID = await api.tid(overlay);
    const [inner] = await api.waitList(`G.Flows().Has('NodeTID', '${overlayTID}', 'Application', 'ICMPv4')`, (r) => r.length === 1 && r[0].Metric.BAPackets === count);
    assert.equal(inner.Metric.ABPackets, count);
    assert.equal(inner.ParentUUID, '', 'the overlay capture sees the inner packets as top-level');
    const T = inner.TrackingID as string;
    const seen = await api.waitList(`${underlay}.Flows().Has('TrackingID', '${T}', 'Application', 'ICMPv4').Dedup()`, (r) => r.length >= 1);
    const decapsulated = seen[0];
    assert.notEqual(decapsulated.UUID, inner.UUID, 'one UUID per capture point');
    assert.ok(decapsulated.ParentUUID, 'the decapsulated flow has a parent');
    const [tunnel] = await api.waitList(`G.Flows().Has('UUID', '${decapsulated.ParentUUID}')`, 1);
    assert.equal(tunnel.Application, tunnelApp);
    assert.equal(tunnel.NodeTID, decapsulated.NodeTID, 'the tunnel flow was captured on the same underlay interface');
    assert.equal(tunnel.NodeTID, await api.tid(underlay));
    return tunnel;
  }

  it('VXLAN (kernel vxlan device): inner flow on the underlay is a child of the VXLAN flow (TestFlowVxlanTunnel)', async () => {
    await vethNamespace(cleanup, 'ftv-vm1-eth0', 'eth0', 'ftv-vm1', ['172.16.0.1/24']);
    await vethNamespace(cleanup, 'ftv-vm2-eth0', 'eth0', 'ftv-vm2', ['172.16.0.2/24']);
    await linuxBridge(cleanup, 'br-ftv', ['ftv-vm1-eth0', 'ftv-vm2-eth0']);
    for (const [vm, local, remote, overlayIP] of [
      ['ftv-vm1', '172.16.0.1', '172.16.0.2', '192.168.0.1'],
      ['ftv-vm2', '172.16.0.2', '172.16.0.1', '192.168.0.2'],
    ]) {
      const x = `ip netns exec ${vm}`;
      await sh(`${x} ip link add tunnel type vxlan id 10 remote ${remote} local ${local} ttl 255 dev eth0 dstport 4789`);
      await sh(`${x} ip link set tunnel up && ${x} ip address add ${overlayIP}/32 dev lo && ${x} ip route add 192.168.0.0/24 dev tunnel`);
    }
    const overlay = "G.V().Has('Name', 'ftv-vm1', 'Type', 'netns').Out().Has('Name', 'tunnel')";
    const underlay = "G.V().Has('Name', 'ftv-vm2-eth0', 'Type', 'veth')";
    await api.capture(cleanup, { GremlinQuery: overlay });
    await api.capture(cleanup, { GremlinQuery: underlay });
    await api.inject({
      Src: overlay,
      Dst: "G.V().Has('Name', 'ftv-vm2', 'Type', 'netns').Out().Has('Name', 'tunnel')",
      SrcIP: '192.168.0.1',
      DstIP: '192.168.0.2',
      Count: 5,
    });
    const tunnel = await checkTunnel(overlay, underlay, 'VXLAN', 5);
    assert.equal(tunnel.LayersPath, 'Ethernet/IPv4/UDP/VXLAN');
    assert.equal(tunnel.Network.ID, 10, 'the VNI');
  });

  it('GRE (Open vSwitch userspace GRE ports between two hosts): inner flow is a child of the GRE flow (TestFlowGRETunnel)', async () => {
    const hosts = ['ftg-h1', 'ftg-h2'];
    for (const h of hosts) {
      cleanup.add(`ip netns del ${h} 2>/dev/null`);
      await sh(`ip netns add ${h} && ip -n ${h} link set lo up`);
    }
    await sh('ip link add eth1 netns ftg-h1 type veth peer name eth1 netns ftg-h2');
    for (let i = 1; i <= 2; i++) {
      const h = `ftg-h${i}`;
      const ovs = await TestOVS.start(h);
      cleanup.add(() => ovs.stop());
      cleanup.add(() => ovs.vsctl('--if-exists del-br br0 -- --if-exists del-br br-phy'));
      await ovs.addBridge('br-phy');
      await ovs.vsctl('add-port br-phy eth1');
      await sh(`ip -n ${h} link set eth1 up && ip -n ${h} address add 192.168.50.${i}/24 dev br-phy && ip -n ${h} link set br-phy up`);
      cleanup.add(`ip netns del ftg-ns${i} 2>/dev/null`);
      await sh(`ip netns add ftg-ns${i}`);
      await sh(`ip link add ftg${i}-eth0 netns ${h} type veth peer name eth0 netns ftg-ns${i}`);
      await sh(`ip -n ${h} link set ftg${i}-eth0 up && ip -n ftg-ns${i} link set eth0 up && ip -n ftg-ns${i} address add 192.168.0.${i}/24 dev eth0`);
      await ovs.addBridge('br0');
      await ovs.vsctl(`add-port br0 ftg${i}-eth0 -- add-port br0 tun0 -- set interface tun0 type=gre options:remote_ip=192.168.50.${3 - i}`);
    }
    const overlay = "G.V().Has('Name', 'ftg-ns1', 'Type', 'netns').Out().Has('Name', 'eth0')";
    const underlay = "G.V().Has('Name', 'ftg-h2', 'Type', 'netns').Out().Has('Name', 'eth1')";
    await api.capture(cleanup, { GremlinQuery: overlay });
    await api.capture(cleanup, { GremlinQuery: underlay });
    await api.inject({ Src: overlay, Dst: "G.V().Has('Name', 'ftg-ns2', 'Type', 'netns').Out().Has('Name', 'eth0')", Count: 5 });
    const tunnel = await checkTunnel(overlay, underlay, 'GRE', 5);
    assert.equal(tunnel.LayersPath, 'Ethernet/IPv4/GRE');
    assert.deepEqual([tunnel.Network.A, tunnel.Network.B].sort(), ['192.168.50.1', '192.168.50.2']);

    // the client prints the same flows
    const out = await sh(`${SKYDIVE_BIN} client --analyzer ${aio.analyzerAddr} query "G.Flows().Has('Application','GRE')"`);
    const printed = JSON.parse(out) as any[];
    assert.ok(printed.some((f) => f.UUID === tunnel.UUID), out.slice(0, 500));
  });
});
