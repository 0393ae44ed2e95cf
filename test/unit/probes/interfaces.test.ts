import assert from 'node:assert/strict';
import { genID, Graph } from '../../../src/graph/graph.js';
import { InterfaceRegistry, type LinkPart, type OvsInterfacePart } from '../../../src/probes/topology/interfaces.js';

/** How netlink and OVS descriptions of one interface end up on one node (no kernel needed: graph logic only). */
describe('InterfaceRegistry', () => {
  const HOST_TID = genID('h');
  const NS_TID = genID('ns');
  const BR_TID = genID('br');

  function setup() {
    const g = new Graph({ host: 'h', origin: 'agent.h' });
    const r = new InterfaceRegistry(g, 'h');
    let remaps = 0;
    r.onOvsRemap(() => remaps++);
    return { g, r, remaps: () => remaps };
  }
  const link = (nsKey: string, ifindex: number, name: string, extra: Record<string, unknown> = {}): LinkPart => ({
    nsKey,
    ifindex,
    ownerTID: nsKey ? NS_TID : HOST_TID,
    metadata: { Name: name, Type: 'tap', IfIndex: ifindex, Driver: 'tun', MAC: '02:00:00:00:00:01', ...extra },
  });
  const ovs = (uuid: string, name: string, type: string, extra: Record<string, unknown> = {}): OvsInterfacePart => ({
    uuid,
    kernelBacked: ['', 'internal', 'tap'].includes(type),
    ownerTID: BR_TID,
    metadata: { Name: name, UUID: uuid, ...(type ? { Type: type, Driver: 'openvswitch' } : {}), MAC: '0a:00:00:00:00:09', IfIndex: 77, ...extra },
  });

  it('gives a kernel interface a stable node per (namespace, ifindex); a rename updates it', () => {
    const { g, r } = setup();
    const n = r.upsertLink(link('', 5, 'x0'));
    assert.equal(n.id, genID('h', 'interface', '', '5'));
    assert.equal(n.metadata.TID, genID(`${HOST_TID}x0tap`));
    const rev = n.revision;
    assert.equal(r.upsertLink(link('', 5, 'x1')), n);
    assert.equal(n.metadata.Name, 'x1');
    assert.equal(n.revision, rev + 1);
    assert.equal(r.upsertLink(link('', 5, 'x1')).revision, rev + 1, 'no revision without a change');
    r.removeLink('', 5);
    assert.equal(g.getNode(n.id), undefined);
  });

  it('merges an OVS internal interface into its netlink node, whichever comes first', () => {
    for (const order of ['link-first', 'ovs-first']) {
      const { g, r, remaps } = setup();
      if (order === 'link-first') r.upsertLink(link('', 5, 'int0'));
      r.upsertOvs(ovs('u1', 'int0', 'internal'));
      if (order === 'ovs-first') {
        assert.ok(r.isOvsOnly('u1'), 'own node while no kernel device is known');
        r.upsertLink(link('', 5, 'int0'));
      }
      const n = r.linkNode('', 5)!;
      assert.equal(r.ovsNode('u1'), n, order);
      assert.equal(r.isOvsOnly('u1'), false);
      assert.equal(g.nodeCount, 1, `${order}: one node`);
      assert.equal(n.metadata.Type, 'internal', 'OVS type wins');
      assert.equal(n.metadata.Driver, 'openvswitch');
      assert.equal(n.metadata.MAC, '02:00:00:00:00:01', 'kernel MAC wins');
      assert.equal(n.metadata.IfIndex, 5, 'kernel ifindex wins');
      assert.equal(n.metadata.UUID, 'u1');
      assert.equal(n.metadata.TID, genID(`${HOST_TID}int0internal`));
      assert.ok(remaps() >= 1);
    }
  });

  it('keeps the kernel Type and Driver of a system port', () => {
    const { r } = setup();
    r.upsertLink(link('', 6, 'veth0', { Type: 'veth', Driver: 'veth' }));
    r.upsertOvs(ovs('u2', 'veth0', '', { Driver: 'veth' }));
    const n = r.linkNode('', 6)!;
    assert.equal(n.metadata.Type, 'veth');
    assert.equal(n.metadata.Driver, 'veth');
    assert.equal(n.metadata.UUID, 'u2');
    r.removeOvs('u2');
    assert.equal(n.metadata.UUID, undefined, 'OVS keys leave with the OVS interface');
    assert.equal(n.metadata.Ovs, undefined);
    assert.equal(n.metadata.Type, 'veth');
  });

  it('follows an OVS interface moved to another namespace', () => {
    const { g, r } = setup();
    r.upsertLink(link('', 5, 'int0'));
    r.upsertOvs(ovs('u1', 'int0', 'internal'));
    // the new namespace may report the interface before the old one reports it gone
    r.upsertLink(link('/run/netns/a', 5, 'int0'));
    r.removeLink('', 5);
    const moved = r.linkNode('/run/netns/a', 5)!;
    assert.equal(r.ovsNode('u1'), moved);
    assert.equal(moved.metadata.Type, 'internal');
    assert.equal(moved.metadata.TID, genID(`${NS_TID}int0internal`));
    assert.equal([...g.lookupNodes({ Name: 'int0' })].length, 1);
  });

  it('gives OVS-only interfaces (patch, tunnels) their own node and removes it with them', () => {
    const { g, r } = setup();
    const n = r.upsertOvs(ovs('u3', 'gre0', 'gre', { RemoteIP: '10.0.0.1' }));
    assert.equal(n.id, genID('h', 'ovs-interface', 'u3'));
    assert.equal(n.metadata.MAC, '0a:00:00:00:00:09');
    assert.equal(n.metadata.TID, genID(`${BR_TID}gre0gre`));
    r.upsertLink(link('', 9, 'gre0'));
    assert.equal(r.ovsNode('u3'), n, 'a kernel device of the same name does not capture a tunnel');
    r.removeOvs('u3');
    assert.equal(g.getNode(n.id), undefined);
  });

  it('releases the OVS part when the kernel interface is renamed away', () => {
    const { r } = setup();
    r.upsertLink(link('', 5, 'int0'));
    r.upsertOvs(ovs('u1', 'int0', 'internal'));
    r.upsertLink(link('', 5, 'other'));
    assert.equal(r.linkNode('', 5)!.metadata.UUID, undefined);
    assert.equal(r.linkNode('', 5)!.metadata.Type, 'tap');
    assert.ok(r.isOvsOnly('u1'));
  });
});
