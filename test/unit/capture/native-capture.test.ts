import assert from 'node:assert/strict';
import { join } from 'node:path';
import { REPO_ROOT } from '../../helpers/shared.js';
import { Cleanup, sh } from '../../helpers/sh.js';
import { spawnJsonChild, type JsonChild } from '../../../src/probes/capture/namespace-child.js';
import type { CapturedRecord, Request } from './native-capture-child.js';

/**
 * The addon's live capture (captureOpen/Next/Wait/Stats/Inject/Close in native/skydive_native.c) on a real veth
 * pair: both ends live in one namespace (nca-ns, IPv6 off so that the kernel sends nothing of its own), frames are
 * injected on ncA0 and captured on ncA1 by a child process running in that namespace.
 */

const CHILD = join(REPO_ROOT, 'dist', 'test', 'unit', 'capture', 'native-capture-child.js');
const NS = 'nca-ns';
/** Local experimental ethertype: nothing else on the veth uses it. */
const ETHERTYPE = '88b5';

/** A broadcast frame of `len` bytes: ethertype 0x88b5, a kind byte, a 16-bit sequence number, then a pattern. */
function frame(len: number, seq: number, kind = 1): string {
  const b = Buffer.alloc(len);
  b.fill(0xff, 0, 6);
  Buffer.from('020000000001', 'hex').copy(b, 6);
  b.write(ETHERTYPE, 12, 'hex');
  b[14] = kind;
  b.writeUInt16BE(seq, 15);
  for (let i = 17; i < len; i++) b[i] = (i * 7 + seq) & 0xff;
  return b.toString('hex');
}

type Answer = Record<string, any> & { error?: string; code?: string };

