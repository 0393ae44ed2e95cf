import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileBPF, translateBPF } from '../../../src/flow/bpf.js';
import { readPcapFile } from '../../../src/flow/pcap-reader.js';
import { encodePcap } from '../../../src/flow/pcap-writer.js';
import { UsageError } from '../../../src/common/errors.js';
import { sharedDir } from '../../helpers/shared.js';
import { arpFrame, icmpFrame, udpFrame, vlanFrame } from './frames.js';

/** Records of a capture that the compiled filter accepts. */
function countMatches(path: string, expr: string, snaplen?: number): { matched: number; total: number } {
  let matched = 0;
  let total = 0;
  let filter: ReturnType<typeof compileBPF> | undefined;
  readPcapFile(path, (buf, off, caplen, wireLen, _ts, linkType) => {
    filter ??= compileBPF(expr, linkType, snaplen);
    total++;
    if (filter.matches(buf, off, caplen, wireLen)) matched++;
  });
  return { matched, total };
}

function tcpdumpCount(path: string, expr: string): number {
  const out = execFileSync('tcpdump', ['-nn', '-r', path, expr], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out.trim() ? out.trim().split('\n').length : 0;
}

describe('BPF (libpcap addon)', function () {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'skydive-pcapio-bpf-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('matches Ethernet frames on the bytes in place, at any offset', function () {
    const f = compileBPF('udp port 53', 1);
    const dns = udpFrame(1, 2, 4000, 53);
    const other = udpFrame(1, 2, 4000, 54);
    assert.equal(f.matches(dns, 0, dns.length, dns.length), true);
    assert.equal(f.matches(other, 0, other.length, other.length), false);
    const big = Buffer.concat([Buffer.alloc(100, 0xff), dns, Buffer.alloc(7)]);
    assert.equal(f.matches(big, 100, dns.length, dns.length), true);
    assert.equal(f.matches(new Uint8Array(big.buffer, big.byteOffset, big.length), 100, dns.length, dns.length), true);
    // the filter cannot read past caplen: a frame cut before the UDP header no longer matches
    assert.equal(f.matches(dns, 0, 30, dns.length), false);
    assert.equal(compileBPF('arp', 1).matches(arpFrame(5), 0, 42, 42), true);
    assert.equal(compileBPF('icmp', 1).matches(arpFrame(5), 0, 42, 42), false);
    assert.equal(f.expression, 'udp port 53');
    assert.equal(f.linkType, 1);
  });

  it('compiles for raw IP captures (LINKTYPE_RAW 101)', function () {
    const ip = icmpFrame(1, 2, 9, 9).subarray(14);
    const f = compileBPF('icmp and host 10.0.0.2', 101);
    assert.equal(f.matches(ip, 0, ip.length, ip.length), true);
    assert.equal(compileBPF('udp', 101).matches(ip, 0, ip.length, ip.length), false);
  });

  it('rejects an invalid expression with libpcap’s message', function () {
    for (const [expr, msg] of [
      ['port foo', /unknown port 'foo'/],
      ['host and and', /syntax error/],
    ] as Array<[string, RegExp]>) {
      assert.throws(
        () => compileBPF(expr, 1),
        (e: unknown) => e instanceof UsageError && e.code === 'SKYDIVE_BPF_INVALID' && e.message.startsWith(`invalid BPF filter '${expr}': `) && msg.test(e.message),
      );
    }
    assert.throws(() => compileBPF('ether host 02:00:00:00:00:01', 101), /invalid BPF filter/);
  });

  it('refuses out-of-range offsets instead of reading outside the buffer', function () {
    for (const engine of ['js', 'native'] as const) {
      const f = compileBPF('ip', 1, 262144, engine);
      assert.throws(() => f.matches(Buffer.alloc(10), 5, 10, 10), /outside the buffer/, engine);
    }
  });

  it('agrees with tcpdump on a capture the test writes', function () {
    const p = join(dir, 'mix.pcap');
    const frames = Array.from({ length: 60 }, (_, i) => (i % 3 === 0 ? arpFrame(i) : i % 3 === 1 ? udpFrame(1, 2, 1000 + i, i % 2 ? 53 : 80) : icmpFrame(2, 1, i, i)));
    writeFileSync(p, encodePcap(frames.map((data, i) => ({ data, tsMs: 1e12 + i }))));
    for (const expr of ['port 53 or port 80', 'icmp', 'arp', 'udp and src portrange 1000-1030', 'not ip']) {
      assert.equal(countMatches(p, expr).matched, tcpdumpCount(p, expr), expr);
    }
  });

  describe('JavaScript translation of the compiled program', function () {
    // expressions that use every kind of instruction libpcap emits: absolute/indirect/MSH loads, scratch
    // memory, every ALU operation, jset, len, and the VLAN/IPv6/IP-options paths
    const EXPRESSIONS = [
      'ip or ip6',
      'port 53 or port 80',
      'icmp or (vlan and icmp)',
      'tcp[tcpflags] & (tcp-syn|tcp-fin) != 0',
      "tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420",
      'ip[2:2] > 100 and len >= 60',
      'greater 200 or less 70',
      'ip[0] & 0xf > 5',
      'ether[0] & 1 = 1',
      'udp[8:2] % 7 = 1 or udp[10:2] * 3 / 2 > 50000',
      '(ip[6:2] << 2) >> 1 > 3 or ip[1] ^ 0xff = 0xfe',
      '0 - ip[8] != 0 and ip[8] - 1 > 10',
      'ip6 and (tcp or udp) and not port 22',
      'vlan 8 and vlan 10',
      'net 10.0.0.0/8 and not host 10.0.0.99',
      'ip proto 47 or udp dst port 4789',
      'ether broadcast or arp',
      // division and modulo by a zero X reject the packet
      'udp[4:2] / (ip[1] & 1) = 3 or udp[4:2] % (ip[1] & 1) = 0',
    ];

    function frames(): Buffer[] {
      const base = [udpFrame(1, 2, 4000, 53, 40), udpFrame(2, 1, 53, 4000, 300), icmpFrame(1, 3, 5, 1), icmpFrame(3, 1, 5, 1, true), arpFrame(4)];
      base.push(vlanFrame([8, 10], icmpFrame(1, 2, 6, 1).subarray(14)), vlanFrame([8], udpFrame(1, 2, 1, 2).subarray(14)));
      const shared = sharedDir();
      if (shared) {
        for (const f of readdirSync(join(shared, 'pcaps')).filter((n) => n.endsWith('.pcap'))) {
          readPcapFile(join(shared, 'pcaps', f), (buf, off, caplen) => base.push(Buffer.from(buf.subarray(off, off + caplen))));
        }
      }
      // truncated and bit-flipped copies reach the out-of-bounds and odd-value paths
      let seed = 12345;
      const rnd = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
      const out: Buffer[] = [];
      for (const f of base) {
        out.push(f, f.subarray(0, rnd(f.length + 1)));
        const g = Buffer.from(f);
        for (let k = 0; k < 3 && g.length; k++) g[rnd(g.length)] ^= 1 << rnd(8);
        out.push(g);
      }
      return out;
    }

    it('agrees with libpcap’s bpf_filter on every packet, intact, truncated or bit-flipped', function () {
      const packets = frames();
      let agreed = 0;
      for (const expr of EXPRESSIONS) {
        const js = compileBPF(expr, 1);
        const ref = compileBPF(expr, 1, 262144, 'native');
        assert.equal(js.engine, 'js');
        let matched = 0;
        for (const p of packets) {
          for (const wire of [p.length, p.length + 500]) {
            const want = ref.matches(p, 0, p.length, wire);
            assert.equal(js.matches(p, 0, p.length, wire), want, `'${expr}' on ${p.toString('hex')} (wire ${wire})`);
            if (want) matched++;
            agreed++;
          }
        }
        if (!expr.includes('(ip[1] & 1)')) assert.ok(matched > 0, `'${expr}' matches some packet, so the comparison means something`);
      }
      assert.ok(agreed > 1000);
    });

    it('rejects programs it cannot translate instead of guessing', function () {
      assert.throws(() => translateBPF(new Uint32Array([0x15, 5, 0, 1, 0x06, 0, 0, 1])), /jump out of the program/);
      assert.throws(() => translateBPF(new Uint32Array([0x07 | 0x40, 0, 0, 0])), /unknown/);
      assert.throws(() => translateBPF(new Uint32Array([0x02, 0, 0, 16, 0x06, 0, 0, 1])), /scratch memory/);
    });
  });

  describe('on the shared captures', function () {
    const shared = sharedDir();
    before(function () {
      if (!shared) {
        console.log('    ../shared/pcaps is absent: skipping the BPF checks on shared captures');
        this.skip();
      }
    });

    it("TestBPFFilter: 'port 53 or port 80' (snaplen 256) keeps the DNS and HTTP packets only, as tcpdump does", function () {
      const p = join(shared!, 'pcaps', 'eth-ip4-arp-dns-req-http-google.pcap');
      const { matched, total } = countMatches(p, 'port 53 or port 80', 256);
      assert.equal(total, 58);
      assert.equal(matched, tcpdumpCount(p, 'port 53 or port 80'));
      assert.ok(matched > 0 && matched < total);
    });

    it("TestVlanBPF: 'icmp or (vlan and icmp)' matches both 802.1Q-tagged packets", function () {
      const { matched, total } = countMatches(join(shared!, 'pcaps', 'icmp-vlan.pcap'), 'icmp or (vlan and icmp)', 256);
      assert.equal(total, 2);
      assert.equal(matched, 2);
    });
  });
});
