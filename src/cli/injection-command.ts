import type { Command } from 'commander';
import { UsageError } from '../common/errors.js';
import { clientFor, printJSON, runClient } from './client-command.js';
import { choice, positiveInt } from './options.js';

/**
 * `skydive client injection create|get|list|delete` (alias `inject-packet`) with the original's flags
 * (reference §4): the agent owning the source interface sends the packets; failures (unknown source, no
 * address, unresolvable destination) come back as the analyzer's error message and a non-zero exit code.
 */

const TYPES = ['icmp4', 'icmp6', 'tcp4', 'tcp6', 'udp4', 'udp6'] as const;

interface CreateOptions {
  src: string;
  dst?: string;
  srcIp?: string;
  dstIp?: string;
  srcMac?: string;
  dstMac?: string;
  srcPort?: number;
  dstPort?: number;
  type: string;
  payload?: string;
  pcap?: string;
  id?: number;
  mode: string;
  incPayload?: number;
  count: number;
  interval?: number;
  ttl: number;
}

function port(v: string): number {
  const n = positiveInt(v);
  if (n > 65535) throw new UsageError('SKYDIVE_CLIENT_BAD_PORT', `port ${n} is out of range (0-65535)`);
  return n;
}

export function injectionBody(o: CreateOptions): Record<string, unknown> {
  if (o.pcap) throw new UsageError('SKYDIVE_CLIENT_BAD_FLAGS', '--pcap is not supported: the packets are crafted from --type and the addresses');
  if (o.ttl > 255) throw new UsageError('SKYDIVE_CLIENT_BAD_FLAGS', `--ttl ${o.ttl} is out of range (0-255)`);
  if (o.id !== undefined && o.id > 65535) throw new UsageError('SKYDIVE_CLIENT_BAD_FLAGS', `--id ${o.id} is out of range (0-65535)`);
  const body: Record<string, unknown> = { Src: o.src, Type: o.type, Count: o.count, Mode: o.mode, TTL: o.ttl };
  const optional: Array<[string, unknown]> = [
    ['Dst', o.dst],
    ['SrcIP', o.srcIp],
    ['DstIP', o.dstIp],
    ['SrcMAC', o.srcMac],
    ['DstMAC', o.dstMac],
    ['SrcPort', o.srcPort],
    ['DstPort', o.dstPort],
    ['Payload', o.payload],
    ['ICMPID', o.id],
    ['IncrementPayload', o.incPayload],
    ['Interval', o.interval],
  ];
  for (const [k, v] of optional) if (v !== undefined) body[k] = v;
  return body;
}

export function registerInjectionCommands(client: Command): void {
  const inj = client.command('injection').alias('inject-packet').description('inject packets from an interface (replies come from the real kernels)');
  inj
    .command('create')
    .description('send packets from the --src interface towards --dst (or --dst-ip)')
    .requiredOption('--src <gremlin>', "source interface, e.g. \"G.V().Has('Name', 'eth0')\"")
    .option('--dst <gremlin>', 'destination interface (gives the destination IP and MAC)')
    .option('--src-ip <ip>', 'source IP (default: the source interface\'s first address)')
    .option('--dst-ip <ip>', 'destination IP')
    .option('--src-mac <mac>', 'source MAC (default: the source interface\'s)')
    .option('--dst-mac <mac>', 'destination MAC (default: the destination interface\'s, or the next hop\'s)')
    .option('--src-port <port>', 'TCP/UDP source port', port)
    .option('--dst-port <port>', 'TCP/UDP destination port', port)
    .option('--type <type>', `packet type: ${TYPES.join(', ')}`, choice(TYPES), 'icmp4')
    .option('--payload <text>', 'payload of the packets')
    .option('--pcap <file>', 'packets from a capture file (not supported)')
    .option('--id <n>', 'ICMP echo identifier', positiveInt)
    .option('--mode <mode>', 'unique (same ICMP id / source port: one flow) or random (one flow per packet)', choice(['unique', 'random'] as const), 'unique')
    .option('--inc-payload <bytes>', 'bytes added to the payload of each next packet', positiveInt)
    .option('--count <n>', 'number of packets', positiveInt, 1)
    .option('--interval <ms>', 'milliseconds between packets', positiveInt)
    .option('--ttl <n>', 'IP TTL / hop limit of the packets', positiveInt, 64)
    .action((o: CreateOptions, cmd: Command) => runClient(async () => printJSON(await clientFor(cmd).json('POST', '/api/injectpacket', injectionBody(o)))));
  inj
    .command('list')
    .description('list the packet injections in progress')
    .action((_o: unknown, cmd: Command) => runClient(async () => printJSON(await clientFor(cmd).json('GET', '/api/injectpacket'))));
  inj
    .command('get <id>')
    .description('show one packet injection')
    .action((id: string, _o: unknown, cmd: Command) => runClient(async () => printJSON(await clientFor(cmd).json('GET', `/api/injectpacket/${encodeURIComponent(id)}`))));
  inj
    .command('delete <id...>')
    .description('stop packet injections')
    .action((ids: string[], _o: unknown, cmd: Command) =>
      runClient(async () => {
        for (const id of ids) await clientFor(cmd).json('DELETE', `/api/injectpacket/${encodeURIComponent(id)}`);
      }),
    );
}
