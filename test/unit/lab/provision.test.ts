import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parseSshConfig } from '../../../src/lab/providers/vagrant.js';
import { REPO_ROOT } from '../../helpers/shared.js';

/** What the datapath wrapper passes to the real ovs-vsctl (here `echo`). */
function wrapped(...args: string[]): string {
  return execFileSync(join(REPO_ROOT, 'provision', 'ovs-vsctl-netdev'), args, { env: { ...process.env, OVS_VSCTL_REAL: '/bin/echo' }, encoding: 'utf8' }).trim();
}

describe('provisioning helpers', () => {
  it('ovs-vsctl wrapper gives bridges made by add-br datapath_type=netdev', () => {
    assert.equal(wrapped('add-br', 'br0'), 'add-br br0 -- set bridge br0 datapath_type=netdev');
    assert.equal(wrapped('--may-exist', 'add-br', 'br0'), '--may-exist add-br br0 -- set bridge br0 datapath_type=netdev');
    assert.equal(wrapped('-t', '5', 'add-br', 'br0', '--', 'add-br', 'br1'), '-t 5 add-br br0 -- add-br br1 -- set bridge br0 datapath_type=netdev -- set bridge br1 datapath_type=netdev');
  });

  it('ovs-vsctl wrapper leaves other commands, fake bridges and explicit datapaths alone', () => {
    assert.equal(wrapped('add-port', 'br0', 'gre0', '--', 'set', 'interface', 'gre0', 'type=gre', 'options:remote_ip=192.168.50.30'), 'add-port br0 gre0 -- set interface gre0 type=gre options:remote_ip=192.168.50.30');
    assert.equal(wrapped('add-br', 'br0.10', 'br0', '10'), 'add-br br0.10 br0 10');
    assert.equal(wrapped('add-br', 'br0', '--', 'set', 'bridge', 'br0', 'datapath_type=system'), 'add-br br0 -- set bridge br0 datapath_type=system');
    assert.equal(wrapped('show'), 'show');
  });

  it('reads vagrant ssh-config', () => {
    const m = parseSshConfig(`Host analyzer
  HostName 192.168.121.10
  User vagrant
  Port 22
  UserKnownHostsFile /dev/null
  IdentityFile /work/.vagrant/machines/analyzer/libvirt/private_key
  IdentitiesOnly yes

Host agent1
  HostName 127.0.0.1
  User vagrant
  Port 2200
  IdentityFile "/home/u/.vagrant.d/insecure_private_key"
`);
    assert.deepEqual(m.get('analyzer'), { host: '192.168.121.10', port: 22, user: 'vagrant', privateKeyPath: '/work/.vagrant/machines/analyzer/libvirt/private_key' });
    assert.deepEqual(m.get('agent1'), { host: '127.0.0.1', port: 2200, user: 'vagrant', privateKeyPath: '/home/u/.vagrant.d/insecure_private_key' });
  });
});
