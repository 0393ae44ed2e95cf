import assert from 'node:assert/strict';
import { FlowTable, LINKTYPE_ETHERNET } from '../../../src/flow/table.js';
import type { FlowTableOptions } from '../../../src/flow/table.js';
import { PacketBuilder, dnsMessage } from '../../helpers/packet-builder.js';

const A = '02:00:00:00:00:0a';
const B = '02:00:00:00:00:0b';
const T0 = 1700000000000;

function udp(sport: number, dport = 9000, payload = 10): Uint8Array {
  return new PacketBuilder().ethernet(A, B).ipv4('10.0.0.1', '10.0.0.2').udp(sport, dport).payload(payload).build();
}

class Feeder {
  readonly t: FlowTable;
  constructor(opts: FlowTableOptions = {}) {
    this.t = new FlowTable(opts);
  }
  send(frame: Uint8Array, ts: number): void {
    this.t.processPacket(frame, 0, frame.length, frame.length, ts, LINKTYPE_ETHERNET);
  }
  ports(): number[] {
    return this.t.getFlows().map((f) => f.transport!.A);
  }
}

describe('flow table lifecycle: LRU order and eviction', () => {
  it('lists flows from least to most recently used', () => {
    const f = new Feeder();
    f.send(udp(1), T0);
    f.send(udp(2), T0 + 1);
    f.send(udp(3), T0 + 2);
    f.send(udp(1), T0 + 3);
    assert.deepEqual(f.ports(), [2, 3, 1]);
  });

  it('bounds the table: the least recently used flow is evicted and counted', () => {
    const f = new Feeder({ maxEntries: 3 });
    for (let p = 1; p <= 3; p++) f.send(udp(p), T0 + p);
    f.send(udp(1), T0 + 10); // 1 becomes the most recent
    f.send(udp(4), T0 + 11); // evicts 2
    f.send(udp(5), T0 + 12); // evicts 3
    assert.deepEqual(f.ports(), [1, 4, 5]);
    assert.equal(f.t.stats.flowsEvicted, 2);
    assert.equal(f.t.stats.flowsCreated, 5);
    assert.equal(f.t.stats.activeFlows, 3);
  });

  it('a table of one flow keeps the innermost level of a tunnel packet', () => {
    const f = new Feeder({ maxEntries: 1 });
    const vxlan = new PacketBuilder()
      .ethernet(A, B)
      .ipv4('172.16.0.1', '172.16.0.2')
      .udp(50000, 4789)
      .vxlan(3)
      .ethernet('02:00:00:00:01:01', '02:00:00:00:01:02')
      .ipv4('192.168.0.1', '192.168.0.2')
      .udp(1, 2)
      .build();
    f.send(vxlan, T0);
    assert.equal(f.t.stats.decodeErrors, 0);
    assert.equal(f.t.stats.flowsEvicted, 1);
    const [inner] = f.t.getFlows();
    assert.equal(inner.layersPath, 'Ethernet/IPv4/UDP');
    assert.notEqual(inner.parentUUID, '', 'it still names the (evicted) tunnel flow');
  });

  it('keeps its bound and its lookups right under heavy churn', () => {
    const f = new Feeder({ maxEntries: 1000 });
    for (let i = 0; i < 20000; i++) f.send(udp(1 + (i % 5000)), T0 + i);
    assert.equal(f.t.stats.activeFlows, 1000);
    assert.equal(f.t.stats.flowsCreated - f.t.stats.flowsEvicted, 1000);
    const flows = f.t.getFlows();
    assert.equal(new Set(flows.map((x) => x.uuid)).size, 1000);
    // every flow kept is found again by its key: a packet of it creates nothing
    const created = f.t.stats.flowsCreated;
    for (const x of flows) f.send(udp(x.transport!.A), T0 + 30000);
    assert.equal(f.t.stats.flowsCreated, created);
  });

  it('renumbers its 32-bit access sequence when it runs out, keeping the LRU order and the update window', () => {
    const f = new Feeder();
    // the sequence counts level packets; start near its end instead of sending 2^31 packets
    (f.t as unknown as { accessSeq: number }).accessSeq = 0x7fffffff - 4;
    for (let p = 1; p <= 3; p++) f.send(udp(p), T0 + p);
    assert.deepEqual(f.t.update(T0 + 10).map((x) => x.transport!.A).sort(), [1, 2, 3]);
    f.send(udp(2), T0 + 11);
    f.send(udp(4), T0 + 12); // the sequence ends here: flows are numbered again
    f.send(udp(1), T0 + 13);
    assert.equal((f.t as unknown as { accessSeq: number }).accessSeq, 6, 'four flows numbered 1..4, then two packets');
    assert.deepEqual(f.ports(), [3, 2, 4, 1]);
    assert.deepEqual(f.t.update(T0 + 20).map((x) => x.transport!.A).sort(), [1, 2, 4], 'flow 3 had no packet since the last update');
  });
});

