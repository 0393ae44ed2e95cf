import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../helpers/shared.js';
import { Cleanup, sh } from '../../helpers/sh.js';
import { waitFor } from '../../helpers/wait.js';
import { spawnJsonChild, type JsonChild } from '../../../src/probes/capture/namespace-child.js';
import type { CaptureWorkerSpec, WorkerMessage } from '../../../src/probes/capture/protocol.js';

/** The capture worker as the agent runs it: a child process in a real namespace, on a real veth, with real pings. */

const WORKER = join(REPO_ROOT, 'dist', 'src', 'probes', 'capture', 'worker.js');
const NS_A = 'cwk-a';
const NS_B = 'cwk-b';

function spec(over: Partial<CaptureWorkerSpec> = {}): CaptureWorkerSpec {
  return {
    captureID: 'capture-1',
    nodeTID: 'tid-of-eth0',
    kind: 'afpacket',
    ifName: 'eth0',
    bpf: '',
    headerSize: 0,
    table: { rawPacketLimit: 0, extraTCPMetric: false, ipDefrag: false, reassembleTCP: false, layerKeyMode: 'L2', extraLayers: 0 },
    updateSec: 1,
    expireSec: 600,
    ...over,
  };
}

class Collected {
  readonly messages: WorkerMessage[] = [];
  constructor(readonly child: JsonChild<WorkerMessage>) {
    child.onMessage((m) => this.messages.push(m));
  }
  flows(): Array<Record<string, any>> {
    // latest state per UUID
    const byUUID = new Map<string, Record<string, any>>();
    for (const m of this.messages) if (m.type === 'flows') for (const f of m.flows) byUUID.set(f.UUID as string, f);
    return [...byUUID.values()];
  }
  of<T extends WorkerMessage['type']>(type: T): Array<Extract<WorkerMessage, { type: T }>> {
    return this.messages.filter((m): m is Extract<WorkerMessage, { type: T }> => m.type === type);
  }
}

