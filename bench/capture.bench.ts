import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { spawnJsonChild } from '../src/probes/capture/namespace-child.js';
import type { CaptureCountersJSON, CaptureWorkerSpec, WorkerMessage } from '../src/probes/capture/protocol.js';
import type { Benchmark, BenchResult } from './harness.js';

/**
 * Live capture: the agent's capture worker (libpcap AF_PACKET + flow table, in its namespace) on one end of a
 * veth pair while trafgen (netsniff-ng) sends 64-byte frames (60 + FCS) from the other end, in another
 * namespace. Target: 300,000 packets/s with no packet dropped by the kernel, every packet counted in the flows.
 * trafgen sends as fast as it can on one CPU. Profiles: one UDP flow, and 65,536 flows (random source ports),
 * with flow updates every second (the tests' flow.update) or every 60 s (the default: no update during the run,
 * all flows sent by the final flush).
 * `offered pps` is what trafgen achieved (its start-up time excluded); on a shared machine it may stay below the
 * target, so the worker's own CPU time is measured too: `capacity pps` = packets counted per CPU second
 * of the worker, the rate one free core sustains.
 */

const WORKER = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'probes', 'capture', 'worker.js');
const TX = 'cbench-tx';
const RX = 'cbench-rx';
const TARGET_PPS = 300_000;
const SECONDS = Number(process.env.SKYDIVE_BENCH_CAPTURE_SECONDS ?? 5);

