import { Graph, type Node } from '../../../src/graph/graph.js';

/**
 * A hand-built agent graph following the canonical picture of the reference (§5):
 *   host -own-> netns vm1 -own-> eth0 (veth) -layer2{veth}- vm1-eth0 (veth) <-own- host
 *   host -own-> br0 (linux bridge) -layer2-> tap0 (owned by host)
 *   host -own-> br-int (ovsbridge) -own+l2-> ovsport vm1-eth0 -l2-> interface vm1-eth0 (the veth, owned by host)
 *                                  -own+l2-> ovsport patch-tun -l2-> patch-tun (patch, owned by br-int)
 *   host -own-> br-tun (ovsbridge) -own+l2-> ovsport patch-int -l2-> patch-int (patch, owned by br-tun)
 *                                  -own+l2-> ovsport gre-1 -l2-> gre-1 (gre tunnel, Ovs.Options.remote_ip)
 *                                  -own+l2-> ovsport vxlan-1 -l2-> vxlan-1 (vxlan tunnel)
 *   patch-tun -layer2{patch}- patch-int
 *   host -own-> eth1 (device, underlay 10.0.0.1/24), lo
 * Creation times increase by 1 ms per element (T0 + n), so sorting by @CreatedAt is deterministic.
 */
export const T0 = 1_700_000_000_000;

export interface AgentGraph {
  g: Graph;
  /** Nodes by a unique label (name, or 'port:<name>' for ovsports). */
  n: Record<string, Node>;
  /** The clock of the graph: advance with tick(). */
  clock: { t: number };
}