describe('native live capture (libpcap batches on a veth pair)', function () {
  this.timeout(60000);
  const cleanup = new Cleanup();
  let child: JsonChild<Answer>;
  let nextId = 1;
  const pending = new Map<number, (a: Answer) => void>();

  before(async () => {
    cleanup.add(`ip netns del ${NS}`);
    await sh(`ip netns add ${NS}`);
    await sh(`ip netns exec ${NS} sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1`);
    await sh(`ip -n ${NS} link add ncA0 type veth peer name ncA1 && ip -n ${NS} link set ncA0 up && ip -n ${NS} link set ncA1 up`);
    child = spawnJsonChild<Answer>(`/var/run/netns/${NS}`, CHILD, {});
    cleanup.add(() => child.process.kill('SIGKILL'));
    const ready = new Promise<void>((resolve) => child.onMessage((m) => (m.ready ? resolve() : undefined)));
    child.onMessage((m) => {
      const done = pending.get(m.id as number);
      pending.delete(m.id as number);
      done?.(m);
    });
    await Promise.race([ready, child.exited.then((code) => Promise.reject(new Error(`child exited (${code}): ${child.stderrTail()}`)))]);
  });
  after(() => cleanup.run());

  function call(req: Request, timeoutMs = 10000): Promise<Answer> {
    const id = nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`no answer to ${JSON.stringify(req).slice(0, 200)} within ${timeoutMs} ms (${child.stderrTail()})`));
      }, timeoutMs);
      pending.set(id, (a) => {
        clearTimeout(timer);
        resolve(a);
      });
      child.send({ id, ...req });
    });
  }

  async function ok(req: Request): Promise<Answer> {
    const a = await call(req);
    if (a.error) throw new Error(`${req.op}: ${a.error}`);
    return a;
  }

  /** Reads until `n` records came back, waiting on the socket whenever the ring is empty; returns each call's count. */
  async function collect(name: string, n: number, max = 4096, outBytes = 1 << 20): Promise<{ records: CapturedRecord[]; batches: number[] }> {
    const records: CapturedRecord[] = [];
    const batches: number[] = [];
    while (records.length < n) {
      const a = await ok({ op: 'next', name, max, outBytes });
      if (a.count === 0) {
        await ok({ op: 'wait', name });
        continue;
      }
      batches.push(a.count);
      records.push(...(a.records as CapturedRecord[]));
    }
    return { records, batches };
  }

  it('returns a batch of injected frames intact, with caplen, wire length and kernel timestamps', async () => {
    await ok({ op: 'open', name: 'tx', ifName: 'ncA0', opts: { filter: 'ether[0] == 0' } });
    const rx = await ok({ op: 'open', name: 'rx', ifName: 'ncA1', opts: { timeoutMs: 50 } });
    assert.equal(rx.linkType, 1);
    assert.equal(rx.snaplen, 262144);
    const sizes = Array.from({ length: 100 }, (_, i) => 60 + ((i * 149) % 1455));
    const frames = sizes.map((len, seq) => frame(len, seq));
    const t0 = Date.now();
    await ok({ op: 'inject', name: 'tx', frames });
    const t1 = Date.now();
    const { records, batches } = await collect('rx', frames.length);
    assert.equal(records.length, frames.length);
    assert.ok(batches[0] > 1, `one call returns several packets (batches: ${batches.join(',')})`);
    let lastTs = 0;
    records.forEach((r, i) => {
      assert.equal(r.data, frames[i], `frame ${i} intact and in order`);
      assert.equal(r.caplen, sizes[i]);
      assert.equal(r.wireLen, sizes[i]);
      assert.ok(r.tsUsec < 1e6);
      const ts = r.tsSec * 1000 + r.tsUsec / 1000;
      assert.ok(ts >= t0 - 1 && ts <= t1 + 1, `timestamp ${ts} within the injection (${t0}..${t1})`);
      assert.ok(ts >= lastTs, 'timestamps do not go back');
      lastTs = ts;
    });
    const stats = await ok({ op: 'stats', name: 'rx' });
    assert.deepEqual({ received: stats.received, dropped: stats.dropped }, { received: 100, dropped: 0 });
    await ok({ op: 'close', name: 'rx' });
  });

  // immediate mode makes libpcap use a TPACKET_V2 ring (one frame per packet) instead of V3 blocks
  for (const immediate of [false, true]) {
    it(`truncates to snaplen but keeps the wire length; a full buffer ends the batch, the next call goes on (immediate: ${immediate})`, async () => {
      await ok({ op: 'open', name: 'snap', ifName: 'ncA1', opts: { snaplen: 64, timeoutMs: 50, immediate } });
      const frames = Array.from({ length: 30 }, (_, seq) => frame(seq % 2 ? 60 : 1000, seq));
      await ok({ op: 'inject', name: 'tx', frames });
      // room for exactly 3 records of snaplen 64
      const { records, batches } = await collect('snap', frames.length, 4096, 3 * (16 + 64));
      assert.ok(batches.every((n) => n <= 3), `at most 3 records per call (batches: ${batches.join(',')})`);
      records.forEach((r, i) => {
        const len = i % 2 ? 60 : 1000;
        assert.equal(r.caplen, Math.min(64, len));
        assert.equal(r.wireLen, len);
        assert.equal(r.data, frames[i].slice(0, 2 * r.caplen), `frame ${i} prefix in order`);
      });
      await ok({ op: 'close', name: 'snap' });
    });
  }

  it('applies the filter in the kernel: rejected frames are not even counted as received', async () => {
    await ok({ op: 'open', name: 'all', ifName: 'ncA1', opts: { timeoutMs: 50 } });
    await ok({ op: 'open', name: 'kind2', ifName: 'ncA1', opts: { timeoutMs: 50, filter: `ether proto 0x${ETHERTYPE} and ether[14] == 2` } });
    const frames = Array.from({ length: 40 }, (_, seq) => frame(100, seq, seq % 4 === 0 ? 2 : 1));
    await ok({ op: 'inject', name: 'tx', frames });
    const kept = await collect('kind2', 10);
    assert.deepEqual(
      kept.records.map((r) => r.data),
      frames.filter((_, seq) => seq % 4 === 0),
    );
    assert.equal((await collect('all', 40)).records.length, 40, 'the unfiltered capture saw every frame');
    const stats = await ok({ op: 'stats', name: 'kind2' });
    assert.equal(stats.received, 10);
    assert.equal(stats.dropped, 0);
    assert.equal((await ok({ op: 'next', name: 'kind2', max: 100, outBytes: 1 << 20 })).count, 0, 'nothing else came through');
    await ok({ op: 'close', name: 'all' });
    await ok({ op: 'close', name: 'kind2' });
  });

  it('counts the packets the kernel drops when the ring is full', async () => {
    // 1 MiB: a few ring blocks; 2,000 frames of 1,500 bytes need about 3 MiB
    await ok({ op: 'open', name: 'small', ifName: 'ncA1', opts: { bufferSize: 1 << 20, timeoutMs: 50 } });
    const frames = Array.from({ length: 2000 }, (_, seq) => frame(1500, seq));
    for (let i = 0; i < frames.length; i += 500) await ok({ op: 'inject', name: 'tx', frames: frames.slice(i, i + 500) });
    const stats = await ok({ op: 'stats', name: 'small' });
    assert.equal(stats.received, 2000, 'received counts dropped packets too');
    assert.ok(stats.dropped > 0 && stats.dropped < 2000, `some dropped (${stats.dropped})`);
    const { records } = await collect('small', 2000 - stats.dropped);
    assert.equal(records.length, 2000 - stats.dropped, 'every packet not dropped is delivered');
    await ok({ op: 'close', name: 'small' });
  });

  it('reports bad interfaces, filters, buffers and closed handles with clear errors', async () => {
    const noDev = await call({ op: 'open', name: 'x', ifName: 'nca-nosuch0' });
    assert.equal(noDev.code, 'SKYDIVE_CAPTURE_OPEN');
    assert.match(noDev.error!, /^cannot capture on nca-nosuch0: No such device/);
    const badFilter = await call({ op: 'open', name: 'x', ifName: 'ncA1', opts: { filter: 'udp prot 53' } });
    assert.equal(badFilter.code, 'SKYDIVE_CAPTURE_FILTER');
    assert.match(badFilter.error!, /cannot capture on ncA1: invalid filter "udp prot 53": .*syntax error/);
    const badOpt = await call({ op: 'open', name: 'x', ifName: 'ncA1', opts: { snaplen: 0 } });
    assert.equal(badOpt.code, 'SKYDIVE_CAPTURE_ARGS');
    assert.match(badOpt.error!, /snaplen must be an integer from 1 to 262144/);
    assert.equal((await call({ op: 'open', name: 'x', ifName: 42 })).code, 'SKYDIVE_CAPTURE_ARGS');

    await ok({ op: 'open', name: 'e', ifName: 'ncA1', opts: { snaplen: 128 } });
    const small = await call({ op: 'next', name: 'e', max: 10, outBytes: 100 });
    assert.equal(small.code, 'SKYDIVE_CAPTURE_ARGS');
    assert.match(small.error!, /at least 144 bytes/);
    const misaligned = await call({ op: 'next', name: 'e', max: 10, outBytes: 4096, outOffset: 1 });
    assert.match(misaligned.error!, /4-byte aligned/);
    await ok({ op: 'close', name: 'e' });
    const closed = await call({ op: 'stats', name: 'e' });
    assert.equal(closed.code, 'SKYDIVE_CAPTURE_CLOSED');
    assert.equal((await call({ op: 'inject', name: 'e', frames: [frame(60, 0)] })).code, 'SKYDIVE_CAPTURE_CLOSED');
  });

  it('wakes a waiting capture when packets arrive, and reports an interface that went away', async () => {
    await sh(`ip -n ${NS} link add ncB0 type veth peer name ncB1 && ip -n ${NS} link set ncB0 up && ip -n ${NS} link set ncB1 up`);
    await ok({ op: 'open', name: 'b0', ifName: 'ncB0' });
    await ok({ op: 'open', name: 'b1', ifName: 'ncB1', opts: { timeoutMs: 20 } });
    const woken = call({ op: 'wait', name: 'b1' });
    await ok({ op: 'inject', name: 'b0', frames: [frame(60, 7)] });
    assert.equal((await woken).readable, true);
    assert.equal((await collect('b1', 1)).records[0].data, frame(60, 7));

    const gone = call({ op: 'wait', name: 'b1' });
    await sh(`ip -n ${NS} link del ncB0`);
    assert.equal((await gone).readable, true, 'the wait ends when the interface disappears');
    const read = await call({ op: 'next', name: 'b1', max: 10, outBytes: 1 << 20 });
    assert.equal(read.code, 'SKYDIVE_CAPTURE_READ');
    assert.match(read.error!, /^read failed: .*(disappeared|went down)/);
  });
});
