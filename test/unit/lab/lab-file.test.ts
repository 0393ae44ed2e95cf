import assert from 'node:assert/strict';
import { fabricRules } from '../../../src/lab/fabric.js';
import { labFromSource, loadLabFile, type LabDefinition } from '../../../src/lab/lab-file.js';
import { skydiveConfig } from '../../../src/lab/skydive-config.js';
import { parseYamlSource } from '../../../src/lab/yaml-source.js';

function lab(text: string): LabDefinition {
  return labFromSource(parseYamlSource('lab.yaml', text, 'SKYDIVE_LAB_FILE_INVALID'), '/tmp/lab.yaml');
}

function labError(text: string): string {
  try {
    lab(text);
  } catch (err) {
    assert.equal((err as { code?: string }).code, 'SKYDIVE_LAB_FILE_INVALID');
    return (err as Error).message;
  }
  assert.fail('expected the lab file to be rejected');
}

const HOSTS = `hosts:
  - name: analyzer
    roles: [analyzer]
    address: 192.168.50.10
  - name: agent1
    roles: [agent]
    address: 192.168.50.20
`;

describe('lab file', () => {
  it('the shipped default lab is the walkthrough: analyzer .10, agent1 .20, agent2 .30 on eth1', () => {
    const l = loadLabFile();
    assert.equal(l.name, 'skydive');
    assert.equal(l.provider, 'netns');
    assert.deepEqual(
      l.hosts.map((h) => [h.name, h.roles.join(','), h.address]),
      [
        ['analyzer', 'analyzer', '192.168.50.10'],
        ['agent1', 'agent', '192.168.50.20'],
        ['agent2', 'agent', '192.168.50.30'],
      ],
    );
    assert.equal(l.network.interface, 'eth1');
    assert.equal(l.network.prefix, 24);
    assert.equal(l.ovs.datapath, 'netdev');
  });

  it('fills defaults for a minimal file', () => {
    const l = lab(HOSTS);
    assert.equal(l.management.subnet, '10.250.0.0/24');
    assert.equal(l.analyzer.port, 8082);
    assert.deepEqual(l.agent.probes, ['ovsdb']);
    assert.equal(lab(`provider: vagrant\n${HOSTS}`).ovs.datapath, 'system');
  });

  it('names file, line and key of an unknown key', () => {
    const msg = labError(`${HOSTS}    adress: 192.168.50.21\n`);
    assert.match(msg, /^lab\.yaml:8: hosts\[1\]\.adress: unknown key$/);
  });

  it('names file, line and key of a bad value', () => {
    assert.match(labError(HOSTS.replace('192.168.50.20', '192.168.500.20')), /^lab\.yaml:7: hosts\[1\]\.address: "192\.168\.500\.20" is not valid \(an IPv4 address/);
    assert.match(labError(HOSTS.replace('[agent]', '[agnet]')), /^lab\.yaml:6: hosts\[1\]\.roles\[0\]: must be one of "analyzer", "agent"$/);
    assert.match(labError(`name: Skydive-Lab\n${HOSTS}`), /^lab\.yaml:1: name: "Skydive-Lab" is not valid/);
  });

  it('reports a missing key at its parent', () => {
    assert.match(labError(HOSTS.replace('    address: 192.168.50.20\n', '')), /^lab\.yaml:5: hosts\[1\]: missing required key "address"$/);
  });

  it('checks the address plan and roles', () => {
    assert.match(labError(HOSTS.replace('192.168.50.20', '192.168.50.10')), /lab\.yaml:7: hosts\[1\]\.address: 192\.168\.50\.10 is already used by hosts\[0\]/);
    assert.match(labError(HOSTS.replace('192.168.50.20', '10.0.0.20')), /lab\.yaml:7: hosts\[1\]\.address: 10\.0\.0\.20 is not inside network\.subnet 192\.168\.50\.0\/24/);
    assert.match(labError(HOSTS.replace('[analyzer]', '[agent]')), /hosts: exactly one host must have the role "analyzer" \(found 0\)/);
    assert.match(labError(HOSTS.replace('name: agent1', 'name: analyzer')), /lab\.yaml:5: hosts\[1\]\.name: host "analyzer" is already defined/);
    assert.match(labError(`management:\n  subnet: 192.168.48.0/22\n${HOSTS}`), /lab\.yaml:2: management\.subnet: overlaps network\.subnet/);
    assert.match(labError(`management:\n  subnet: 10.250.0.0/30\n${HOSTS}`), /room for 1 hosts/);
    assert.match(labError(`ovs:\n  datapath: system\n${HOSTS}`), /lab\.yaml:2: ovs\.datapath: the netns provider shares this kernel/);
  });

  it('lists several problems in one line', () => {
    const msg = labError(HOSTS.replace('192.168.50.20', 'x').replace('[agent]', '[bad]'));
    assert.match(msg, /^2 problems: lab\.yaml:6: .*; lab\.yaml:7: /);
    assert.ok(!msg.includes('\n'));
  });

  it('reports YAML syntax errors with their line', () => {
    assert.match(labError('hosts:\n  - name: [a\n    roles: x\n'), /^lab\.yaml:\d+: YAML syntax error: /);
    assert.match(labError('- a\n- b\n'), /^lab\.yaml:1: \(top level\): a lab file is a mapping/);
  });

  it('names a missing file', () => {
    assert.throws(() => loadLabFile('/nonexistent/lab.yaml'), /cannot read \/nonexistent\/lab\.yaml: ENOENT/);
  });
});

describe('fabric rules and host configuration', () => {
  it('generates the walkthrough rules, one TOR port per agent, in file order', () => {
    assert.deepEqual(fabricRules(loadLabFile()), [
      'TOR1[Name=tor1] -> TOR1_PORT1[Name=port1, MTU=1500]',
      'TOR1_PORT1 -> *[Type=host, Name=agent1]/eth1',
      'TOR1[Name=tor1] -> TOR1_PORT2[Name=port2, MTU=1500]',
      'TOR1_PORT2 -> *[Type=host, Name=agent2]/eth1',
    ]);
  });

  it('follows the lab file: switch name, MTU, interface, agents', () => {
    const l = lab(`network:\n  interface: ens4\nfabric:\n  tor: SW9\n  mtu: 9000\n${HOSTS.replace('[analyzer]', '[analyzer, agent]')}`);
    assert.deepEqual(fabricRules(l), [
      'SW9[Name=sw9] -> SW9_PORT1[Name=port1, MTU=9000]',
      'SW9_PORT1 -> *[Type=host, Name=analyzer]/ens4',
      'SW9[Name=sw9] -> SW9_PORT2[Name=port2, MTU=9000]',
      'SW9_PORT2 -> *[Type=host, Name=agent1]/ens4',
    ]);
  });

  it('writes the original keys per role, with the lab file overrides merged last', () => {
    const l = loadLabFile();
    const a = skydiveConfig(l, l.hosts[0]) as Record<string, any>;
    assert.equal(a.host_id, 'analyzer');
    assert.deepEqual(a.analyzers, ['192.168.50.10:8082']);
    assert.equal(a.analyzer.listen, '0.0.0.0:8082');
    assert.deepEqual(a.analyzer.topology.fabric, fabricRules(l));
    assert.equal(a.agent, undefined);
    assert.deepEqual(a.flow, { protocol: 'udp', update: 10, expire: 600 });
    const g = skydiveConfig(l, l.hosts[1]) as Record<string, any>;
    assert.equal(g.host_id, 'agent1');
    assert.deepEqual(g.analyzers, ['192.168.50.10:8082']);
    assert.deepEqual(g.agent, { listen: '0.0.0.0:8081', topology: { probes: ['ovsdb'] } });
    assert.equal(g.ovs.ovsdb, 'unix:///var/run/openvswitch/db.sock');
    assert.equal(g.analyzer, undefined);
  });
});
