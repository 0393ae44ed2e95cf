import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../helpers/shared.js';
import { SFlowDecoder, SFlowDecodeError, type SFlowIfCounters } from '../../../src/probes/capture/sflow-decoder.js';

/** Datagrams exported by a real ovs-vswitchd (userspace datapath, sampling=1, header=128) while two namespaces pinged. */
const FIXTURE = join(REPO_ROOT, 'test', 'unit', 'capture', 'fixtures', 'ovs-netdev-sflow.hex');

function datagrams(): Buffer[] {
  return readFileSync(FIXTURE, 'utf8').trim().split('\n').map((l) => Buffer.from(l, 'hex'));
}

interface Seen {
  headers: Array<{ hex: string; frameLength: number; stripped: number; protocol: number; rate: number; input: number; output: number }>;
  counters: SFlowIfCounters[];
}

function decoder(seen: Seen): SFlowDecoder {
  return new SFlowDecoder({
    onPacketHeader(buf, off, len, frameLength, stripped, protocol, s) {
      seen.headers.push({ hex: Buffer.from(buf.subarray(off, off + len)).toString('hex'), frameLength, stripped, protocol, rate: s.samplingRate, input: s.inputIfIndex, output: s.outputIfIndex });
    },
    onIfCounters(c) {
      seen.counters.push(c);
    },
  });
}

/** A hand-made sFlow datagram: IPv6 agent, one expanded flow sample with a raw header record, one unknown record. */
function expandedDatagram(header: Buffer): Buffer {
  const words = (...v: number[]) => Buffer.concat(v.map((x) => { const b = Buffer.alloc(4); b.writeUInt32BE(x >>> 0); return b; }));
  const padded = Buffer.concat([header, Buffer.alloc((4 - (header.length % 4)) % 4)]);
  const rawRecord = Buffer.concat([words(1, 16 + padded.length, 1, header.length + 4, 4, header.length), padded]);
  const unknownRecord = Buffer.concat([words(1001, 8), Buffer.alloc(8, 0xee)]);
  const sampleBody = Buffer.concat([words(42, 0, 7, 256, 1000, 0, 0, 3, 0, 9, 2), rawRecord, unknownRecord]);
  const agent = Buffer.from('fd000000000000000000000000000001', 'hex');
  return Buffer.concat([words(5, 2), agent, words(0, 77, 123456, 1), words(3, sampleBody.length), sampleBody]);
}

describe('sFlow v5 decoder', () => {
  it('decodes the flow and counter samples that Open vSwitch (netdev datapath) exports', () => {
    const seen: Seen = { headers: [], counters: [] };
    const dec = decoder(seen);
    const infos = datagrams().map((d) => dec.decode(d));
    assert.deepEqual(infos.map((i) => [i.agentAddress, i.sequence, i.samples]), [['127.0.0.1', 1, 5], ['127.0.0.1', 3, 7], ['127.0.0.1', 5, 1], ['127.0.0.1', 7, 1], ['127.0.0.1', 9, 3]]);
    assert.equal(seen.headers.length, 12);
    assert.ok(seen.headers.every((h) => h.protocol === 1 && h.rate === 1 && h.stripped === 4 && h.frameLength === h.hex.length / 2 + 4));
    // the echo request 10.77.0.1 → 10.77.0.2 and its reply, between OVS ports 11 and 12
    const icmp = seen.headers.filter((h) => h.hex.slice(24, 28) === '0800' && h.hex.slice(46, 48) === '01');
    assert.deepEqual(icmp.map((h) => [h.hex.slice(52, 60), h.hex.slice(60, 68), h.input, h.output, h.frameLength - h.stripped]), [
      ['0a4d0001', '0a4d0002', 11, 12, 98],
      ['0a4d0002', '0a4d0001', 12, 11, 98],
    ]);
    assert.equal(seen.counters.length, 4);
    assert.deepEqual([seen.counters[0].IfIndex, seen.counters[0].IfType, seen.counters[0].IfSpeed], [10, 6, 10_000_000_000]);
    assert.deepEqual(seen.counters.map((c) => c.IfOutDiscards), [4, 11, 11, 13]);
  });

  it('decodes expanded flow samples and IPv6 agent addresses, skipping unknown records', () => {
    const seen: Seen = { headers: [], counters: [] };
    const header = Buffer.from('ffffffffffff0200000000010806', 'hex');
    const info = decoder(seen).decode(expandedDatagram(header));
    assert.equal(info.agentAddress, 'fd00::1');
    assert.equal(info.uptimeMs, 123456);
    assert.deepEqual(seen.headers, [{ hex: header.toString('hex'), frameLength: 18, stripped: 4, protocol: 1, rate: 256, input: 3, output: 9 }]);
  });

  it('reports every truncation and corruption as an SFlowDecodeError, never anything else', () => {
    const all = [...datagrams(), expandedDatagram(Buffer.alloc(33, 1))];
    const dec = decoder({ headers: [], counters: [] });
    let errors = 0;
    for (const d of all) {
      for (let len = 0; len < d.length; len++) {
        try {
          dec.decode(d, 0, len);
        } catch (err) {
          assert.ok(err instanceof SFlowDecodeError, `truncated to ${len}: ${err}`);
          errors++;
        }
      }
      // flip bytes one at a time: either decodes or fails with the decoder's own error
      for (let i = 0; i < d.length; i += 3) {
        const c = Buffer.from(d);
        c[i] ^= 0xa5;
        try {
          dec.decode(c);
        } catch (err) {
          assert.ok(err instanceof SFlowDecodeError, `byte ${i} flipped: ${err}`);
        }
      }
    }
    assert.ok(errors > all.length * 20, 'most truncations are detected');
    assert.throws(() => dec.decode(Buffer.from('0000000400000001', 'hex')), /unsupported sFlow version 4/);
  });
});