export function buildAgentGraph(): AgentGraph {
  const clock = { t: T0 };
  const g = new Graph({ host: 'agent1', origin: 'agent.agent1', now: () => clock.t++ });
  const n: Record<string, Node> = {};
  const add = (label: string, id: string, metadata: Record<string, unknown>) => (n[label] = g.newNode(id, metadata));

  add('agent1', 'host-id', { Name: 'agent1', Type: 'host', Hostname: 'agent1', OS: 'linux', CPU: [{ CPU: 0, Cores: 2 }, { CPU: 1, Cores: 2 }] });
  add('vm1', 'netns-vm1', { Name: 'vm1', Type: 'netns', Path: '/var/run/netns/vm1', Inode: 4026532281 });
  add('eth0', 'veth-eth0', {
    Name: 'eth0',
    Type: 'veth',
    Driver: 'veth',
    IfIndex: 2,
    PeerIfIndex: 7,
    MAC: 'aa:bb:cc:00:00:01',
    MTU: 1500,
    State: 'UP',
    LinkFlags: ['UP', 'BROADCAST', 'MULTICAST'],
    IPV4: ['192.168.0.1/24', '192.168.1.1/24'],
    Neighbors: [{ MAC: 'aa:bb:cc:00:00:02', IP: '192.168.0.2' }, { MAC: 'aa:bb:cc:00:00:03', IP: '192.168.0.3' }],
  });
  add('vm1-eth0', 'veth-vm1-eth0', {
    Name: 'vm1-eth0',
    Type: 'veth',
    Driver: 'veth',
    IfIndex: 7,
    PeerIfIndex: 2,
    MAC: 'aa:bb:cc:00:00:07',
    MTU: 1500,
    State: 'UP',
    UUID: 'b6e9bf79-9b58-4b65-800e-1ddf9909d9dc',
    ExtID: { 'iface-id': 'port-123', 'attached-mac': 'aa:bb:cc:00:00:01' },
  });
  add('br0', 'bridge-br0', { Name: 'br0', Type: 'bridge', MTU: 1500, State: 'UP', IfIndex: 3 });
  add('tap0', 'tap-tap0', { Name: 'tap0', Type: 'tun', MTU: 1450, State: 'DOWN', IfIndex: 4, MasterIndex: 3 });
  add('eth1', 'dev-eth1', { Name: 'eth1', Type: 'device', MTU: 1500, State: 'UP', IfIndex: 5, IPV4: ['10.0.0.1/24'], MAC: '52:54:00:00:00:01', Speed: 1000, Features: { highdma: true, tso: false } });
  add('lo', 'dev-lo', { Name: 'lo', Type: 'device', MTU: 65536, State: 'UP', IfIndex: 1, IPV4: ['127.0.0.1/8'] });
  add('br-int', 'ovs-br-int', { Name: 'br-int', Type: 'ovsbridge', UUID: 'uuid-br-int', Ovs: { OtherConfig: { 'datapath-id': '0000a' }, Protocols: ['OpenFlow13'] } });
  add('br-tun', 'ovs-br-tun', { Name: 'br-tun', Type: 'ovsbridge', UUID: 'uuid-br-tun', Ovs: { OtherConfig: {}, Protocols: [] } });
  add('port:vm1-eth0', 'port-vm1-eth0', { Name: 'vm1-eth0', Type: 'ovsport', UUID: 'uuid-port-vm1' });
  add('port:patch-tun', 'port-patch-tun', { Name: 'patch-tun', Type: 'ovsport', UUID: 'uuid-port-patch-tun' });
  add('patch-tun', 'intf-patch-tun', { Name: 'patch-tun', Type: 'patch', Driver: 'openvswitch', OfPort: 2, Ovs: { Options: { peer: 'patch-int' } } });
  add('port:patch-int', 'port-patch-int', { Name: 'patch-int', Type: 'ovsport', UUID: 'uuid-port-patch-int' });
  add('patch-int', 'intf-patch-int', { Name: 'patch-int', Type: 'patch', Driver: 'openvswitch', OfPort: 1, Ovs: { Options: { peer: 'patch-tun' } } });
  add('port:gre-1', 'port-gre-1', { Name: 'gre-1', Type: 'ovsport', UUID: 'uuid-port-gre-1' });
  add('gre-1', 'intf-gre-1', {
    Name: 'gre-1',
    Type: 'gre',
    Driver: 'openvswitch',
    OfPort: 3,
    LocalIP: '10.0.0.1',
    RemoteIP: '10.0.0.2',
    Ovs: { Options: { remote_ip: '10.0.0.2', key: 'flow' } },
  });
  add('port:vxlan-1', 'port-vxlan-1', { Name: 'vxlan-1', Type: 'ovsport', UUID: 'uuid-port-vxlan-1' });
  add('vxlan-1', 'intf-vxlan-1', { Name: 'vxlan-1', Type: 'vxlan', Driver: 'openvswitch', OfPort: 4, Ovs: { Options: { remote_ip: '10.0.0.3', dst_port: '4789' } } });

  const own = (p: string, c: string) => g.ownershipLink(n[p], n[c]);
  const l2 = (p: string, c: string, extra: Record<string, unknown> = {}) => g.link(n[p], n[c], 'layer2', extra);

  own('agent1', 'vm1');
  own('vm1', 'eth0');
  own('agent1', 'vm1-eth0');
  l2('vm1-eth0', 'eth0', { Type: 'veth' });
  own('agent1', 'br0');
  own('agent1', 'tap0');
  l2('br0', 'tap0');
  own('agent1', 'eth1');
  own('agent1', 'lo');
  own('agent1', 'br-int');
  own('agent1', 'br-tun');
  for (const [br, port] of [
    ['br-int', 'port:vm1-eth0'],
    ['br-int', 'port:patch-tun'],
    ['br-tun', 'port:patch-int'],
    ['br-tun', 'port:gre-1'],
    ['br-tun', 'port:vxlan-1'],
  ]) {
    own(br, port);
    l2(br, port);
  }
  l2('port:vm1-eth0', 'vm1-eth0');
  l2('port:patch-tun', 'patch-tun');
  own('br-int', 'patch-tun');
  l2('port:patch-int', 'patch-int');
  own('br-tun', 'patch-int');
  l2('port:gre-1', 'gre-1');
  own('br-tun', 'gre-1');
  l2('port:vxlan-1', 'vxlan-1');
  own('br-tun', 'vxlan-1');
  l2('patch-tun', 'patch-int', { Type: 'patch' });
  return { g, n, clock };
}
