import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcapWriter, encodePcap, writePcapFile, type PacketRecord, type PcapWriterOptions } from '../../../src/flow/pcap-writer.js';
import { readPcapFile } from '../../../src/flow/pcap-reader.js';
import { SkydiveError } from '../../../src/common/errors.js';
import { icmpFrame, udpFrame } from './frames.js';

describe('pcap writer', function () {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'skydive-pcapio-writer-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const records: PacketRecord[] = Array.from({ length: 3000 }, (_, i) => {
    const data = i % 2 ? icmpFrame(1, 2, i & 0xffff, i & 0xffff) : udpFrame(3, 4, 1024 + i, 53, i % 1400);
    return { data, tsMs: 1700000000000 + i * 1.25 + 0.999, wireLen: data.length + (i % 3) * 100 };
  });

  for (const opts of [{}, { bigEndian: true }, { nanoseconds: true }, { nanoseconds: true, bigEndian: true }] as PcapWriterOptions[]) {
    it(`round-trips ${JSON.stringify(opts)} through the reader, and the file equals encodePcap`, function () {
      const p = join(dir, `rt-${Object.keys(opts).join('-') || 'default'}.pcap`);
      assert.equal(writePcapFile(p, records, opts), records.length);
      assert.deepEqual(readFileSync(p), encodePcap(records, opts));
      let i = 0;
      const stats = readPcapFile(p, (buf, off, caplen, wireLen, tsMs, linkType) => {
        const r = records[i++];
        assert.equal(Buffer.compare(Buffer.from(buf.subarray(off, off + caplen)), r.data), 0);
        assert.equal(wireLen, r.wireLen);
        assert.equal(linkType, 1);
        assert.ok(Math.abs(tsMs - r.tsMs) < 0.0006, `${tsMs} vs ${r.tsMs}`);
      });
      assert.equal(i, records.length);
      assert.equal(stats.corruptRecords, 0);
    });
  }

  it('writes files that tcpdump (libpcap) reads, with the same timestamps', function () {
    const p = join(dir, 'tcpdump.pcap');
    const w = new PcapWriter(p, { linkType: 1, snaplen: 65535 });
    w.write(udpFrame(1, 2, 5000, 53, 12), 1700000000123.456);
    w.write(icmpFrame(2, 1, 77, 3, true), 1700000001999.999);
    w.close();
    w.close(); // closing twice is harmless
    const out = execFileSync('tcpdump', ['-nn', '-tt', '-r', p], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const lines = out.trim().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0], /^1700000000\.123456 IP 10\.0\.0\.1\.5000 > 10\.0\.0\.2\.53: /);
    assert.match(lines[1], /^1700000001\.999999 IP 10\.0\.0\.2 > 10\.0\.0\.1: ICMP echo reply, id 77, seq 3/);
  });

  it('carries a rounded-up fraction into the next second', function () {
    const buf = encodePcap([{ data: Buffer.alloc(20), tsMs: 1999.9999 }]);
    assert.equal(buf.readUInt32LE(24), 2);
    assert.equal(buf.readUInt32LE(28), 0);
  });

  it('fails clearly when the file cannot be created or is already closed', function () {
    assert.throws(() => new PcapWriter(join(dir, 'no', 'such', 'dir.pcap')), (e: unknown) => e instanceof SkydiveError && e.code === 'SKYDIVE_PCAP_WRITE');
    const w = new PcapWriter(join(dir, 'closed.pcap'));
    w.close();
    assert.throws(() => w.write(Buffer.alloc(1), 0), /already closed/);
  });
});
