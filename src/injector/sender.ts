import { execFile } from 'node:child_process';
import { createInterface } from 'node:readline';
import { errorMessage } from '../common/errors.js';
import { LiveSession } from '../probes/capture/live-session.js';
import { frameAt, type InjectionPlan } from './injection.js';
import { buildARPRequest, buildNeighborSolicitation, isIPv6Type, neighbourAnswer } from './packet-builder.js';

/**
 * Injection sender: a child process started by the agent inside the source interface's namespace
 * (`nsenter --net=<path> node sender.js '<plan JSON>'`). Without a destination MAC it asks the namespace's
 * kernel for the next hop (`ip route get`) and its neighbour entry, and when there is none resolves it itself
 * (ARP request / Neighbor Solicitation from the source addresses). It then sends the plan's frames from the
 * interface through AF_PACKET (libpcap inject), one every `intervalMs`, and reports on stdout as JSON lines:
 * `{"type":"sent","packets":n}` after each frame, then `{"type":"done","packets":n}`, or `{"type":"error","error":...}`.
 * A `{"type":"stop"}` line on stdin, or stdin closing, stops it early.
 */

type SenderMessage = { type: 'sent' | 'done'; packets: number } | { type: 'error'; error: string };

const RESOLVE_ATTEMPTS = 3;
const RESOLVE_WAIT_MS = 700;

function send(msg: SenderMessage): void {
  process.stdout.write(JSON.stringify(msg) + '\n');
}

function finish(msg: SenderMessage, code: number): void {
  send(msg);
  process.stdout.write('', () => process.exit(code));
}

function ipJSON(args: string[]): Promise<Array<Record<string, unknown>>> {
  return new Promise((resolve) => {
    execFile('ip', ['-j', ...args], { timeout: 5000 }, (err, stdout) => {
      if (err) return resolve([]);
      try {
        resolve(JSON.parse(stdout || '[]') as Array<Record<string, unknown>>);
      } catch {
        resolve([]);
      }
    });
  });
}

/** The next hop towards `dst` from the kernel's routing table: the gateway, or `dst` itself when on link. */
async function nextHop(dst: string, v6: boolean): Promise<string> {
  const route = (await ipJSON([...(v6 ? ['-6'] : []), 'route', 'get', dst]))[0];
  return typeof route?.gateway === 'string' ? route.gateway : dst;
}

async function kernelNeighbour(ip: string, ifName: string): Promise<string | undefined> {
  for (const n of await ipJSON(['neigh', 'show', 'to', ip, 'dev', ifName])) {
    const states = Array.isArray(n.state) ? (n.state as string[]) : [];
    if (typeof n.lladdr === 'string' && !states.includes('FAILED') && !states.includes('INCOMPLETE')) return n.lladdr;
  }
  return undefined;
}

function main(): void {
  let plan: InjectionPlan;
  try {
    plan = JSON.parse(process.argv[2] ?? '') as InjectionPlan;
  } catch (err) {
    return finish({ type: 'error', error: `injection sender started without a valid plan: ${errorMessage(err)}` }, 1);
  }
  const v6 = isIPv6Type(plan.type);
  let answer: ((mac: string) => void) | undefined;
  let wanted = '';
  let session: LiveSession;
  try {
    // the session sends; it only receives neighbour answers, in case the destination MAC must be resolved
    session = new LiveSession(
      plan.ifName,
      (buf, offset, caplen) => {
        if (!answer) return;
        const mac = neighbourAnswer(buf.subarray(offset, offset + caplen), caplen, wanted);
        if (mac) answer(mac);
      },
      { filter: v6 ? 'icmp6 and ip6[40] == 136' : 'arp', snapLength: 128, bufferSize: 1 << 20, promiscuous: false, timeoutMs: 10 },
    );
  } catch (err) {
    return finish({ type: 'error', error: errorMessage(err) }, 1);
  }

  const resolveMAC = async (): Promise<string> => {
    const hop = await nextHop(plan.dstIP, v6);
    const known = await kernelNeighbour(hop, plan.ifName);
    if (known) return known;
    wanted = hop;
    const probe = v6 ? buildNeighborSolicitation(plan.srcMAC, plan.srcIP, hop) : buildARPRequest(plan.srcMAC, plan.srcIP, hop);
    for (let i = 0; i < RESOLVE_ATTEMPTS; i++) {
      const mac = await new Promise<string | undefined>((resolve) => {
        const timer = setTimeout(() => resolve(undefined), RESOLVE_WAIT_MS);
        answer = (m) => {
          clearTimeout(timer);
          resolve(m);
        };
        session.inject(probe);
      });
      answer = undefined;
      if (mac) return mac;
    }
    throw new Error(
      `cannot resolve the destination MAC: no ${v6 ? 'Neighbor Advertisement' : 'ARP reply'} from ${hop}${hop === plan.dstIP ? '' : ` (next hop to ${plan.dstIP})`} on ${plan.ifName}; give DstMAC or a Dst node`,
    );
  };

  let sent = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    if (timer) clearTimeout(timer);
    session.close();
    finish({ type: 'done', packets: sent }, 0);
  };
  const fail = (err: unknown) => {
    if (stopped) return;
    stopped = true;
    if (timer) clearTimeout(timer);
    session.close();
    finish({ type: 'error', error: errorMessage(err) }, 1);
  };
  const next = () => {
    if (stopped) return;
    try {
      session.inject(frameAt(plan, sent));
    } catch (err) {
      return fail(err);
    }
    sent++;
    send({ type: 'sent', packets: sent });
    if (sent >= plan.count) return stop();
    timer = setTimeout(next, plan.intervalMs);
  };
  const commands = createInterface({ input: process.stdin });
  commands.on('line', (line) => {
    if (line.includes('"stop"')) stop();
  });
  commands.on('close', stop);

  if (plan.dstMAC) next();
  else
    resolveMAC().then((mac) => {
      plan = { ...plan, dstMAC: mac };
      next();
    }, fail);
}

main();
