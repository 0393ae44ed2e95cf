import { strict as assert } from 'node:assert';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FlowTable, LINKTYPE_ETHERNET, LINKTYPE_RAW, type FlowTableOptions } from '../../src/flow/table.js';
import type { Flow } from '../../src/flow/flow.js';
import { readPcapFile } from '../../src/flow/pcap-reader.js';
import { sharedDir } from '../helpers/shared.js';
import { syntheticFrames } from './corpus.js';

/**
 * Decoder and flow-table fuzzing: random, truncated and bit-flipped frames derived from every shared capture and
 * from synthetic frames of every encapsulation, fed to FlowTables of every option set. The table must never
 * throw, every flow must serialise to valid JSON with every ParentUUID resolving, raw packets must be copies, and
 * the result must not depend on the bytes around the packet in the buffer (the decoder stays inside
 * [offset, offset+caplen)). Deterministic: SKYDIVE_FUZZ_SEED replays a run; SKYDIVE_FUZZ_PACKETS scales it.
 */

const SEED = Number(process.env.SKYDIVE_FUZZ_SEED ?? 0x5eed2024) >>> 0;
const PACKETS_PER_CONFIG = Number(process.env.SKYDIVE_FUZZ_PACKETS ?? 2000);

/** mulberry32: small, fast, seedable. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Seed {
  data: Buffer;
  wireLen: number;
  linkType: number;
  origin: string;
}

function loadSeeds(): { seeds: Seed[]; sharedNote: string } {
  const seeds: Seed[] = syntheticFrames().map((frame, i) => ({ data: Buffer.from(frame), wireLen: frame.length, linkType: LINKTYPE_ETHERNET, origin: `synthetic#${i}` }));
  const shared = sharedDir();
  if (!shared) return { seeds, sharedNote: '../shared/pcaps is absent: fuzzing synthetic frames only' };
  const dir = join(shared, 'pcaps');
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.pcap')).sort()) {
    let i = 0;
    readPcapFile(dir + '/' + f, (buf, off, caplen, wireLen, _ts, linkType) => {
      seeds.push({ data: Buffer.from(buf.subarray(off, off + caplen)), wireLen, linkType, origin: `${f}#${i++}` });
    });
  }
  return { seeds, sharedNote: `${seeds.length} seed frames incl. every record of ${dir}` };
}

const INTERESTING = [0x00, 0xff, 0x7f, 0x80, 0x01, 0x45, 0x46, 0x4f, 0x60, 0x08, 0x81, 0x86, 0xdd, 0x11, 0x06, 0x2f, 0x88, 0x47, 0x65, 0x58, 0x12, 0xb5];

/** One fuzzed record: bytes, captured length and wire length. */
interface Mutant {
  data: Buffer;
  wireLen: number;
  how: string;
}

function mutate(rnd: () => number, seed: Seed, linkType: number): Mutant {
  let data = seed.data;
  let wireLen = seed.wireLen;
  // raw-IP tables get IP packets: the Ethernet header is stripped (VLAN tags too, sometimes not)
  if (linkType === LINKTYPE_RAW && seed.linkType === LINKTYPE_ETHERNET && data.length >= 14) {
    const cut = rnd() < 0.9 ? 14 : 18;
    data = data.subarray(Math.min(cut, data.length));
    wireLen = Math.max(0, wireLen - cut);
  }
  const pick = (n: number) => Math.floor(rnd() * n);
  const kind = pick(9);
  const how = ['original', 'truncated', 'bit flips', 'interesting bytes', 'truncated+flips', 'random bytes', 'shifted', 'odd wire length', 'header overwrite'][kind];
  data = Buffer.from(data);
  switch (kind) {
    case 1:
      data = data.subarray(0, pick(data.length + 1));
      break;
    case 2:
    case 4:
      if (kind === 4) data = data.subarray(0, pick(data.length + 1));
      for (let n = 1 + pick(8); n > 0 && data.length; n--) data[pick(data.length)] ^= 1 << pick(8);
      break;
    case 3:
      for (let n = 1 + pick(4); n > 0 && data.length; n--) data[pick(data.length)] = INTERESTING[pick(INTERESTING.length)];
      break;
    case 5:
      data = Buffer.from(Array.from({ length: pick(200) }, () => pick(256)));
      wireLen = data.length + pick(100);
      break;
    case 6: {
      const at = pick(data.length + 1);
      data = rnd() < 0.5 ? Buffer.concat([data.subarray(0, at), Buffer.from(Array.from({ length: 1 + pick(8) }, () => pick(256))), data.subarray(at)]) : Buffer.concat([data.subarray(0, at), data.subarray(at + 1 + pick(8))]);
      break;
    }
    case 7:
      wireLen = [0, pick(data.length + 1), data.length + pick(70000), 0xffffffff][pick(4)];
      break;
    case 8:
      // bytes that hold lengths, types and flags in the first 60 bytes
      for (let n = 1 + pick(3); n > 0 && data.length; n--) {
        const at = pick(Math.min(60, data.length));
        data[at] = pick(256);
      }
      break;
  }
  return { data, wireLen: kind === 1 || kind === 4 ? Math.max(wireLen, data.length) : wireLen, how };
}

