import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePcap } from '../../../src/flow/pcap-writer.js';
import { SKYDIVE_BIN, runSkydive, sharedDir, type CliRun } from '../../helpers/shared.js';
import { arpFrame, ethernet, icmpFrame, ipv4, udp, udpFrame } from './frames.js';

function skydive(...args: string[]): CliRun {
  return runSkydive(args);
}

interface FlowOut {
  UUID: string;
  ParentUUID: string;
  LayersPath: string;
  Application: string;
  Network?: { A: string; B: string };
  Metric: { ABPackets: number; BAPackets: number; ABBytes: number; BABytes: number };
  DNS?: unknown;
}

function dnsQuery(): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(0x4242, 0);
  h.writeUInt16BE(0x0100, 2);
  h.writeUInt16BE(1, 4);
  return Buffer.concat([h, Buffer.from([3, 0x77, 0x77, 0x77, 0, 0, 1, 0, 1])]);
}

describe('skydive flows (CLI)', function () {
  let dir: string;
  let mixed: string;
  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'skydive-pcapio-cli-'));
    mixed = join(dir, 'mixed.pcap');
    const frames = [udpFrame(1, 2, 4000, 9999, 20), udpFrame(2, 1, 9999, 4000, 30), icmpFrame(1, 3, 5, 1), icmpFrame(3, 1, 5, 1, true), arpFrame(4)];
    writeFileSync(mixed, encodePcap(frames.map((data, i) => ({ data, tsMs: 1700000000000 + i * 10 }))));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function json(...args: string[]): FlowOut[] {
    const r = skydive('flows', ...args);
    assert.equal(r.status, 0, r.stderr);
    const flows = JSON.parse(r.stdout) as FlowOut[];
    assert.ok(Array.isArray(flows));
    return flows;
  }

  it('prints its help', function () {
    const r = skydive('flows', '--help');
    assert.equal(r.status, 0);
    for (const flag of ['--pcap', '--link-type', '--layer-key-mode', '--no-defrag', '--extra-layers', '--bpf', '--format']) assert.ok(r.stdout.includes(flag), flag);
  });

  it('rejects bad usage with one line on stderr and exit code 2', function () {
    const cases: Array<[string[], RegExp]> = [
      [['--pcap', 'x.pcap', '--bogus'], /unknown option '--bogus'/],
      [['--pcap', 'x.pcap', '--format', 'xml'], /expected one of json, ndjson, table, summary/],
      [['--pcap', 'x.pcap', '--link-type', 'ppp'], /expected one of ethernet, raw/],
      [['--pcap', 'x.pcap', '--layer-key-mode', 'L4'], /expected one of L2, L3/],
      [['--pcap', 'x.pcap', '--extra-layers', 'DNS,SMTP'], /unknown layer 'SMTP'/],
      [['--pcap', 'x.pcap', '--max-entries', '-3'], /non-negative integer/],
      [[], /required option '--pcap <file>' not specified/],
    ];
    for (const [args, msg] of cases) {
      const r = skydive('flows', ...args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, msg);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });

  it('rejects an invalid BPF filter with exit code 2 and libpcap’s reason', function () {
    const r = skydive('flows', '--pcap', mixed, '--bpf', 'port nonsense');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /invalid BPF filter 'port nonsense': .*nonsense.* \[SKYDIVE_BPF_INVALID\]/);
  });

  it('fails with exit code 1 on a missing file or a file that is not a capture', function () {
    let r = skydive('flows', '--pcap', join(dir, 'missing.pcap'));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^skydive: pcap file '.*missing\.pcap' does not exist \[SKYDIVE_PCAP_NOT_FOUND\]\n$/);
    const txt = join(dir, 'text.pcap');
    writeFileSync(txt, 'GET / HTTP/1.1\r\n\r\n');
    r = skydive('flows', '--pcap', txt);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /is not a pcap or pcapng file .*\[SKYDIVE_PCAP_NOT_PCAP\]/);
  });

  it('--format json prints one array of flows, both directions counted', function () {
    const flows = json('--pcap', mixed);
    assert.deepEqual(flows.map((f) => f.Application).sort(), ['ARP', 'ICMPv4', 'UDP']);
    const u = flows.find((f) => f.Application === 'UDP')!;
    assert.equal(u.LayersPath, 'Ethernet/IPv4/UDP');
    assert.deepEqual([u.Metric.ABPackets, u.Metric.BAPackets], [1, 1]);
    assert.deepEqual([u.Network!.A, u.Network!.B], ['10.0.0.1', '10.0.0.2']);
    assert.ok(flows.every((f) => f.ParentUUID === ''));
  });

  it('--format ndjson prints one flow per line', function () {
    const r = skydive('flows', '--pcap', mixed, '--format', 'ndjson');
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 3);
    assert.deepEqual(lines.map((l) => (JSON.parse(l) as FlowOut).Application).sort(), ['ARP', 'ICMPv4', 'UDP']);
  });

  it('--format table prints aligned columns', function () {
    const r = skydive('flows', '--pcap', mixed, '--format', 'table');
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^UUID\s+Application\s+LayersPath\s+Link\s+Network\s+Transport\s+AB pkts\/bytes\s+BA pkts\/bytes\s+Parent$/);
    const udpRow = lines.find((l) => l.includes('Ethernet/IPv4/UDP'))!;
    assert.ok(udpRow.includes('10.0.0.1 → 10.0.0.2') && udpRow.includes('4000 → 9999'), udpRow);
    assert.equal(udpRow.indexOf('Ethernet/IPv4/UDP'), lines[0].indexOf('LayersPath'));
    assert.equal(lines[lines.length - 1], '3 flows');
  });

  it('--format summary prints counts and speed', function () {
    const r = skydive('flows', '--pcap', mixed, '--format', 'summary');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^records:\s+5$/m);
    assert.match(r.stdout, /^packets:\s+5$/m);
    assert.match(r.stdout, /^flows:\s+3$/m);
    assert.match(r.stdout, /^skipped records:\s+0$/m);
    assert.match(r.stdout, /^packets\/s:\s+\d+$/m);
  });

  it('--bpf filters the raw packets before the flow table', function () {
    const flows = json('--pcap', mixed, '--bpf', 'udp');
    assert.deepEqual(flows.map((f) => f.Application), ['UDP']);
    const r = skydive('flows', '--pcap', mixed, '--bpf', 'icmp', '--format', 'summary');
    assert.match(r.stdout, /^records:\s+5$/m);
    assert.match(r.stdout, /^packets:\s+2$/m);
  });

  it('--link-type raw decodes IP packets whatever the file header says', function () {
    const ipOnly = [udpFrame(1, 2, 1, 2).subarray(14), udpFrame(2, 1, 2, 1).subarray(14)];
    const lying = join(dir, 'raw-in-ethernet.pcap');
    writeFileSync(lying, encodePcap(ipOnly.map((data, i) => ({ data, tsMs: 1e12 + i }))));
    const honest = join(dir, 'raw.pcap');
    writeFileSync(honest, encodePcap(ipOnly.map((data, i) => ({ data, tsMs: 1e12 + i })), { linkType: 101 }));
    for (const flows of [
      json('--pcap', lying, '--link-type', 'raw'),
      json('--pcap', honest),
      // the filter is compiled for the link type the records are decoded with
      json('--pcap', lying, '--link-type', 'raw', '--bpf', 'udp and host 10.0.0.1'),
      json('--pcap', honest, '--bpf', 'udp'),
    ]) {
      assert.equal(flows.length, 1);
      assert.equal(flows[0].LayersPath, 'IPv4/UDP');
      assert.deepEqual([flows[0].Metric.ABPackets, flows[0].Metric.BAPackets], [1, 1]);
    }
  });

  it('--layer-key-mode L3 merges what L2 splits by MAC', function () {
    const p = join(dir, 'two-macs.pcap');
    const icmp = (src: number, dstMac: number, reply: boolean) =>
      ethernet(src, dstMac, 0x0800, ipv4(reply ? [10, 0, 0, 2] : [10, 0, 0, 1], reply ? [10, 0, 0, 1] : [10, 0, 0, 2], 1, icmpFrame(1, 2, 9, 1, reply).subarray(34)));
    writeFileSync(p, encodePcap([icmp(1, 2, false), icmp(2, 1, true), icmp(5, 2, false)].map((data, i) => ({ data, tsMs: 1e12 + i }))));
    assert.equal(json('--pcap', p).length, 2);
    assert.equal(json('--pcap', p, '--layer-key-mode', 'L3').length, 1);
  });

  it('--raw-packets, --node-tid and --max-entries reach the flow table', function () {
    const plain = json('--pcap', mixed);
    const flows = json('--pcap', mixed, '--raw-packets', '1', '--node-tid', 'probe-1');
    const udpFlow = (fs: FlowOut[]) => fs.find((f) => f.Application === 'UDP') as FlowOut & { RawPacketsCaptured: number; NodeTID?: string };
    assert.equal(udpFlow(plain).RawPacketsCaptured, 0);
    assert.equal(udpFlow(flows).RawPacketsCaptured, 1);
    assert.equal(udpFlow(flows).NodeTID, 'probe-1');
    assert.notEqual(udpFlow(flows).UUID, udpFlow(plain).UUID, 'the NodeTID is part of the UUID');
    const r = skydive('flows', '--pcap', mixed, '--max-entries', '1', '--format', 'summary');
    assert.match(r.stdout, /^flows:\s+1$/m);
    assert.match(r.stdout, /^flows evicted:\s+2$/m);
  });

  it('--extra-layers DNS adds the DNS section', function () {
    const p = join(dir, 'dns.pcap');
    writeFileSync(p, encodePcap([{ data: ethernet(1, 2, 0x0800, ipv4([10, 0, 0, 1], [10, 0, 0, 2], 17, udp(5353, 53, dnsQuery()))), tsMs: 1e12 }]));
    assert.equal(json('--pcap', p)[0].DNS, undefined);
    const flows = json('--pcap', p, '--extra-layers', 'vrrp,DNS', '--extra-layers', 'DHCPv4');
    assert.equal(flows[0].Application, 'DNS');
    assert.ok(flows[0].DNS, 'DNS section present');
  });

  it('streams many flows and stops quietly when the reader goes away (| head)', function () {
    const p = join(dir, 'many-flows.pcap');
    const n = 20000;
    writeFileSync(p, encodePcap(Array.from({ length: n }, (_, i) => ({ data: udpFrame(1, 2, 1024 + (i % 60000), 7000 + Math.floor(i / 60000)), tsMs: 1e12 + i }))));
    const all = skydive('flows', '--pcap', p, '--format', 'ndjson');
    assert.equal(all.status, 0, all.stderr);
    assert.equal(all.stdout.trimEnd().split('\n').length, n);
    const r = spawnSync('bash', ['-c', `'${process.execPath}' '${SKYDIVE_BIN}' flows --pcap '${p}' --format json | head -c 100 >/dev/null; echo "\${PIPESTATUS[0]}"`], { encoding: 'utf8' });
    assert.equal(r.stdout.trim(), '0');
    assert.equal(r.stderr, '');
  });

  it('prints nested tunnel flows whose ParentUUID resolve (shared gre-gre-icmpv4.pcap)', function () {
    const shared = sharedDir();
    if (!shared) {
      console.log('    ../shared/pcaps is absent: skipping the GRE capture check');
      this.skip();
    }
    const flows = json('--pcap', join(shared!, 'pcaps', 'gre-gre-icmpv4.pcap'));
    const byUUID = new Map(flows.map((f) => [f.UUID, f]));
    const paths = flows.map((f) => f.LayersPath);
    for (const p of ['Ethernet/IPv4/GRE', 'IPv4/GRE', 'IPv4/ICMPv4']) assert.ok(paths.includes(p), `${p} in ${paths}`);
    const inner = flows.find((f) => f.LayersPath === 'IPv4/ICMPv4')!;
    const middle = byUUID.get(inner.ParentUUID)!;
    assert.equal(middle.LayersPath, 'IPv4/GRE');
    assert.equal(byUUID.get(middle.ParentUUID)!.LayersPath, 'Ethernet/IPv4/GRE');
  });
});
