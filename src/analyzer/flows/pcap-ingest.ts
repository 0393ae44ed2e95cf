import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../common/errors.js';
import { PcapReader } from '../../flow/pcap-reader.js';
import { FlowTable } from '../../flow/table.js';
import type { FlowJSON } from './flow-store.js';

/**
 * POST /api/pcap: a capture file (pcap or pcapng) turned into flows as an agent would, every flow finished
 * (the file is complete), ready for the flow store.
 */
export function flowsFromPcapBytes(body: Buffer, opts: { layerKeyMode?: 'L2' | 'L3' } = {}): { flows: FlowJSON[]; packets: number } {
  if (!body.length) throw new UsageError('SKYDIVE_PCAP_EMPTY', 'the request body is empty: expected a pcap or pcapng file');
  const dir = mkdtempSync(join(tmpdir(), 'skydive-pcap-'));
  try {
    const file = join(dir, 'upload.pcap');
    writeFileSync(file, body);
    const table = new FlowTable({ layerKeyMode: opts.layerKeyMode ?? 'L2', ipDefrag: true, extraTCPMetric: true, reassembleTCP: true });
    let stats;
    try {
      stats = new PcapReader(file).read((buf, offset, caplen, wireLen, tsMs, linkType) => table.processPacket(buf, offset, caplen, wireLen, tsMs, linkType));
    } catch (err) {
      throw new UsageError('SKYDIVE_PCAP_INVALID', `the request body is not a readable capture file: ${(err as Error).message}`);
    }
    if (stats.records === 0 && stats.corruptRecords > 0) throw new UsageError('SKYDIVE_PCAP_INVALID', `no packet could be read from the capture file (${stats.stoppedEarly})`);
    const flows = table.expireNow().map((f) => f.toJSON() as unknown as FlowJSON);
    return { flows, packets: stats.records };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