describe('flow table lifecycle: update, expire and application timeouts', () => {
  it('update() returns the flows updated since the previous update with their window counters', () => {
    const f = new Feeder();
    f.send(udp(1), T0);
    f.send(udp(2), T0 + 1);
    let sent = f.t.update(T0 + 60000);
    assert.equal(sent.length, 2);
    const first = sent.find((x) => x.transport!.A === 1)!.toJSON();
    assert.deepEqual(first.LastUpdateMetric, { ABPackets: 1, ABBytes: 52, BAPackets: 0, BABytes: 0, Start: T0, Last: T0 + 60000 });

    f.send(udp(1), T0 + 70000);
    f.send(udp(1), T0 + 71000);
    sent = f.t.update(T0 + 120000);
    assert.deepEqual(sent.map((x) => x.transport!.A), [1]);
    const lu = sent[0].toJSON().LastUpdateMetric!;
    assert.deepEqual([lu.ABPackets, lu.ABBytes, lu.Start, lu.Last], [2, 104, T0 + 60000, T0 + 120000]);
    assert.equal(sent[0].toJSON().Metric.ABPackets, 3);
    const idle = f.t.getFlows().find((x) => x.transport!.A === 2)!.toJSON();
    assert.deepEqual(idle.LastUpdateMetric, { ABPackets: 0, ABBytes: 0, BAPackets: 0, BABytes: 0, Start: T0 + 60000, Last: T0 + 120000 });
  });

  it('application timeouts: DNS and ARP end after 10 s idle, others as configured', () => {
    const f = new Feeder({ applicationTimeouts: { udp: 20 } });
    const dns = new PacketBuilder().ethernet(A, B).ipv4('10.0.0.1', '10.0.0.53').udp(41000, 53).payload(dnsMessage({ id: 1, questions: [{ name: 'a.b', type: 1 }] })).build();
    const arp = new PacketBuilder().ethernet(A, 'ff:ff:ff:ff:ff:ff').arp({ senderMAC: A, senderIP: '10.0.0.1', targetIP: '10.0.0.2' }).build();
    f.send(dns, T0);
    f.send(arp, T0);
    f.send(udp(7), T0);
    f.send(new PacketBuilder().ethernet(A, B).ipv4('10.0.0.1', '10.0.0.2').tcp(1, 2).build(), T0);
    assert.equal(f.t.update(T0 + 1000).length, 4);
    assert.deepEqual(f.t.update(T0 + 9000), []);
    const ended = f.t.update(T0 + 15000);
    assert.deepEqual(ended.map((x) => x.application).sort(), ['ARP', 'DNS']);
    assert.ok(ended.every((x) => x.toJSON().FinishType === 1));
    assert.equal(f.t.stats.activeFlows, 2);
    assert.deepEqual(f.t.update(T0 + 25000).map((x) => x.application), ['UDP']);
    assert.equal(f.t.stats.activeFlows, 1);
  });

  it('finished flows are sent while updated, then leave the table 15 s after their last packet', () => {
    const f = new Feeder();
    const a = new PacketBuilder().ethernet(A, B).ipv4('10.0.0.1', '10.0.0.2').tcp(40000, 80, { flags: 'RA' }).build();
    f.send(a, T0);
    const sent = f.t.update(T0 + 1000);
    assert.equal(sent[0].toJSON().FinishType, 3);
    assert.equal(f.t.stats.activeFlows, 1);
    assert.deepEqual(f.t.update(T0 + 16000), []);
    assert.equal(f.t.stats.activeFlows, 0);
  });

  it('expire() ends idle flows with TIMEOUT and removes them; expireNow() ends all', () => {
    const f = new Feeder({ expireAfterMs: 600000 });
    f.send(udp(1), T0);
    f.send(udp(2), T0 + 500000);
    assert.deepEqual(f.t.expire(T0 + 599000), []);
    const expired = f.t.expire(T0 + 650000);
    assert.deepEqual(expired.map((x) => x.transport!.A), [1]);
    const j = expired[0].toJSON();
    assert.equal(j.FinishType, 1);
    assert.equal(j.Metric.ABPackets, 1, 'a removed flow keeps its counters');
    assert.deepEqual([j.LastUpdateMetric!.ABPackets, j.LastUpdateMetric!.Start, j.LastUpdateMetric!.Last], [1, T0, T0]);
    assert.equal(f.t.stats.activeFlows, 1);
    const rest = f.t.expireNow();
    assert.deepEqual(rest.map((x) => x.transport!.A), [2]);
    assert.equal(f.t.getFlows().length, 0);
    // a new packet of an expired flow starts a new flow with a new UUID
    f.send(udp(1), T0 + 700000);
    assert.notEqual(f.t.getFlows()[0].uuid, expired[0].uuid);
    assert.equal(f.t.getFlows()[0].trackingID, expired[0].trackingID);
  });
});

describe('flow table lifecycle: raw packets', () => {
  it('keeps copies of the first N packets of each flow, with capture time and lengths', () => {
    const f = new Feeder({ rawPacketLimit: 2 });
    const frames = [udp(1, 9000, 10), udp(1, 9000, 20), udp(1, 9000, 30)];
    const buf = new Uint8Array(200);
    frames.forEach((fr, i) => {
      buf.set(fr, 50);
      f.t.processPacket(buf, 50, fr.length - 4, fr.length, T0 + i, LINKTYPE_ETHERNET);
    });
    buf.fill(0);
    const [flow] = f.t.getFlows();
    const raw = flow.rawPackets();
    assert.equal(raw.length, 2);
    assert.equal(flow.toJSON().RawPacketsCaptured, 2);
    assert.deepEqual(
      raw.map((r) => [r.tsMs, r.data.length, r.wireLen, r.linkType]),
      [
        [T0, frames[0].length - 4, frames[0].length, 1],
        [T0 + 1, frames[1].length - 4, frames[1].length, 1],
      ],
    );
    assert.deepEqual(Array.from(raw[1].data), Array.from(frames[1].subarray(0, frames[1].length - 4)), 'a copy, not a view of the reused buffer');
  });

  it('keeps no raw packet by default and caps the limit at 10', () => {
    const f = new Feeder();
    f.send(udp(1), T0);
    assert.deepEqual(f.t.getFlows()[0].rawPackets(), []);
    const g = new Feeder({ rawPacketLimit: 50 });
    for (let i = 0; i < 20; i++) g.send(udp(1), T0 + i);
    assert.equal(g.t.getFlows()[0].rawPackets().length, 10);
  });
});
