import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { encodePcap } from '../../src/flow/pcap-writer.js';
import { buildFrame } from '../../src/injector/packet-builder.js';
import { startAllInOne, type AllInOne } from '../helpers/allinone.js';
import { waitFor } from '../helpers/wait.js';
import { SKYDIVE_BIN } from '../helpers/shared.js';
import { Cleanup, sh } from '../helpers/sh.js';
import { FlowsAPI, flowConfig, linuxBridge, vethNamespace, flowSuiteHooks } from './flows-support.js';
import { numericPredicateCases } from '../helpers/metric-predicates.js';

/**
 * Live captures (AF_PACKET through libpcap) on namespaces joined by a Linux bridge, driven through the analyzer's
 * REST API like the original's functional tests (lab.md §3.1 scenarios 4, 5, 8, 12, 21, 27): real kernels
 * answer the injected packets. Names start with fc- / fc (unique to this file).
 */
describe('live captures on veths and Linux bridges (allinone)', function () {
  this.timeout(120000);
  let cleanup: Cleanup;
  let aio: AllInOne;
  let api: FlowsAPI;
  flowSuiteHooks(
    () => flowConfig(),
    (a, p) => ((aio = a), (api = p)),
    (c) => (cleanup = c),
  );

  /** Two namespaces <p>-vm1 / <p>-vm2 with eth0 behind host veths <p>-vm1-eth0 / <p>-vm2-eth0 on Linux bridge br-<p>. */
  const vmIf = (p: string, vm: number) => `G.V().Has('Name', '${p}-vm${vm}', 'Type', 'netns').Out().Has('Name', 'eth0')`;
  async function twoVMs(p: string, ip1: string, ip2: string, extra: { v6?: [string, string] } = {}): Promise<void> {
    await vethNamespace(cleanup, `${p}-vm1-eth0`, 'eth0', `${p}-vm1`, [ip1, ...(extra.v6 ? [extra.v6[0]] : [])]);
    await vethNamespace(cleanup, `${p}-vm2-eth0`, 'eth0', `${p}-vm2`, [ip2, ...(extra.v6 ? [extra.v6[1]] : [])]);
    await linuxBridge(cleanup, `br-${p}`, [`${p}-vm1-eth0`, `${p}-vm2-eth0`]);
    // the tests name these interfaces in their queries: wait until the agent has reported all of them
    await api.waitList(`G.V().Has('Name', Within('${p}-vm1-eth0', '${p}-vm2-eth0'))`, (r) => r.length === 2);
    for (const vm of [1, 2]) await api.waitList(`${vmIf(p, vm)}.Has('IPV4')`, (r) => r.length === 1);
  }

  it('applies the capture BPF filter in the kernel: only the ICMP flow to the filtered host (TestBPF)', async () => {
    await twoVMs('fcbpf', '169.254.66.66/24', '169.254.66.67/24');
    await api.capture(cleanup, { GremlinQuery: "G.V().Has('Name', 'fcbpf-vm1-eth0')", BPFFilter: 'icmp and host 169.254.66.67' });
    await api.inject({ Src: vmIf('fcbpf', 1), Dst: vmIf('fcbpf', 2), Count: 5 });
    const [f] = await api.waitList("G.V().Has('Name', 'fcbpf-vm1-eth0').Flows()", (r) => r.length === 1 && r[0].Metric.BAPackets === 5);
    assert.equal(f.LayersPath, 'Ethernet/IPv4/ICMPv4');
    assert.equal(f.Metric.ABPackets, 5);
    // ARP went through the same interface but not through the filter
    assert.equal((await api.query("G.V().Has('Name', 'fcbpf-vm1-eth0').Flows().Has('Application', 'ARP')")).length, 0);
  });

  it('captures on a Linux bridge with the pcap type: flows carry the bridge TID (TestPCAPProbe)', async () => {
    await twoVMs('fcpp', '169.254.67.66/24', '169.254.67.67/24');
    const tid = await api.tid("G.V().Has('Name', 'br-fcpp', 'Type', 'bridge')");
    await api.capture(cleanup, { GremlinQuery: "G.V().Has('Name', 'br-fcpp', 'Type', 'bridge')", Type: 'pcap' });
    await api.inject({ Src: vmIf('fcpp', 1), Dst: vmIf('fcpp', 2), Count: 3 });
    const flows = await api.waitList(`G.Flows().Has('NodeTID', '${tid}', 'LayersPath', 'Ethernet/IPv4/ICMPv4')`, (r) => r.length >= 1);
    assert.equal(flows[0].NodeTID, tid);
    const [node] = await api.query(`G.Flows().Has('NodeTID', '${tid}').Limit(1).CaptureNode()`);
    assert.equal(node.Metadata.Name, 'br-fcpp');
    const [entry] = (await api.query("G.V().Has('Name', 'br-fcpp', 'Type', 'bridge').Values('Captures')"))[0];
    assert.equal(entry.Type, 'pcap');
    assert.equal(entry.State, 'active');
  });

  it('counts bytes and packets and answers metric predicates (TestFlowMetrics)', async () => {
    await twoVMs('fcfm', '169.254.68.33/24', '169.254.68.34/24');
    await api.capture(cleanup, { GremlinQuery: "G.V().Has('Name', 'fcfm-vm1-eth0')" });
    await api.inject({ Src: vmIf('fcfm', 1), Dst: vmIf('fcfm', 2), Count: 1, Payload: 'x'.repeat(1024) });
    const base = "G.V().Has('Name', 'fcfm-vm1-eth0').Flows().Has('LayersPath', Regex('.*ICMPv4.*'))";
    const [f] = await api.waitList(base, (r) => r.length === 1 && r[0].Metric.BAPackets === 1);
    assert.equal(f.LayersPath, 'Ethernet/IPv4/ICMPv4');
    assert.ok(f.Metric.ABBytes >= 1066 && f.Metric.BABytes >= 1066, JSON.stringify(f.Metric));
    assert.equal((await api.query(`${base}.Has('Metric.ABPackets', 1)`)).length, 1);
    const L = f.Metric.ABBytes as number;
    for (const [pred, hit] of numericPredicateCases(L)) {
      assert.equal((await api.query(`${base}.Has('Metric.ABBytes', ${pred})`)).length, hit ? 1 : 0, pred);
    }
    assert.equal((await api.query(`${base}.Has('Metric.RTT', Gt(0))`)).length, 1, 'the echo reply gave an RTT');
  });

  it('keeps ICMP ids apart, v4 and v6, unique and random modes (TestICMP)', async () => {
    await twoVMs('fcicmp', '10.10.0.1/24', '10.10.0.2/24', { v6: ['fd49:37c8:5229::1/48', 'fd49:37c8:5229::2/48'] });
    await api.capture(cleanup, { GremlinQuery: "G.V().Has('Name', 'fcicmp-vm1-eth0')" });
    // the interfaces' IPv6 addresses must be in the topology before they are used as injection ends
    await api.waitList(`${vmIf('fcicmp', 2)}.Has('IPV6', 'fd49:37c8:5229::2/48')`, 1);
    await api.inject({ Src: vmIf('fcicmp', 1), Dst: vmIf('fcicmp', 2), Count: 3, ICMPID: 123, Mode: 'random' });
    await api.inject({ Src: vmIf('fcicmp', 1), Dst: vmIf('fcicmp', 2), Count: 1, ICMPID: 456, Type: 'icmp6' });
    const flows = "G.V().Has('Name', 'fcicmp-vm1-eth0').Flows()";
    const [v4] = await api.waitList(`${flows}.Has('LayersPath', 'Ethernet/IPv4/ICMPv4', 'ICMP.ID', 123)`, 1);
    assert.equal((await api.query(`${flows}.Has('TrackingID', '${v4.TrackingID}')`)).length, 1);
    const [v6] = await api.waitList(`${flows}.Has('LayersPath', 'Ethernet/IPv6/ICMPv6/ICMPv6Echo', 'ICMP.ID', 456)`, 1);
    assert.equal((await api.query(`${flows}.Has('TrackingID', '${v6.TrackingID}')`)).length, 1);
    // random mode: the first packet keeps id 123, the two others get their own ids, hence their own flows
    await api.waitList(`${flows}.Has('LayersPath', 'Ethernet/IPv4/ICMPv4', 'ICMP.Type', 'ECHO')`, 3);
  });

  it('keeps the first raw packets of a flow and serves them as a pcap that tcpdump reads (TestRawPackets)', async () => {
    await twoVMs('fcrp', '169.254.122.66/24', '169.254.122.67/24');
    const tid = await api.tid("G.V().Has('Name', 'fcrp-vm1-eth0')");
    await api.capture(cleanup, { GremlinQuery: "G.V().Has('Name', 'fcrp-vm1-eth0')", Type: 'pcap', RawPacketLimit: 9 });
    await api.inject({ Src: vmIf('fcrp', 1), Dst: vmIf('fcrp', 2), Count: 2 });
    const q = `G.Flows().Has('NodeTID', '${tid}', 'LayersPath', 'Ethernet/IPv4/ICMPv4')`;
    const [f] = await api.waitList(q, (r) => r.length === 1 && r[0].RawPacketsCaptured === 4);
    assert.equal(f.Metric.ABPackets + f.Metric.BAPackets, 4);
    const dir = mkdtempSync(join(tmpdir(), 'fcrp-'));
    try {
      const count = async (gremlin: string): Promise<number> => {
        const res = await fetch(`http://${aio.analyzerAddr}/api/topology`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Accept: 'application/vnd.tcpdump.pcap' },
          body: JSON.stringify({ GremlinQuery: gremlin }),
        });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('content-type'), 'application/vnd.tcpdump.pcap');
        const file = join(dir, 'raw.pcap');
        writeFileSync(file, Buffer.from(await res.arrayBuffer()));
        const out = await sh(`tcpdump -nn -r ${file} 2>/dev/null`);
        return out.trim().split('\n').filter((l) => l.includes('ICMP echo')).length;
      };
      assert.equal(await count(`${q}.RawPackets()`), 4);
      assert.equal(await count(`${q}.RawPackets().BPF('icmp[icmptype] == 0')`), 2);
      const notPackets = await fetch(`http://${aio.analyzerAddr}/api/topology`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/vnd.tcpdump.pcap' },
        body: JSON.stringify({ GremlinQuery: q }),
      });
      assert.equal(notPackets.status, 406);
      // the same through the CLI, as users script it: `client query ... --format pcap > file`
      const cliFile = join(dir, 'cli.pcap');
      await sh(`${SKYDIVE_BIN} client query --analyzer ${aio.analyzerAddr} --format pcap "${q}.RawPackets()" > ${cliFile}`);
      const cliOut = await sh(`tcpdump -nn -r ${cliFile} 2>/dev/null`);
      assert.equal(cliOut.trim().split('\n').filter((l) => l.includes('ICMP echo')).length, 4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('makes one flow per TCP connection, both directions counted (TestFlowsHashCnx)', async () => {
    await vethNamespace(cleanup, 'fchash-src-e0', 'hash-src-eth0', 'fchash-src', ['169.254.107.33/24']);
    await vethNamespace(cleanup, 'fchash-dst-e0', 'hash-dst-eth0', 'fchash-dst', ['169.254.107.34/24']);
    await linuxBridge(cleanup, 'br-fchash', ['fchash-src-e0', 'fchash-dst-e0']);
    await api.capture(cleanup, { GremlinQuery: "G.V().Has('Name', 'hash-src-eth0')" });
    const src = "G.V().Has('Name', 'hash-src-eth0')";
    const dst = "G.V().Has('Name', 'hash-dst-eth0')";
    await api.inject({ Src: src, Dst: dst, Type: 'tcp4', SrcPort: 12345, DstPort: 54321, Count: 10, Interval: 50 });
    await api.inject({ Src: src, Dst: dst, Type: 'tcp4', SrcPort: 54321, DstPort: 12345, Count: 10, Interval: 50 });
    const flows = await api.waitList(
      "G.Flows().Has('Network', '169.254.107.33', 'LayersPath', 'Ethernet/IPv4/TCP').Dedup()",
      (r) => r.length === 2 && r.every((f) => f.Metric.ABPackets === 10 && f.Metric.BAPackets === 10),
    );
    const ports = flows.map((f) => [f.Transport.A, f.Transport.B]).sort();
    assert.deepEqual(ports, [
      [12345, 54321],
      [54321, 12345],
    ]);
  });

  it('reports injection errors to the caller', async () => {
    await twoVMs('fcerr', '169.254.69.1/24', '169.254.69.2/24');
    let res = await api.post('/api/injectpacket', { Src: "G.V().Has('Name', 'fcerr-nothing')", DstIP: '169.254.69.2', Type: 'icmp4' });
    assert.equal(res.status, 404);
    assert.match(res.body.message, /Src node not found/);
    res = await api.post('/api/injectpacket', { Src: "G.V().Has('Name', 'fcerr-vm1-eth0')", DstIP: '169.254.69.2', Type: 'icmp4' });
    assert.equal(res.status, 400);
    assert.match(res.body.message, /no IPv4 address/);
    res = await api.post('/api/injectpacket', { Src: vmIf('fcerr', 1), DstIP: '169.254.69.99', Type: 'icmp4' });
    assert.equal(res.status, 400);
    assert.match(res.body.message, /no ARP reply from 169\.254\.69\.99/);
    res = await api.post('/api/injectpacket', { Src: vmIf('fcerr', 1), DstIP: '169.254.69.2', Type: 'sctp4' });
    assert.equal(res.status, 400);
    assert.match(res.body.message, /Type must be one of/);
    // the next hop is resolved by the sender when there is no Dst node: the kernel of vm2 answers
    res = await api.post('/api/injectpacket', { Src: vmIf('fcerr', 1), DstIP: '169.254.69.2', Type: 'icmp4', ICMPID: 999 });
    assert.equal(res.status, 201, res.text);
  });

  it('streams flow updates of one capture on /ws/subscriber/flow (namespace flow/<CaptureID>)', async () => {
    await twoVMs('fcws', '169.254.72.1/24', '169.254.72.2/24');
    const id = await api.capture(cleanup, { GremlinQuery: "G.V().Has('Name', 'fcws-vm1-eth0')" });
    const received: any[] = [];
    const ws = new WebSocket(`ws://${aio.analyzerAddr}/ws/subscriber/flow`, { headers: { 'X-Websocket-Namespace': `flow/${id}` } });
    cleanup.add(() => ws.terminate());
    ws.on('message', (d) => received.push(JSON.parse(d.toString())));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    await api.inject({ Src: vmIf('fcws', 1), Dst: vmIf('fcws', 2), Count: 2 });
    const msg = await waitFor(
      () => received.find((m) => m.Obj.some((f: any) => f.LayersPath === 'Ethernet/IPv4/ICMPv4')),
      (m) => !!m,
      { what: 'a flow update on the WebSocket' },
    );
    assert.equal(msg.Namespace, `flow/${id}`);
    assert.equal(msg.Type, 'store');
    assert.ok(received.every((m) => m.Obj.every((f: any) => f.CaptureID === id)), 'only flows of that capture');
    const refused = await new Promise<number>((resolve, reject) => {
      const bad = new WebSocket(`ws://${aio.analyzerAddr}/ws/subscriber/flow`, { headers: { 'X-Websocket-Namespace': 'nope' } });
      bad.on('unexpected-response', (_req, r) => resolve(r.statusCode ?? 0));
      bad.on('open', () => reject(new Error('a bad namespace was accepted')));
      bad.on('error', () => undefined);
    });
    assert.equal(refused, 400);
  });

  it('turns a pcap body into flows (POST /api/pcap, 202)', async () => {
    const frames = [0, 1, 2].map((i) => ({
      data: buildFrame({ type: 'udp4', srcMAC: '02:00:00:00:aa:01', dstMAC: '02:00:00:00:aa:02', srcIP: '198.51.100.1', dstIP: '198.51.100.2', srcPort: 4000, dstPort: 53535, payload: Buffer.alloc(10 * i) }),
      tsMs: 1_600_000_000_000 + i,
    }));
    const res = await fetch(`http://${aio.analyzerAddr}/api/pcap`, { method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, body: encodePcap(frames) });
    assert.equal(res.status, 202);
    const [f] = await api.waitList("G.Flows().Has('Network', '198.51.100.1', 'Transport', 53535)", 1);
    assert.equal(f.Metric.ABPackets, 3);
    assert.equal(f.Start, 1_600_000_000_000);
    const garbage = await fetch(`http://${aio.analyzerAddr}/api/pcap`, { method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, body: Buffer.from('not a capture file') });
    assert.equal(garbage.status, 400);
    assert.match(((await garbage.json()) as { message: string }).message, /capture file/);
  });
});

describe('startup capture (analyzer.startup.capture_gremlin)', function () {
  this.timeout(120000);
  const cleanup = new Cleanup();
  after(() => cleanup.run());

  it('exists from the start and captures the node once it appears (TestStartupCapture)', async () => {
    const gremlin = "G.V().Has('Name', 'fcst-vm2', 'Type', 'netns').Out().Has('Name', 'eth0')";
    const aio = await startAllInOne({ config: flowConfig({ analyzer: { startup: { capture_gremlin: gremlin, capture_bpf: 'icmp' } } }) });
    cleanup.add(() => aio.stop());
    const api = new FlowsAPI(aio);
    const list = (await (await fetch(`http://${aio.analyzerAddr}/api/capture`)).json()) as Record<string, any>;
    const [capture] = Object.values(list);
    assert.equal(capture.GremlinQuery, gremlin);
    assert.equal(capture.BPFFilter, 'icmp');
    await vethNamespace(cleanup, 'fcst-vm2-eth0', 'eth0', 'fcst-vm2', ['169.254.73.2/24']);
    await api.waitList(`${gremlin}.Has('Captures.ID', '${capture.UUID}', 'Captures.State', 'active')`, 1);
  });
});
