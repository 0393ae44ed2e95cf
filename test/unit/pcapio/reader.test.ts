import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPcapFile, type PcapReadOptions } from '../../../src/flow/pcap-reader.js';
import { encodePcap, type PcapWriterOptions } from '../../../src/flow/pcap-writer.js';
import { SkydiveError } from '../../../src/common/errors.js';
import { sharedDir } from '../../helpers/shared.js';
import { PcapngBuilder, arpFrame, icmpFrame, udpFrame } from './frames.js';

interface Rec {
  data: Buffer;
  caplen: number;
  wireLen: number;
  tsMs: number;
  linkType: number;
}

function readAll(path: string, opts: PcapReadOptions = {}) {
  const recs: Rec[] = [];
  const stats = readPcapFile(
    path,
    (buf, offset, caplen, wireLen, tsMs, linkType) => {
      recs.push({ data: Buffer.from(buf.subarray(offset, offset + caplen)), caplen, wireLen, tsMs, linkType });
    },
    opts,
  );
  return { recs, stats };
}

describe('pcap reader', function () {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'skydive-pcapio-reader-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const frames = [udpFrame(1, 2, 1000, 53, 10), icmpFrame(2, 1, 7, 1, true), arpFrame(3)];
  const packets = frames.map((data, i) => ({ data, tsMs: 1700000000123.456 + i * 1000.001, wireLen: data.length + i }));

  function classic(name: string, opts: PcapWriterOptions): string {
    const p = join(dir, name);
    writeFileSync(p, encodePcap(packets, opts));
    return p;
  }

  for (const [label, opts] of [
    ['little-endian µs', {}],
    ['big-endian µs', { bigEndian: true }],
    ['little-endian ns', { nanoseconds: true }],
    ['big-endian ns, raw link type', { bigEndian: true, nanoseconds: true, linkType: 101 }],
  ] as Array<[string, PcapWriterOptions]>) {
    it(`reads classic pcap, ${label}`, function () {
      const { recs, stats } = readAll(classic(`${label.replace(/\W+/g, '-')}.pcap`, opts));
      assert.equal(stats.format, 'pcap');
      assert.equal(stats.records, 3);
      assert.equal(stats.corruptRecords, 0);
      assert.equal(stats.stoppedEarly, '');
      assert.equal(stats.linkType, opts.linkType ?? 1);
      assert.equal(recs.length, 3);
      recs.forEach((r, i) => {
        assert.deepEqual(r.data, packets[i].data);
        assert.equal(r.caplen, packets[i].data.length);
        assert.equal(r.wireLen, packets[i].wireLen);
        assert.equal(r.linkType, opts.linkType ?? 1);
        assert.ok(Math.abs(r.tsMs - packets[i].tsMs) < 0.0011, `ts ${r.tsMs} vs ${packets[i].tsMs}`);
        assert.equal(Math.floor(r.tsMs), Math.floor(packets[i].tsMs));
      });
    });
  }

  it('truncates nanoseconds to the microsecond so that the millisecond is exact', function () {
    const p = join(dir, 'ns-edge.pcap');
    const hdr = encodePcap([], { nanoseconds: true });
    const rec = Buffer.alloc(16 + 20);
    rec.writeUInt32LE(1700000000, 0);
    rec.writeUInt32LE(999_999_999, 4);
    rec.writeUInt32LE(20, 8);
    rec.writeUInt32LE(20, 12);
    writeFileSync(p, Buffer.concat([hdr, rec]));
    const { recs } = readAll(p);
    assert.equal(Math.floor(recs[0].tsMs), 1700000000999);
    assert.ok(recs[0].tsMs > 1700000000999.998);
  });

  it('forces the link type when asked', function () {
    const { recs, stats } = readAll(classic('force.pcap', {}), { linkTypeOverride: 101 });
    assert.equal(stats.linkType, 1);
    assert.ok(recs.every((r) => r.linkType === 101));
  });

  it('handles records spanning chunk boundaries and records larger than a chunk', function () {
    const many = Array.from({ length: 500 }, (_, i) => {
      const data = Buffer.alloc(14 + ((i * 37) % 3000));
      data.writeUInt32BE(i, 0);
      return { data, tsMs: 1e12 + i };
    });
    const p = join(dir, 'many.pcap');
    writeFileSync(p, encodePcap(many));
    for (const chunkSize of [64, 1000, 4096, 1 << 20]) {
      const seen: number[] = [];
      let progressed = 0;
      const stats = readPcapFile(
        p,
        (buf, off, caplen, _w, tsMs) => {
          assert.equal(caplen, many[seen.length].data.length);
          assert.equal(Buffer.compare(Buffer.from(buf.subarray(off, off + caplen)), many[seen.length].data), 0);
          assert.equal(tsMs, many[seen.length].tsMs);
          seen.push(tsMs);
        },
        { chunkSize, onProgress: (r) => (progressed = r) },
      );
      assert.equal(seen.length, 500, `chunk ${chunkSize}`);
      assert.equal(stats.corruptRecords, 0);
      assert.equal(stats.bytesRead, statSync(p).size);
      assert.equal(progressed, statSync(p).size);
    }
  });

  it('stops cleanly at a record header with an absurd caplen, counting it', function () {
    const good = encodePcap(packets.slice(0, 2));
    const garbage = Buffer.alloc(64, 0xee);
    const p = join(dir, 'absurd.pcap');
    writeFileSync(p, Buffer.concat([good, garbage, encodePcap(packets).subarray(24)]));
    const { recs, stats } = readAll(p);
    assert.equal(recs.length, 2);
    assert.equal(stats.records, 2);
    assert.equal(stats.corruptRecords, 1);
    assert.match(stats.stoppedEarly, /absurd caplen/);
  });

  it('accepts a caplen above snaplen up to 262144 bytes, as libpcap does', function () {
    const p = join(dir, 'oversnap.pcap');
    writeFileSync(p, encodePcap([{ data: Buffer.alloc(3000), tsMs: 1 }], { snaplen: 1500 }));
    const { recs, stats } = readAll(p);
    assert.equal(recs.length, 1);
    assert.equal(stats.corruptRecords, 0);
  });

  it('counts a truncated last record (header or data) and keeps the complete ones', function () {
    const full = encodePcap(packets);
    for (const cut of [5, 16 + 10]) {
      const p = join(dir, `trunc-${cut}.pcap`);
      writeFileSync(p, full.subarray(0, full.length - packets[2].data.length - 16 + cut));
      const { recs, stats } = readAll(p);
      assert.equal(recs.length, 2);
      assert.equal(stats.corruptRecords, 1);
      assert.match(stats.stoppedEarly, /truncated/);
    }
  });

  it('reads a header-only pcap as zero records', function () {
    const p = join(dir, 'empty.pcap');
    writeFileSync(p, encodePcap([]));
    const { recs, stats } = readAll(p);
    assert.equal(recs.length, 0);
    assert.equal(stats.corruptRecords, 0);
  });

  it('rejects a missing file, a file that is not a capture, an empty file and a directory', function () {
    const txt = join(dir, 'notes.txt');
    writeFileSync(txt, 'hello, this is not a capture file at all\n');
    const empty = join(dir, 'zero.pcap');
    writeFileSync(empty, '');
    const cases: Array<[string, string, RegExp]> = [
      [join(dir, 'nope.pcap'), 'SKYDIVE_PCAP_NOT_FOUND', /does not exist/],
      [txt, 'SKYDIVE_PCAP_NOT_PCAP', /not a pcap or pcapng file \(unknown magic number 0x68656c6c\)/],
      [empty, 'SKYDIVE_PCAP_NOT_PCAP', /empty/],
      [dir, 'SKYDIVE_PCAP_UNREADABLE', /directory/],
    ];
    for (const [path, code, msg] of cases) {
      assert.throws(
        () => readPcapFile(path, () => assert.fail('no record expected')),
        (err: unknown) => err instanceof SkydiveError && err.code === code && msg.test(err.message),
        path,
      );
    }
  });

  describe('pcapng', function () {
    const base = 1700000000n;

    it('reads EPB and SPB with per-interface link type, resolution and offset', function () {
      const b = new PcapngBuilder()
        .shb()
        .idb(1) // Ethernet, µs
        .idb(101, 65535, 9) // raw IP, ns
        .nrb()
        .idb(1, 262144, 0x80 | 10, 100) // 2^-10 s, +100 s
        .epb(0, base * 1000000n + 123456n, frames[0], frames[0].length + 4)
        .epb(1, base * 1000000000n + 5_123_456_789n, frames[1].subarray(14))
        .epb(2, (base << 10n) + 512n, frames[2])
        .spb(frames[2]);
      const p = join(dir, 'multi.pcapng');
      writeFileSync(p, b.build());
      const { recs, stats } = readAll(p);
      assert.equal(stats.format, 'pcapng');
      assert.equal(stats.linkType, 1);
      assert.equal(stats.records, 4);
      assert.equal(stats.corruptRecords, 0);
      assert.deepEqual(
        recs.map((r) => r.linkType),
        [1, 101, 1, 1],
      );
      assert.equal(recs[0].tsMs, 1700000000123.456);
      assert.equal(recs[0].wireLen, frames[0].length + 4);
      assert.deepEqual(recs[0].data, frames[0]);
      assert.equal(recs[1].tsMs, 1700000005123.456);
      assert.deepEqual(recs[1].data, frames[1].subarray(14));
      assert.equal(recs[2].tsMs, 1700000100500);
      assert.deepEqual(recs[3].data, frames[2]);
      assert.equal(recs[3].tsMs, 0);
    });

    it('reads a big-endian section followed by a little-endian one', function () {
      const be = new PcapngBuilder(false).shb().idb(1).epb(0, 1000n, frames[0]).build();
      const le = new PcapngBuilder(true).shb().idb(101).epb(0, 2000n, frames[1].subarray(14)).build();
      const p = join(dir, 'sections.pcapng');
      writeFileSync(p, Buffer.concat([be, le]));
      const { recs, stats } = readAll(p);
      assert.equal(stats.corruptRecords, 0);
      assert.deepEqual(
        recs.map((r) => [r.linkType, r.tsMs]),
        [
          [1, 1],
          [101, 2],
        ],
      );
      assert.deepEqual(recs[0].data, frames[0]);
    });

    it('skips packet blocks with a bad caplen or interface and goes on', function () {
      const p = join(dir, 'badepb.pcapng');
      const b = new PcapngBuilder()
        .shb()
        .idb(1)
        .epb(0, 1000n, frames[0], frames[0].length, 5000) // caplen beyond the block
        .epb(7, 1000n, frames[0]) // no such interface
        .epb(0, 2000n, frames[1]);
      writeFileSync(p, b.build());
      const { recs, stats } = readAll(p);
      assert.equal(recs.length, 1);
      assert.deepEqual(recs[0].data, frames[1]);
      assert.equal(stats.corruptRecords, 2);
      assert.equal(stats.stoppedEarly, '');
    });

    it('stops at a block with an impossible length or a truncated block, counting it', function () {
      const good = new PcapngBuilder().shb().idb(1).epb(0, 1000n, frames[0]).build();
      const bad = new PcapngBuilder().block(6, Buffer.alloc(32), 7).build();
      const p1 = join(dir, 'badlen.pcapng');
      writeFileSync(p1, Buffer.concat([good, bad, good]));
      let r = readAll(p1);
      assert.equal(r.recs.length, 1);
      assert.equal(r.stats.corruptRecords, 1);
      assert.match(r.stats.stoppedEarly, /impossible length 7/);

      const p2 = join(dir, 'trunc.pcapng');
      writeFileSync(p2, good.subarray(0, good.length - 6));
      r = readAll(p2);
      assert.equal(r.recs.length, 0);
      assert.equal(r.stats.corruptRecords, 1);
      assert.match(r.stats.stoppedEarly, /truncated/);
    });
  });

  describe('shared captures', function () {
    const shared = sharedDir();
    before(function () {
      if (!shared) {
        console.log('    ../shared/pcaps is absent: skipping the shared-capture reader checks');
        this.skip();
      }
    });

    it('reads every record of every capture, with the counts of expected.json', function () {
      const expected = JSON.parse(readFileSync(join(shared!, 'pcaps', 'expected.json'), 'utf8')) as Array<{ pcap: string; packets: number }>;
      for (const e of expected) {
        const { recs, stats } = readAll(join(shared!, 'pcaps', e.pcap));
        assert.equal(stats.records, e.packets, e.pcap);
        assert.equal(stats.corruptRecords, 0, e.pcap);
        assert.ok(recs.every((r) => r.wireLen >= r.caplen && r.tsMs > 1e12), e.pcap);
      }
    });
  });
});
