import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePcap } from '../../../src/flow/pcap-writer.js';
import { writeFileSync } from 'node:fs';
import {
  buildARPRequest,
  buildFrame,
  buildNeighborSolicitation,
  internetChecksum,
  neighbourAnswer,
  parseIPv6,
  type FrameSpec,
  INJECTION_TYPES,
} from '../../../src/injector/packet-builder.js';
import { frameAt, type InjectionPlan } from '../../../src/injector/injection.js';
import { UsageError } from '../../../src/common/errors.js';
import { sh } from '../../helpers/sh.js';

const base = { srcMAC: '02:00:00:00:00:01', dstMAC: '02:00:00:00:00:02' };
const v4 = { ...base, srcIP: '10.1.2.3', dstIP: '10.1.2.4' };
const v6 = { ...base, srcIP: 'fd49:37c8:5229::1', dstIP: 'fd49:37c8:5229::2' };

function specFor(type: FrameSpec['type'], payload = Buffer.from('skydive payload!')): FrameSpec {
  return { ...(type.endsWith('6') ? v6 : v4), type, srcPort: 12345, dstPort: 54321, icmpID: 123, icmpSeq: 7, payload };
}

describe('injector packet builder', () => {
  it('builds an ICMPv4 echo request whose length matches the original injector (56-byte payload → 98 bytes)', () => {
    const f = buildFrame({ ...v4, type: 'icmp4', icmpID: 123, icmpSeq: 1, payload: Buffer.alloc(56, 0x61) });
    assert.equal(f.length, 98);
    assert.equal(f.readUInt16BE(12), 0x0800);
    assert.equal(f[14], 0x45);
    assert.equal(f.readUInt16BE(16), 84);
    assert.equal(f[22], 64, 'default TTL');
    assert.equal(f[23], 1);
    assert.equal(f[34], 8, 'echo request');
    assert.equal(f.readUInt16BE(38), 123);
    assert.equal(f.readUInt16BE(40), 1);
    assert.equal(internetChecksum(f, 14, 34), 0, 'IPv4 header checksum verifies');
    assert.equal(internetChecksum(f, 34, f.length), 0, 'ICMP checksum verifies');
    assert.equal(buildFrame({ ...v4, type: 'icmp4', payload: Buffer.alloc(1024) }).length, 1066);
  });

  it('builds an ICMPv6 echo request with hop limit, next header 58 and a pseudo-header checksum', () => {
    const f = buildFrame({ ...v6, type: 'icmp6', icmpID: 456, ttl: 12 });
    assert.equal(f.readUInt16BE(12), 0x86dd);
    assert.equal(f[14] >> 4, 6);
    assert.equal(f[20], 58);
    assert.equal(f[21], 12);
    assert.equal(f[54], 128);
    assert.equal(f.readUInt16BE(58), 456);
    assert.deepEqual([...f.subarray(22, 38)], [...parseIPv6('fd49:37c8:5229::1')]);
  });

  it('builds TCP SYN and UDP datagrams with the requested ports', () => {
    const t = buildFrame(specFor('tcp4'));
    assert.equal(t.readUInt16BE(34), 12345);
    assert.equal(t.readUInt16BE(36), 54321);
    assert.equal(t[47], 0x02, 'SYN only');
    const u = buildFrame(specFor('udp6'));
    assert.equal(u[20], 17);
    assert.equal(u.readUInt16BE(54), 12345);
    assert.equal(u.readUInt16BE(58), 8 + 16, 'UDP length');
  });

  it('produces frames whose every checksum tcpdump verifies', async function () {
    const dir = mkdtempSync(join(tmpdir(), 'skydive-builder-'));
    try {
      const file = join(dir, 'frames.pcap');
      const frames = INJECTION_TYPES.flatMap((t) => [buildFrame(specFor(t)), buildFrame(specFor(t, Buffer.alloc(0))), buildFrame(specFor(t, Buffer.from('odd')))]);
      writeFileSync(file, encodePcap(frames.map((data, i) => ({ data, tsMs: 1000 + i }))));
      const out = await sh(`tcpdump -nn -vvv -r ${file} 2>&1`);
      assert.equal(out.match(/^\d\d:\d\d/gm)?.length, frames.length, out);
      assert.doesNotMatch(out, /bad|incorrect|wrong/i, out);
      // tcpdump confirms TCP ("(correct)"), UDP and ICMPv6 ("sum ok") checksums; for ICMPv4 it only reports wrong ones
      assert.equal(out.match(/sum ok|\(correct\)/g)?.length, frames.length - 3, out);
      assert.match(out, /ICMP echo request, id 123, seq 7/);
      assert.match(out, /ICMP6, echo request, id 123, seq 7/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects bad addresses, ports and TTLs with usage errors', () => {
    assert.throws(() => buildFrame({ ...v4, srcMAC: '02:00:00:00:00', type: 'icmp4' }), (e: unknown) => e instanceof UsageError && /invalid MAC/.test(e.message));
    assert.throws(() => buildFrame({ ...v4, dstIP: '10.0.0.256', type: 'icmp4' }), /invalid IPv4 address '10.0.0.256'/);
    assert.throws(() => buildFrame({ ...v4, type: 'icmp6' }), /invalid IPv6 address/);
    assert.throws(() => buildFrame({ ...v4, type: 'udp4', dstPort: 70000 }), /invalid destination port 70000/);
    assert.throws(() => buildFrame({ ...v4, type: 'icmp4', ttl: 300 }), /invalid TTL 300/);
  });

  it('builds neighbour probes that tcpdump decodes, and reads the answers', async function () {
    const dir = mkdtempSync(join(tmpdir(), 'skydive-builder-'));
    try {
      const file = join(dir, 'probes.pcap');
      const arp = buildARPRequest('02:00:00:00:00:01', '10.1.2.3', '10.1.2.4');
      const ns = buildNeighborSolicitation('02:00:00:00:00:01', 'fd00::1', 'fd00::abcd:2');
      writeFileSync(file, encodePcap([arp, ns].map((data, i) => ({ data, tsMs: i }))));
      const out = await sh(`tcpdump -nn -vv -e -r ${file} 2>&1`);
      assert.match(out, /ff:ff:ff:ff:ff:ff.*Request who-has 10\.1\.2\.4 tell 10\.1\.2\.3/);
      assert.match(out, /33:33:ff:cd:00:02.*fd00::1 > ff02::1:ffcd:2: \[icmp6 sum ok\] ICMP6, neighbor solicitation, length 32, who has fd00::abcd:2/);
      assert.match(out, /source link-address option.*02:00:00:00:00:01/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // an ARP reply from 10.1.2.4: the answer is its sender MAC
    const reply = Buffer.from(buildARPRequest('02:00:00:00:00:09', '10.1.2.4', '10.1.2.3'));
    reply.writeUInt16BE(2, 20);
    assert.equal(neighbourAnswer(reply, reply.length, '10.1.2.4'), '02:00:00:00:00:09');
    assert.equal(neighbourAnswer(reply, reply.length, '10.1.2.5'), undefined);
    assert.equal(neighbourAnswer(buildARPRequest('02:00:00:00:00:09', '10.1.2.4', '10.1.2.3'), 42, '10.1.2.4'), undefined, 'a request is no answer');
    // a Neighbor Advertisement for fd00::2 with a target link-layer option
    const na = Buffer.from(buildNeighborSolicitation('02:00:00:00:00:07', 'fd00::2', 'fd00::2'));
    na[54] = 136;
    na[78] = 2;
    assert.equal(neighbourAnswer(na, na.length, 'fd00::2'), '02:00:00:00:00:07');
    assert.equal(neighbourAnswer(na, 20, 'fd00::2'), undefined, 'truncated');
  });

  it('numbers the packets of an injection; random mode changes ids after the first, IncrementPayload grows them', () => {
    const plan: InjectionPlan = {
      ifName: 'eth0', type: 'icmp4', srcMAC: '02:00:00:00:00:01', dstMAC: '02:00:00:00:00:02', srcIP: '10.0.0.1', dstIP: '10.0.0.2',
      srcPort: 1000, dstPort: 2000, icmpID: 123, count: 3, intervalMs: 10, mode: 'unique', payload: 'abc', incrementPayload: 10, ttl: 9,
    };
    const frames = [0, 1, 2].map((i) => frameAt(plan, i));
    assert.deepEqual(frames.map((f) => f.readUInt16BE(38)), [123, 123, 123]);
    assert.deepEqual(frames.map((f) => f.readUInt16BE(40)), [1, 2, 3], 'sequence numbers');
    assert.deepEqual(frames.map((f) => f.length), [45, 55, 65]);
    assert.equal(frames[2].subarray(42, 45).toString(), 'abc');
    assert.equal(frames[0][22], 9);
    const random = Array.from({ length: 20 }, (_, i) => frameAt({ ...plan, mode: 'random' }, i).readUInt16BE(38));
    assert.equal(random[0], 123);
    assert.ok(new Set(random.slice(1)).size > 10, 'random ids');
    const ports = Array.from({ length: 20 }, (_, i) => frameAt({ ...plan, type: 'udp4', mode: 'random' }, i).readUInt16BE(34));
    assert.equal(ports[0], 1000);
    assert.ok(new Set(ports.slice(1)).size > 10, 'random source ports');
  });
});