function sh(cmd: string): string {
  const r = spawnSync('bash', ['-c', cmd], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr.trim()}`);
  return r.stdout;
}

function setup(): { rxMAC: string; txMAC: string } {
  teardown();
  sh(`ip netns add ${TX} && ip netns add ${RX}`);
  sh(`ip link add eth0 netns ${TX} type veth peer name eth0 netns ${RX}`);
  sh(`ip -n ${TX} link set eth0 up && ip -n ${RX} link set eth0 up`);
  const mac = (ns: string) => (JSON.parse(sh(`ip -n ${ns} -j link show eth0`)) as Array<{ address: string }>)[0].address;
  return { rxMAC: mac(RX), txMAC: mac(TX) };
}

function teardown(): void {
  spawnSync('bash', ['-c', `ip netns del ${TX} 2>/dev/null; ip netns del ${RX} 2>/dev/null`]);
}

/** trafgen configuration of one 60-byte Ethernet/IPv4/UDP frame (18-byte payload), source port fixed or random. */
function trafgenConf(dst: string, src: string, randomPorts: boolean): string {
  const bytes = (mac: string) => mac.split(':').map((h) => `0x${h}`).join(', ');
  return `{ ${bytes(dst)}, ${bytes(src)}, 0x08, 0x00,
  0x45, 0x00, 0x00, 0x2e, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 10, 93, 0, 1, 10, 93, 0, 2,
  ${randomPorts ? 'drnd(2)' : '0x30, 0x39'}, 0x00, 0x35, 0x00, 0x1a, 0x00, 0x00, fill(0x41, 18) }\n`;
}

/** CPU seconds (user + system) a process used so far. */
function cpuSeconds(pid: number): number {
  const fields = sh(`cat /proc/${pid}/stat`).split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / Number(sh('getconf CLK_TCK').trim());
}

/** trafgen's own start-up and exit time, subtracted from its run time to get the sending time. */
let trafgenOverhead: number | undefined;

/** Sends `count` frames; resolves with the number trafgen reports sent and the seconds spent sending them. */
async function trafgen(conf: string, count: number): Promise<{ packets: number; seconds: number }> {
  trafgenOverhead ??= (await runTrafgen(conf, 1)).wall;
  const r = await runTrafgen(conf, count);
  return { packets: r.packets, seconds: Math.max(r.wall - trafgenOverhead, 1e-3) };
}

/** trafgen as fast as it can (its rate limiter cannot hold 300 kpps on a busy machine), on one CPU. */
function runTrafgen(conf: string, count: number): Promise<{ packets: number; wall: number }> {
  return new Promise((resolve, reject) => {
    const args = ['exec', TX, 'trafgen', '--dev', 'eth0', '--conf', conf, '--cpus', '1', '-n', String(count), '--cpp', '--gap', '0'];
    const t0 = performance.now();
    const child = spawn('ip', ['netns', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const m = /(\d+) packets outgoing/.exec(out);
      if (code !== 0 || !m) return reject(new Error(`trafgen failed (${code}): ${out.trim().split('\n').slice(-3).join(' ')}`));
      resolve({ packets: Number(m[1]), wall: (performance.now() - t0) / 1000 });
    });
  });
}

async function measure(randomPorts: boolean, updateSec: number): Promise<BenchResult> {
  const { rxMAC, txMAC } = setup();
  const dir = mkdtempSync(join(tmpdir(), 'skydive-capture-bench-'));
  try {
    const conf = join(dir, 'frame.cfg');
    writeFileSync(conf, trafgenConf(rxMAC, txMAC, randomPorts));
    const spec: CaptureWorkerSpec = {
      captureID: 'bench',
      nodeTID: 'bench',
      kind: 'afpacket',
      ifName: 'eth0',
      bpf: '',
      headerSize: 0,
      table: { rawPacketLimit: 0, extraTCPMetric: false, ipDefrag: false, reassembleTCP: false, layerKeyMode: 'L2', extraLayers: 0 },
      updateSec,
      expireSec: 600,
      statsSec: 1,
    };
    const worker = spawnJsonChild<WorkerMessage>(`/var/run/netns/${RX}`, WORKER, spec);
    const flows = new Map<string, { packets: number }>();
    let stats: CaptureCountersJSON = { PacketsReceived: 0, PacketsDropped: 0, PacketsIfDropped: 0 };
    let ready = false;
    let failure: string | undefined;
    worker.onMessage((m) => {
      if (m.type === 'ready') ready = true;
      else if (m.type === 'stats') stats = m.stats;
      else if (m.type === 'flows') {
        for (const f of m.flows) {
          const metric = f.Metric as { ABPackets: number; BAPackets: number };
          flows.set(f.UUID as string, { packets: metric.ABPackets + metric.BAPackets });
        }
      } else if (m.type === 'error') failure = m.error;
    });
    const deadline = Date.now() + 10000;
    while (!ready && !failure && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (!ready) throw new Error(`capture worker did not start: ${failure ?? worker.stderrTail()}`);

    const cpuBefore = cpuSeconds(worker.process.pid!);
    const sent = await trafgen(conf, TARGET_PPS * SECONDS);
    // wait for the worker to drain the ring: its kernel counters stop moving
    let last = -1;
    while (stats.PacketsReceived !== last) {
      last = stats.PacketsReceived;
      await new Promise((r) => setTimeout(r, 1500));
    }
    const cpu = cpuSeconds(worker.process.pid!) - cpuBefore;
    worker.send({ type: 'stop' });
    await worker.exited;
    const counted = [...flows.values()].reduce((s, f) => s + f.packets, 0);
    const offered = sent.packets / sent.seconds;
    const result: BenchResult = {
      sent: sent.packets,
      'offered pps': Math.round(offered),
      received: stats.PacketsReceived,
      'kernel drops': stats.PacketsDropped,
      'in flows': counted,
      flows: flows.size,
      'worker cpu s': Number(cpu.toFixed(2)),
      'capacity pps': Math.round(counted / cpu),
    };
    // the sender also emits a few IPv6 packets of its own (router solicitations): counted ≥ sent
    const kept = stats.PacketsDropped === 0 && counted >= sent.packets;
    result.verdict = !kept ? 'DROPS' : offered >= TARGET_PPS ? 'OK at the target rate' : `no drop, sender below ${TARGET_PPS} pps`;
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    teardown();
  }
}

export const benchmarks: Benchmark[] = [
  { name: 'capture:1-flow/update-1s', run: () => measure(false, 1) },
  { name: 'capture:65536-flows/update-1s', run: () => measure(true, 1) },
  { name: 'capture:65536-flows/update-60s', run: () => measure(true, 60) },
];
