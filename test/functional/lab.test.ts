import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SshConnection } from '../../src/lab/ssh.js';
import type { SshEndpoint } from '../../src/lab/state.js';
import { Cleanup, sh } from '../helpers/sh.js';
import { REPO_ROOT, SKYDIVE_BIN } from '../helpers/shared.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The netns lab for real: three hosts (namespaces + sshd + their own OVS), provisioned over SSH with provision/,
 * the walkthrough's commands verbatim, a GRE tunnel between the agents, scenarios and JUnit, then lab down
 * leaving nothing behind, also after a crashed lab up. Names (lab "tlab"/"tcrash", management 10.250.24x.0/24,
 * state in a temp dir) are this file's own.
 */

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const stateRoot = mkdtempSync(join(tmpdir(), 'skydive-labtest-'));
// the lab files go with the test process; a lab state directory left means a failed lab down: kept for the next one
process.on('exit', () => {
  if (!readdirSync(stateRoot, { withFileTypes: true }).some((e) => e.isDirectory())) rmSync(stateRoot, { recursive: true, force: true });
});
const env = { ...process.env, SKYDIVE_LAB_STATE_DIR: stateRoot };

function cli(args: string[], timeoutMs = 240000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(SKYDIVE_BIN, args, { env, timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as unknown as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function writeLab(name: string, mgmt: string): string {
  const file = join(stateRoot, `${name}.yaml`);
  const base = readFileSync(join(REPO_ROOT, 'src', 'lab', 'default-lab.yaml'), 'utf8');
  writeFileSync(file, base.replace('name: skydive', `name: ${name}`).replace('subnet: 10.250.0.0/24', `subnet: ${mgmt}`));
  return file;
}

function pidNamespaces(name: string): string[] {
  const st = JSON.parse(readFileSync(join(stateRoot, name, 'state.json'), 'utf8')) as { resources: Array<{ kind: string; pidns?: string }> };
  return st.resources.filter((r) => r.kind === 'process' && r.pidns).map((r) => r.pidns!);
}

function processesIn(pidns: string[]): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (pidns.includes(readlinkSync(`/proc/${e}/ns/pid`)) && !readFileSync(`/proc/${e}/stat`, 'utf8').includes(') Z ')) out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out;
}

async function assertNothingLeft(name: string, pidns: string[]): Promise<void> {
  const netns = (await sh('ip netns list')).split('\n').filter((l) => l.startsWith(`${name}-`));
  assert.deepEqual(netns, [], 'network namespaces left');
  const links = (await sh('ip -o link show')).split('\n').filter((l) => l.includes(` ${name}-m`));
  assert.deepEqual(links, [], 'links left');
  assert.deepEqual(processesIn(pidns), [], 'processes left');
  assert.equal(existsSync(join(stateRoot, name)), false, 'state directory left');
}

describe('lab (netns provider)', function () {
  this.timeout(300000);
  const cleanup = new Cleanup();
  const labFile = writeLab('tlab', '10.250.240.0/24');
  let up: Run;
  let pidns: string[] = [];
  let services: Record<string, Record<string, string>> = {};

  const conns = new Map<string, SshConnection>();
  /** A command on a lab host over SSH (direct ssh2 to the endpoint in state.json: faster than a CLI per command). */
  const ssh = async (host: string, command: string): Promise<Run> => {
    if (!conns.has(host)) {
      const st = JSON.parse(readFileSync(join(stateRoot, 'tlab', 'state.json'), 'utf8')) as { hosts: Array<{ name: string; ssh: SshEndpoint }> };
      conns.set(host, await SshConnection.open(st.hosts.find((h) => h.name === host)!.ssh));
    }
    return conns.get(host)!.exec(command, { timeoutMs: 60000 });
  };
  const labSsh = (host: string, command: string): Promise<Run> => cli(['lab', 'ssh', host, '--lab', labFile, '--', command], 60000);

  before(async () => {
    cleanup.add(() => cli(['lab', 'down', '--lab', labFile]));
    up = await cli(['lab', 'up', '--lab', labFile]);
    if (up.code !== 0) process.stderr.write(up.stdout + up.stderr);
    assert.equal(up.code, 0);
    pidns = pidNamespaces('tlab');
    services = JSON.parse(readFileSync(join(stateRoot, 'tlab', 'state.json'), 'utf8')).services;
  });
  after(async () => {
    for (const c of conns.values()) c.close();
    await cleanup.run();
  });

  it('brings up three hosts, provisioned step by step with the provision scripts', async () => {
    for (const h of ['analyzer', 'agent1', 'agent2']) {
      for (const step of ['host', 'sshd', 'base', 'install', 'ovs', 'config']) assert.match(up.stdout, new RegExp(`^\\[${h}\\] ${step}: .*\\(\\d+\\.\\d s\\)$`, 'm'));
    }
    assert.match(up.stdout, /^\[agent1\] ovs: ovs running, 192\.168\.50\.20\/24 on br-phy \(eth1\), datapath netdev/m);
    assert.equal(pidns.length, 3);
    assert.ok(existsSync(join(stateRoot, 'tlab', 'lab.log')));
    assert.match(readFileSync(join(stateRoot, 'tlab', 'lab.log'), 'utf8'), /"step":"ovs"/);
  });

  it('lab status --json lists every host and the analyzer API address', async () => {
    const r = await cli(['lab', 'status', '--json', '--lab', labFile]);
    assert.equal(r.code, 0);
    const st = JSON.parse(r.stdout);
    assert.deepEqual(
      st.hosts.map((h: { name: string; role: string; address: string; ssh: string }) => [h.name, h.role, h.address, h.ssh]),
      [
        ['analyzer', 'analyzer', '192.168.50.10', 'root@10.250.240.2:22'],
        ['agent1', 'agent', '192.168.50.20', 'root@10.250.240.6:22'],
        ['agent2', 'agent', '192.168.50.30', 'root@10.250.240.10:22'],
      ],
    );
    assert.equal(st.analyzer.api, '10.250.240.2:8082');
  });

  it('each host has its own hostname, configuration and Open vSwitch', async () => {
    const ids = new Set<string>();
    for (const h of ['analyzer', 'agent1', 'agent2']) {
      assert.equal((await ssh(h, 'hostname')).stdout.trim(), h);
      const conf = await ssh(h, 'cat /etc/skydive/skydive.yml');
      assert.match(conf.stdout, new RegExp(`^host_id: ${h}$`, 'm'));
      assert.match(conf.stdout, /- 192\.168\.50\.10:8082/);
      assert.equal((await ssh(h, 'sudo ovs-vsctl br-exists br-phy')).code, 0);
      ids.add((await ssh(h, 'sudo ovs-vsctl get Open_vSwitch . _uuid')).stdout.trim());
    }
    assert.equal(ids.size, 3, 'one ovsdb per host');
    assert.match((await ssh('analyzer', 'cat /etc/skydive/skydive.yml')).stdout, /- TOR1_PORT2 -> \*\[Type=host, Name=agent2\]\/eth1/);
    assert.ok(!['analyzer', 'agent1', 'agent2'].includes(hostname()), "this machine's hostname is untouched");
  });

  it('lab ssh runs one command and exits with its status; namespaces stay on their host', async () => {
    assert.equal((await labSsh('agent1', 'exit 7')).code, 7);
    const hn = await labSsh('agent2', 'hostname');
    assert.deepEqual([hn.code, hn.stdout], [0, 'agent2\n']);
    assert.equal((await labSsh('agent1', 'ip netns add tlab-x')).code, 0);
    assert.match((await ssh('agent1', 'ip netns list')).stdout, /^tlab-x\b/m);
    assert.doesNotMatch((await ssh('agent2', 'ip netns list')).stdout, /tlab-x/);
    assert.doesNotMatch(await sh('ip netns list'), /^tlab-x\b/m);
    assert.equal((await ssh('agent1', 'ip netns del tlab-x')).code, 0);
    const bad = await cli(['lab', 'ssh', 'agent9', '--lab', labFile, '--', 'true']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /no host "agent9" in lab tlab/);
  });

  it('runs the walkthrough commands verbatim: br0 gets datapath netdev, ns1 pings ns2 through GRE', async () => {
    const walk = (i: number, peer: string) => [
      `sudo ip netns add ns${i}`,
      `sudo ip link add ns${i}-eth0 type veth peer name eth0 netns ns${i}`,
      `sudo ip link set ns${i}-eth0 up`,
      `sudo ip netns exec ns${i} ip link set eth0 up`,
      `sudo ip netns exec ns${i} ip address add 192.168.0.${i}/24 dev eth0`,
      'sudo ovs-vsctl add-br br0',
      `sudo ovs-vsctl add-port br0 ns${i}-eth0`,
      `sudo ovs-vsctl add-port br0 gre0 -- set interface gre0 type=gre options:remote_ip=${peer}`,
    ];
    cleanup.add(() => ssh('agent1', 'sudo ovs-vsctl --if-exists del-br br0; sudo ip netns del ns1'));
    cleanup.add(() => ssh('agent2', 'sudo ovs-vsctl --if-exists del-br br0; sudo ip netns del ns2'));
    for (const [host, cmds] of [
      ['agent1', walk(1, '192.168.50.30')],
      ['agent2', walk(2, '192.168.50.20')],
    ] as const) {
      for (const c of cmds) assert.equal((await ssh(host, c)).code, 0, `${host}: ${c}`);
    }
    assert.equal((await ssh('agent1', 'sudo ovs-vsctl get bridge br0 datapath_type')).stdout.trim(), 'netdev');
    assert.equal((await ssh('agent2', 'ip link show br0')).code, 0, 'the bridge datapath exists');
    await waitFor(() => ssh('agent1', 'sudo ip netns exec ns1 ping -c 1 -W 1 192.168.0.2'), (r) => r.code === 0, { timeout: 20000, interval: 500, what: 'ns1 to ping ns2 through the GRE tunnel' });
    await ssh('agent1', 'sudo ovs-vsctl --if-exists del-br br0; sudo ip netns del ns1');
    await ssh('agent2', 'sudo ovs-vsctl --if-exists del-br br0; sudo ip netns del ns2');
  });

  it("the analyzer's /api/status lists both agents", async () => {
    assert.equal(services.analyzer?.analyzer, 'running');
    const res = await fetch('http://10.250.240.2:8082/api/status');
    const status = (await res.json()) as { Agents: Record<string, { IsConnected: boolean }> };
    assert.deepEqual(Object.keys(status.Agents).sort(), ['agent1', 'agent2']);
    assert.ok(Object.values(status.Agents).every((a) => a.IsConnected));
  });

  it('runs topology.yaml green and writes its JUnit report', async () => {
    const junit = join(stateRoot, 'topology.xml');
    const r = await cli(['lab', 'run', '--lab', labFile, '--junit', junit, join(REPO_ROOT, 'scenarios', 'topology.yaml')]);
    if (r.code !== 0) process.stderr.write(r.stdout + r.stderr);
    assert.equal(r.code, 0);
    const xml = readFileSync(junit, 'utf8');
    assert.match(xml, /<testsuite name="topology" [^>]*failures="0" errors="0"/);
    assert.match(xml, /<testcase classname="topology" name="setup agent1"/);
    assert.match(xml, /<testsuite name="topology" [^>]*skipped="0"/);
    assert.match(r.stdout, /^ {2}PASS {2}check port1 is linked to agent1 eth1/m);
  });

  it('runs the walkthrough scenario gre-tunnel.yaml green: GRE flow, ICMP children by ParentUUID, same TrackingID', async () => {
    const st = JSON.parse((await cli(['lab', 'status', '--json', '--lab', labFile])).stdout) as { capabilities: { capture: boolean; injection: boolean } };
    assert.deepEqual(st.capabilities, { ...st.capabilities, capture: true, injection: true }, 'the analyzer serves captures and injection');
    const r = await cli(['lab', 'run', '--lab', labFile, join(REPO_ROOT, 'scenarios', 'gre-tunnel.yaml')]);
    if (r.code !== 0) process.stderr.write(r.stdout + r.stderr);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^ {2}PASS {2}check GRE flow on agent1 eth1 .*LayersPath="Ethernet\/IPv4\/GRE"/m);
    assert.match(r.stdout, /^ {2}PASS {2}check ICMP flows are children of the GRE flow .*each a child of one of/m);
    assert.match(r.stdout, /^ {2}PASS {2}check same ICMP flow on both bridges .*TrackingID \w+ seen by all 2 queries/m);
    assert.match(r.stdout, /^PASSED gre-tunnel: \d+ passed, 0 failed, 0 errors, 0 skipped/m);
  });

  for (const name of ['vxlan-tunnel', 'geneve-tunnel']) {
    it(`runs ${name}.yaml green: tunnel flow on eth1 with the ICMP flows as its children`, async () => {
      const r = await cli(['lab', 'run', '--lab', labFile, join(REPO_ROOT, 'scenarios', `${name}.yaml`)]);
      if (r.code !== 0) process.stderr.write(r.stdout + r.stderr);
      assert.equal(r.code, 0);
      assert.match(r.stdout, new RegExp(`^PASSED ${name}: \\d+ passed, 0 failed, 0 errors, 0 skipped`, 'm'));
    });
  }

  it('lab run fails on a failing check, naming the scenario line, and still tears down', async () => {
    const file = join(stateRoot, 'failing.yaml');
    writeFileSync(
      file,
      `name: failing
setup:
  - host: agent2
    run: [sudo ip netns add tlab-fail]
checks:
  - name: never true
    timeout: 1s
    command:
      host: agent2
      run: ip netns list | grep -q nothing-here
teardown:
  - host: agent2
    run: [sudo ip netns del tlab-fail]
`,
    );
    const junit = join(stateRoot, 'failing.xml');
    const r = await cli(['lab', 'run', '--lab', labFile, '--junit', junit, file]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /FAIL {2}check never true \(\d+\.\d s\): .*failing\.yaml:6: exit status 1 on agent2/);
    assert.match(readFileSync(junit, 'utf8'), /<failure message="[^"]*failing\.yaml:6: exit status 1 on agent2/);
    assert.doesNotMatch((await ssh('agent2', 'ip netns list')).stdout, /tlab-fail/);
    const invalid = await cli(['lab', 'run', '--lab', labFile, join(REPO_ROOT, 'src', 'lab', 'default-lab.yaml')]);
    assert.equal(invalid.code, 2);
    assert.match(invalid.stderr, /default-lab\.yaml:\d+: /);
  });

  it('lab up again reuses the running hosts', async () => {
    const again = await cli(['lab', 'up', '--lab', labFile]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /hosts already running, provisioning them again/);
    assert.deepEqual(pidNamespaces('tlab'), pidns, 'same hosts');
  });

  it('lab down leaves nothing behind', async () => {
    const r = await cli(['lab', 'down', '--lab', labFile]);
    assert.equal(r.code, 0, r.stderr);
    await assertNothingLeft('tlab', pidns);
    assert.equal((await cli(['lab', 'down', '--lab', labFile])).stdout, 'no lab to remove\n');
  });
});

describe('lab down after a crashed lab up', function () {
  this.timeout(120000);
  const labFile = writeLab('tcrash', '10.250.241.0/24');
  after(() => cli(['lab', 'down', '--lab', labFile]));

  it('removes the hosts a killed lab up had created', async () => {
    const child = spawn(SKYDIVE_BIN, ['lab', 'up', '--lab', labFile], { env, stdio: 'ignore' });
    const stateFile = join(stateRoot, 'tcrash', 'state.json');
    await waitFor(
      () => (existsSync(stateFile) ? pidNamespaces('tcrash').length : 0),
      (n) => n >= 2,
      { timeout: 60000, what: 'lab up to start two hosts' },
    );
    child.kill('SIGKILL');
    const pidns = pidNamespaces('tcrash');
    assert.ok(processesIn(pidns).length > 0, 'hosts running after the crash');
    const r = await cli(['lab', 'down', '--lab', labFile]);
    assert.equal(r.code, 0, r.stderr);
    await assertNothingLeft('tcrash', pidns);
  });
});