describe('capture worker (child process in a namespace)', function () {
  const cleanup = new Cleanup();
  const children: JsonChild<WorkerMessage>[] = [];

  before(async () => {
    cleanup.add(`ip netns del ${NS_A}`);
    cleanup.add(`ip netns del ${NS_B}`);
    await sh(`ip netns add ${NS_A} && ip netns add ${NS_B}`);
    await sh(`ip link add eth0 netns ${NS_A} type veth peer name eth0 netns ${NS_B}`);
    await sh(`ip -n ${NS_A} addr add 10.91.0.1/24 dev eth0 && ip -n ${NS_B} addr add 10.91.0.2/24 dev eth0`);
    await sh(`ip -n ${NS_A} link set eth0 up && ip -n ${NS_B} link set eth0 up && ip -n ${NS_B} link set lo up`);
  });
  afterEach(() => {
    for (const c of children.splice(0)) c.process.kill('SIGKILL');
  });
  after(() => cleanup.run());

  function start(s: CaptureWorkerSpec, ns = NS_B): Collected {
    const child = spawnJsonChild<WorkerMessage>(`/var/run/netns/${ns}`, WORKER, s);
    children.push(child);
    return new Collected(child);
  }

  it('captures ICMP in the namespace, applies the BPF filter, sends updates, counters and a final flush', async () => {
    const w = start(spec({ bpf: 'icmp', table: { ...spec().table, rawPacketLimit: 3 } }));
    await waitFor(() => w.of('ready').length, (n) => n === 1, { what: 'worker ready' });
    assert.equal(w.of('ready')[0].linkType, 1);
    await sh(`ip netns exec ${NS_A} ping -c 4 -i 0.2 -s 100 10.91.0.2`);
    const flow = (await waitFor(
      () => w.flows().find((f) => f.LayersPath === 'Ethernet/IPv4/ICMPv4' && f.Metric.BAPackets === 4),
      (f) => !!f,
      { what: 'the ICMP flow with 4 replies' },
    ))!;
    assert.equal(flow.NodeTID, 'tid-of-eth0');
    assert.equal(flow.CaptureID, 'capture-1');
    assert.deepEqual([flow.Network.A, flow.Network.B], ['10.91.0.1', '10.91.0.2']);
    assert.equal(flow.Metric.ABPackets, 4);
    assert.equal(flow.Metric.ABBytes, 4 * (14 + 20 + 8 + 100));
    assert.equal(flow.RawPacketsCaptured, 3);
    // the BPF filter left ARP out: only ICMP flows
    assert.ok(w.flows().every((f) => /ICMPv4$/.test(f.LayersPath)), JSON.stringify(w.flows().map((f) => f.LayersPath)));
    const raw = w.of('flows').flatMap((m) => Object.entries(m.rawPackets ?? {}));
    const kept = raw.filter(([uuid]) => uuid === flow.UUID).pop()![1];
    assert.equal(kept.length, 3);
    assert.equal(Buffer.from(kept[0].Data, 'base64').length, 142);
    assert.equal(kept[0].LinkType, 1);
    await waitFor(() => w.of('stats').pop()?.stats.PacketsReceived, (n) => n === 8, { what: 'kernel counters: 8 packets' });

    w.child.send({ type: 'stop' });
    assert.equal(await w.child.exited, 0);
    const final = w.flows().find((f) => f.UUID === flow.UUID)!;
    assert.equal(final.FinishType, 1, 'flushed flows end with FinishType TIMEOUT');
  });

  it('reports an error state for an interface that does not exist', async () => {
    const w = start(spec({ ifName: 'nosuchif0' }));
    assert.equal(await w.child.exited, 1);
    const err = w.of('error')[0];
    assert.ok(err, 'an error message');
    assert.match(err.error, /nosuchif0/);
  });

  it('reports an invalid BPF filter as an error, without crashing', async () => {
    const w = start(spec({ bpf: 'icmp and and' }));
    assert.equal(await w.child.exited, 1);
    assert.match(w.of('error')[0].error, /syntax error|cannot capture/);
  });

  it('stops and flushes when the agent goes away (stdin closed)', async () => {
    const w = start(spec());
    await waitFor(() => w.of('ready').length, (n) => n === 1, { what: 'worker ready' });
    w.child.process.stdin.end();
    assert.equal(await w.child.exited, 0);
  });

  it('runs an sFlow collector: flows of sampled headers count frame length minus stripped bytes', async () => {
    const w = start(spec({ kind: 'sflow', nodeTID: 'tid-of-bridge', listenAddress: '127.0.0.1', listenPorts: [0] }), NS_B);
    const ready = await waitFor(() => w.of('ready')[0], (r) => !!r, { what: 'collector ready' });
    assert.ok(ready.port! > 0);
    // datagrams a real ovs-vswitchd exported: replayed to the collector from inside its namespace
    const fixture = readFileSync(join(REPO_ROOT, 'test', 'unit', 'capture', 'fixtures', 'ovs-netdev-sflow.hex'), 'utf8').trim().split('\n');
    const hex = [...fixture, 'deadbeef'].join(' ');
    await sh(
      `ip netns exec ${NS_B} node -e "const s=require('dgram').createSocket('udp4');const d='${hex}'.split(' ');let i=0;const n=()=>{if(i===d.length)return s.close();s.send(Buffer.from(d[i++],'hex'),${ready.port},'127.0.0.1',n)};n()"`,
    );
    const icmp = (await waitFor(() => w.flows().find((f) => f.LayersPath === 'Ethernet/IPv4/ICMPv4'), (f) => !!f, { what: 'ICMP flow from sFlow samples' }))!;
    assert.equal(icmp.NodeTID, 'tid-of-bridge');
    assert.deepEqual([icmp.Metric.ABPackets, icmp.Metric.ABBytes, icmp.Metric.BAPackets, icmp.Metric.BABytes], [1, 98, 1, 98]);
    const counters = await waitFor(() => w.of('sflow-counters'), (c) => c.length >= 4, { what: 'counter samples' });
    assert.equal(counters[0].agent, '127.0.0.1');
    assert.equal(counters[0].counters[0].IfIndex, 10);
    await waitFor(() => w.of('stats').pop()?.stats, (s) => s?.PacketsDropped === 1, { what: 'the malformed datagram counted' });
  });

  it('refuses a port already in use, and takes the next one of a port range', async () => {
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    try {
      const w = start(spec({ kind: 'sflow', listenAddress: '127.0.0.1', listenPorts: [sock.address().port] }), NS_A);
      // NS_A has its own loopback: the port is free there, so this one starts; in our namespace it would not
      await waitFor(() => w.of('ready').length + w.of('error').length, (n) => n > 0, { what: 'collector answer' });
      const own = spawnJsonChild<WorkerMessage>(undefined, WORKER, spec({ kind: 'sflow', listenAddress: '127.0.0.1', listenPorts: [sock.address().port] }));
      children.push(own);
      const c = new Collected(own);
      assert.equal(await own.exited, 1);
      assert.match(c.of('error')[0].error, /EADDRINUSE/);
      // with a port range (agent.flow.sflow.port_min/max) the next free port is taken
      const next = spawnJsonChild<WorkerMessage>(undefined, WORKER, spec({ kind: 'sflow', listenAddress: '127.0.0.1', listenPorts: [sock.address().port, 0] }));
      children.push(next);
      const n = new Collected(next);
      const ready = await waitFor(() => n.of('ready')[0], (r) => !!r, { what: 'collector on the next port' });
      assert.notEqual(ready.port, sock.address().port);
    } finally {
      sock.close();
    }
  });
});
