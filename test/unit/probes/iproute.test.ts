import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { IpBatch, IpMonitor } from '../../../src/probes/topology/ip-process.js';
import {
  metricDelta,
  normalizePrefix,
  parseAddresses,
  parseIpOutput,
  parseLinks,
  parseNeighbors,
  parseNsids,
  parseRoutes,
} from '../../../src/probes/topology/iproute-json.js';
import { Cleanup, sh } from '../../helpers/sh.js';
import { waitFor } from '../../helpers/wait.js';

/**
 * The parsers run on `ip -json` outputs read live (through the same `ip -batch` process the probe uses) from
 * namespaces this file builds: names prefixed upj-.
 */
const NS1 = 'upj-ns1';
const NS2 = 'upj-ns2';
const P1 = `/var/run/netns/${NS1}`;

describe('iproute2 JSON parsing (live kernel objects)', function () {
  this.timeout(30000);
  const cleanup = new Cleanup();
  let batch: IpBatch;
  let batch2: IpBatch;

  before(async () => {
    cleanup.add(`ip netns del ${NS1} 2>/dev/null`);
    cleanup.add(`ip netns del ${NS2} 2>/dev/null`);
    await sh(`ip netns add ${NS1} && ip netns add ${NS2}`);
    const x = `ip -n ${NS1}`;
    await sh(
      [
        `${x} link set lo up`,
        `${x} link add upj-a type veth peer name upj-b`,
        `${x} link add upj-c type veth peer name upj-d netns ${NS2}`,
        `${x} link add upj-br type bridge`,
        `${x} tuntap add mode tap dev upj-tap`,
        `${x} link set upj-tap master upj-br`,
        `${x} addr add 10.231.0.1/24 dev upj-a`,
        `${x} addr add fd00:231::1/64 dev upj-a`,
        `${x} link set upj-a up`,
        `${x} link set upj-b up`,
        `${x} route add 10.232.0.0/24 via 10.231.0.42 table 2`,
        `${x} route add default via 10.231.0.254`,
        `${x} neigh add 10.231.0.252 dev upj-a lladdr a6:d1:a0:51:03:49`,
      ].join(' && '),
    );
    batch = new IpBatch(P1);
    batch2 = new IpBatch(`/var/run/netns/${NS2}`);
    cleanup.add(() => batch.close());
    cleanup.add(() => batch2.close());
  });
  after(() => cleanup.run());

  async function read(cmd: string, b = batch) {
    return parseIpOutput(await b.run(cmd));
  }

  it('reads links: kinds, tap mode, master, same-namespace and foreign veth peers, counters', async () => {
    const links = parseLinks(await read('link show'));
    const by = new Map(links.map((l) => [l.name, l]));
    assert.deepEqual([...by.keys()].sort(), ['lo', 'upj-a', 'upj-b', 'upj-br', 'upj-c', 'upj-tap']);
    const lo = by.get('lo')!;
    assert.equal(lo.kind, undefined);
    assert.equal(lo.linkType, 'loopback');
    assert.ok(lo.flags.includes('LOOPBACK') && lo.flags.includes('UP'));
    const a = by.get('upj-a')!;
    assert.equal(a.kind, 'veth');
    assert.equal(a.link, 'upj-b', 'same-namespace peer given by name');
    assert.equal(a.linkNetnsid, undefined);
    assert.match(a.mac!, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    assert.equal(a.mtu, 1500);
    assert.equal(a.linkType, 'ether');
    const c = by.get('upj-c')!;
    assert.equal(typeof c.linkIndex, 'number', 'foreign peer given by index');
    assert.equal(typeof c.linkNetnsid, 'number');
    const tap = by.get('upj-tap')!;
    assert.equal(tap.kind, 'tun');
    assert.equal(tap.tunMode, 'tap');
    assert.equal(tap.master, 'upj-br');
    assert.equal(by.get('upj-br')!.kind, 'bridge');
    assert.equal(typeof lo.stats?.RxPackets, 'number');

    const peer = parseLinks(await read('link show', batch2)).find((l) => l.name === 'upj-d')!;
    assert.equal(peer.linkIndex, c.ifindex, 'the two ends point at each other');
    assert.equal(c.linkIndex, peer.ifindex);
    const names = parseNsids(await read('netns list-id'));
    assert.equal(names.get(c.linkNetnsid!), NS2, 'nsid of the peer namespace resolves to its name');
  });

  it('reads addresses as CIDR lists per interface', async () => {
    const links = parseLinks(await read('link show'));
    const a = links.find((l) => l.name === 'upj-a')!;
    const addrs = parseAddresses(await read('addr show'));
    assert.deepEqual(addrs.get(a.ifindex)!.IPV4, ['10.231.0.1/24']);
    assert.ok(addrs.get(a.ifindex)!.IPV6.includes('fd00:231::1/64'));
    assert.deepEqual(addrs.get(links.find((l) => l.name === 'lo')!.ifindex), { IPV4: ['127.0.0.1/8'], IPV6: ['::1/128'] });
  });

  it('reads routing tables of every table and family, grouped per output interface', async () => {
    const links = parseLinks(await read('link show'));
    const idx = new Map(links.map((l) => [l.name, l.ifindex]));
    const a = idx.get('upj-a')!;
    const rts = parseRoutes(await read('route show table all'), (d) => idx.get(d)).get(a)!;
    assert.deepEqual(rts.map((t) => t.ID), [2, 254, 255], 'table 2, main, local, sorted');
    assert.deepEqual(rts[0], { ID: 2, Routes: [{ Protocol: 3, Prefix: '10.232.0.0/24', NextHops: [{ Priority: 0, IP: '10.231.0.42', IfIndex: a }] }] });
    const main = rts[1];
    assert.equal(main.Src, '10.231.0.1');
    assert.deepEqual(main.Routes.find((r) => r.Prefix === '0.0.0.0/0'), { Protocol: 3, Prefix: '0.0.0.0/0', NextHops: [{ Priority: 0, IP: '10.231.0.254', IfIndex: a }] });
    assert.deepEqual(main.Routes.find((r) => r.Prefix === '10.231.0.0/24')?.Protocol, 2, 'kernel route');
    assert.ok(main.Routes.some((r) => r.Prefix === 'fd00:231::/64' && r.NextHops[0].Priority === 256), 'IPv6 route with its metric');
    assert.ok(rts[2].Routes.some((r) => r.Prefix === '10.231.0.1/32'), 'local table, host route as /32');
  });

  it('reads neighbours with NUD states', async () => {
    const links = parseLinks(await read('link show'));
    const idx = new Map(links.map((l) => [l.name, l.ifindex]));
    const nb = parseNeighbors(await read('neigh show nud all'), (d) => idx.get(d)).get(idx.get('upj-a')!)!;
    assert.deepEqual(
      nb.find((n) => n.IP === '10.231.0.252'),
      { MAC: 'a6:d1:a0:51:03:49', IP: '10.231.0.252', State: ['NUD_PERMANENT'], IfIndex: idx.get('upj-a') },
    );
  });

  it('computes counter deltas', async () => {
    const before = parseLinks(await read('link show')).find((l) => l.name === 'lo')!.stats!;
    await sh(`ip netns exec ${NS1} ping -c 3 -i 0.05 -q 127.0.0.1`);
    const after = parseLinks(await read('link show')).find((l) => l.name === 'lo')!.stats!;
    const d = metricDelta(after, before)!;
    assert.ok(d.TxPackets >= 6 && d.RxPackets >= 6, `6 packets each way over lo, got ${d.TxPackets}/${d.RxPackets}`);
    assert.equal(metricDelta(after, after), undefined, 'no delta when nothing moved');
  });

  it('normalizes route prefixes', () => {
    assert.equal(normalizePrefix('default'), '0.0.0.0/0');
    assert.equal(normalizePrefix('default', 'fe80::1'), '::/0');
    assert.equal(normalizePrefix('10.0.0.1'), '10.0.0.1/32');
    assert.equal(normalizePrefix('fd00::1'), 'fd00::1/128');
    assert.equal(normalizePrefix('10.0.0.0/8'), '10.0.0.0/8');
  });
});

describe('ip child processes', function () {
  this.timeout(30000);
  const cleanup = new Cleanup();
  const NS = 'upj-ns3';
  before(async () => {
    cleanup.add(`ip netns del ${NS} 2>/dev/null`);
    await sh(`ip netns add ${NS}`);
  });
  after(() => cleanup.run());

  it('IpBatch reports a failed command and keeps serving the next ones', async () => {
    const b = new IpBatch(`/var/run/netns/${NS}`);
    cleanup.add(() => b.close());
    await assert.rejects(b.run('link show dev upj-nothere'), /upj-nothere/);
    const links = parseLinks(parseIpOutput(await b.run('link show')));
    assert.deepEqual(links.map((l) => l.name), ['lo']);
    b.close();
    await assert.rejects(b.run('link show'), /closed/);
  });

  it('IpMonitor is ready once subscribed and reports every change', async () => {
    const events: string[] = [];
    const m = new IpMonitor(`/var/run/netns/${NS}`, (l) => events.push(l), () => undefined);
    cleanup.add(() => m.close());
    m.start();
    assert.equal(await m.ready(), true);
    await sh(`ip -n ${NS} link add upj-m0 type veth peer name upj-m1`);
    await waitFor(() => events.filter((e) => e.startsWith('[LINK]') && e.includes('upj-m0')).length, (n) => n > 0, { what: 'link event', timeout: 5000 });
    await sh(`ip -n ${NS} addr add 10.233.0.1/24 dev upj-m0`);
    await waitFor(() => events.some((e) => e.startsWith('[ADDR]') && e.includes('10.233.0.1/24')), Boolean, { what: 'address event', timeout: 5000 });
    m.close();
  });

  it('ip children die with the agent even when it is killed without cleanup', async () => {
    const mod = new URL('../../../src/probes/topology/ip-process.js', import.meta.url).href;
    const script = `import { IpMonitor, IpBatch } from '${mod}';
      const m = new IpMonitor('/var/run/netns/${NS}', () => {}, () => {}); m.start(); await m.ready();
      await new IpBatch('/var/run/netns/${NS}').run('link show'); console.log('ready'); setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    cleanup.add(() => child.kill('SIGKILL'));
    await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()));
    const kids = (await sh(`pgrep -P ${child.pid}`)).trim().split('\n').filter(Boolean);
    assert.equal(kids.length, 2, 'monitor and batch');
    child.kill('SIGKILL');
    await waitFor(() => sh(`ps -o pid= -p ${kids.join(',')}`, { allowFail: true }), (out) => out.trim() === '', { what: 'ip children gone', timeout: 5000 });
  });
});