function assertFinite(v: unknown, path: string): void {
  if (typeof v === 'number') assert.ok(Number.isFinite(v), `${path} is ${v}`);
  else if (typeof v === 'bigint') assert.fail(`${path} is a bigint`);
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) assertFinite(x, `${path}.${k}`);
}

/** JSON that means what the object says: JSON.stringify would silently turn NaN/Infinity into null. */
function strictJSON(value: unknown): string {
  assertFinite(value, 'flow');
  return JSON.stringify(value);
}

function checkFlows(flows: Flow[], where: string, checkParents: boolean): void {
  const uuids = new Map<string, number>();
  const json = flows.map((f) => {
    const s = strictJSON(f.toJSON());
    const j = JSON.parse(s) as { UUID: string; ParentUUID?: string; Start: number; Last: number; Metric: Record<string, number> };
    assert.equal(typeof j.UUID, 'string', `${where}: UUID`);
    assert.ok('ParentUUID' in j, `${where}: ParentUUID is always emitted`);
    assert.ok(j.Start >= 0 && j.Last >= 0, `${where}: Start/Last ${j.Start}/${j.Last}`);
    for (const k of ['ABPackets', 'ABBytes', 'BAPackets', 'BABytes']) assert.ok(Number.isInteger(j.Metric[k]) && j.Metric[k] >= 0, `${where}: Metric.${k}=${j.Metric[k]} in ${s}`);
    uuids.set(j.UUID, (uuids.get(j.UUID) ?? 0) + 1);
    return j;
  });
  if (!checkParents) return;
  for (const j of json) {
    if (j.ParentUUID) assert.equal(uuids.get(j.ParentUUID), 1, `${where}: ParentUUID ${j.ParentUUID} of ${strictJSON(j)} resolves to ${uuids.get(j.ParentUUID) ?? 0} flows`);
  }
}

interface Config {
  name: string;
  linkType: number;
  opts: FlowTableOptions;
}

const CONFIGS: Config[] = [];
for (const linkType of [LINKTYPE_ETHERNET, LINKTYPE_RAW]) {
  for (const layerKeyMode of ['L2', 'L3'] as const) {
    for (const ipDefrag of [true, false]) {
      CONFIGS.push({
        name: `${linkType === LINKTYPE_RAW ? 'raw' : 'ethernet'} ${layerKeyMode} defrag=${ipDefrag}`,
        linkType,
        opts: { layerKeyMode, ipDefrag, extraTCPMetric: true, reassembleTCP: true, extraLayers: 255, rawPacketLimit: 3 },
      });
    }
  }
}

describe('decoder fuzz', function () {
  this.timeout(120000);
  const { seeds, sharedNote } = loadSeeds();
  before(function () {
    console.log(`    fuzz seed ${SEED} (SKYDIVE_FUZZ_SEED=${SEED} to replay), ${PACKETS_PER_CONFIG} packets per option set; ${sharedNote}`);
  });

  for (const [ci, cfg] of CONFIGS.entries()) {
    it(`never throws and keeps flows consistent: ${cfg.name}`, function () {
      const t0 = performance.now();
      // two tables see the same records; only the bytes around each record differ
      const tables = [new FlowTable(cfg.opts), new FlowTable(cfg.opts)];
      const noiseRnd = prng(SEED ^ 0xabcdef);
      const noise = Buffer.from(Array.from({ length: 4096 }, () => Math.floor(noiseRnd() * 256)));
      const bufs = [Buffer.alloc(70000 + 200), Buffer.alloc(70000 + 200)];
      const rnd = prng(SEED + ci * 7919);
      const inputs = new Set<string>();
      const emitted: Flow[][] = [[], []];
      let ts = 1_600_000_000_000;
      for (let i = 0; i < PACKETS_PER_CONFIG; i++) {
        const s = seeds[Math.floor(rnd() * seeds.length)];
        const m = mutate(rnd, s, cfg.linkType);
        const offset = Math.floor(rnd() * 64);
        ts += rnd() < 0.01 ? 20_000 : rnd() * 50;
        inputs.add(m.data.toString('hex'));
        for (let t = 0; t < 2; t++) {
          const buf = bufs[t];
          const around = t === 0 ? null : noise.subarray(i % 2048, (i % 2048) + 192);
          if (around) buf.set(around.subarray(0, offset), 0);
          else buf.fill(0, 0, offset);
          m.data.copy(buf, offset);
          if (around) buf.set(around.subarray(64), offset + m.data.length);
          else buf.fill(0, offset + m.data.length, offset + m.data.length + 128);
          try {
            tables[t].processPacket(buf, offset, m.data.length, m.wireLen, ts, cfg.linkType);
          } catch (err) {
            assert.fail(`seed ${SEED} ${cfg.name} packet ${i} (${m.how} of ${s.origin}, caplen ${m.data.length}, wire ${m.wireLen}) threw ${(err as Error).stack}\nbytes: ${m.data.toString('hex')}`);
          }
          // the buffer is reused for the next record, as the pcap reader does
          buf.fill(0xa5, offset, offset + m.data.length);
          if (i % 997 === 996) emitted[t].push(...tables[t].update(ts));
          if (i % 1999 === 1998) emitted[t].push(...tables[t].expire(ts));
        }
      }
      const flows = tables.map((t) => t.getFlows());
      checkFlows(flows[0], `seed ${SEED} ${cfg.name}`, true);
      checkFlows(emitted[0], `seed ${SEED} ${cfg.name} (updated/expired)`, false);
      const json = flows.map((fs) => fs.map((f) => strictJSON(f.toJSON())));
      assert.deepEqual(json[1], json[0], `seed ${SEED} ${cfg.name}: the flows depend on bytes outside [offset, offset+caplen)`);
      for (const f of flows[0]) {
        for (const rp of f.rawPackets()) {
          assert.ok(inputs.has(Buffer.from(rp.data).toString('hex')), `seed ${SEED} ${cfg.name}: a raw packet of ${f.uuid} is not a copy of its record`);
        }
      }
      const expired = tables[0].expireNow();
      checkFlows(expired, `seed ${SEED} ${cfg.name} (expireNow)`, false);
      assert.equal(tables[0].getFlows().length, 0, 'expireNow empties the table');
      const st = tables[0].stats;
      console.log(
        `      ${PACKETS_PER_CONFIG} packets in ${(performance.now() - t0).toFixed(0)} ms (2 tables): ${flows[0].length} flows, ${st.decodeErrors} decode errors, ${expired.length} expired at the end`,
      );
    });
  }
});

describe('fast path fuzz', function () {
  this.timeout(120000);
  const { seeds } = loadSeeds();
  // FastParser serves tables without extras (raw packets, DNS); it must count every record as the decoder does
  for (const layerKeyMode of ['L2', 'L3'] as const) {
    for (const ipDefrag of [true, false]) {
      const name = `ethernet ${layerKeyMode} defrag=${ipDefrag}`;
      it(`counts mutated records as the decoder path does: ${name}`, function () {
        const opts: FlowTableOptions = { layerKeyMode, ipDefrag, extraTCPMetric: true, reassembleTCP: true, maxEntries: 300 };
        const tables = [new FlowTable(opts), new FlowTable({ ...opts, fastPath: false })];
        const rnd = prng(SEED ^ (layerKeyMode === 'L2' ? 0x1111 : 0x2222) ^ (ipDefrag ? 0x10 : 0x20));
        const buf = Buffer.alloc(70000 + 200);
        const reports: string[][] = [[], []];
        let ts = 1_600_000_000_000;
        for (let i = 0; i < PACKETS_PER_CONFIG; i++) {
          const s = seeds[Math.floor(rnd() * seeds.length)];
          // original records most of the time, so that flows see many packets (the fast path serves existing flows)
          const m = rnd() < 0.5 ? { data: s.data, wireLen: s.wireLen, how: 'original' } : mutate(rnd, s, LINKTYPE_ETHERNET);
          const offset = Math.floor(rnd() * 64);
          ts += rnd() * 50;
          m.data.copy(buf, offset);
          for (const [k, t] of tables.entries()) {
            t.processPacket(buf, offset, m.data.length, m.wireLen, ts, s.linkType);
            if (i % 499 === 498) reports[k].push(strictJSON(t.update(ts).map((f) => f.toJSON())));
          }
        }
        const json = tables.map((t) => strictJSON(t.getFlows().map((f) => f.toJSON())));
        assert.equal(json[0], json[1], `seed ${SEED} ${name}: the fast path and the decoder disagree`);
        assert.deepEqual(reports[0], reports[1], `seed ${SEED} ${name}: update() reports differ`);
        assert.deepEqual(tables[0].stats, tables[1].stats);
      });
    }
  }
});
