import { isIP } from 'node:net';
import type { Node } from '../../graph/graph.js';
import { SkydiveError, UsageError, errorMessage } from '../../common/errors.js';
import { executeGremlin, type GremlinContext, type StepRegistry } from '../../gremlin/index.js';
import { INJECTION_TYPES, parseMAC } from '../../injector/packet-builder.js';
import { INJECTION_NAMESPACE, type InjectionRequest, type PacketInjection } from '../../injector/injection-resource.js';
import type { AgentRegistry } from '../agent-registry.js';
import { checkGremlin, optInt, optString } from './capture-validation.js';

/**
 * /api/injectpacket on the analyzer: validates the injection, resolves its source node (and destination node)
 * on the graph into addresses, and has the agent owning the source interface send the packets. The caller gets
 * the failure reasons: unknown source (404), no address to send from or to (400), agent errors (400).
 */

function bad(field: string, message: string): UsageError {
  return new UsageError('SKYDIVE_INJECTION_INVALID', `invalid packet injection: ${field} ${message}`);
}

/** An IP, or a CIDR whose address part is used. */
function ipField(body: Record<string, unknown>, field: string): string | undefined {
  const v = optString(body, field, bad);
  if (!v) return undefined;
  const ip = v.split('/')[0];
  if (!isIP(ip)) throw bad(field, `must be an IP address (or CIDR), got '${v}'`);
  return ip;
}

function macField(body: Record<string, unknown>, field: string): string | undefined {
  const v = optString(body, field, bad);
  if (!v) return undefined;
  try {
    parseMAC(v);
  } catch {
    throw bad(field, `must be a MAC address like 02:00:00:00:00:01, got '${v}'`);
  }
  return v.toLowerCase();
}

export function validateInjection(body: Record<string, unknown>, registry: StepRegistry): PacketInjection {
  const src = optString(body, 'Src', bad);
  if (!src || !src.trim()) throw bad('Src', "is required (the Gremlin query of the source interface, e.g. G.V().Has('Name', 'eth0'))");
  checkGremlin(src, 'Src', registry, bad);
  const dst = optString(body, 'Dst', bad);
  if (dst) checkGremlin(dst, 'Dst', registry, bad);
  const type = optString(body, 'Type', bad) ?? '';
  if (!(INJECTION_TYPES as readonly string[]).includes(type)) throw bad('Type', `must be one of ${INJECTION_TYPES.join(', ')}, got '${type}'`);
  const mode = optString(body, 'Mode', bad) || 'unique';
  if (mode !== 'unique' && mode !== 'random') throw bad('Mode', `must be unique or random, got '${mode}'`);
  if (optString(body, 'Pcap', bad)) throw bad('Pcap', 'is not supported: this implementation crafts the packets from Type and the addresses');
  const v6 = type.endsWith('6');
  const srcIP = ipField(body, 'SrcIP');
  const dstIP = ipField(body, 'DstIP');
  for (const [field, ip] of [
    ['SrcIP', srcIP],
    ['DstIP', dstIP],
  ] as const) {
    if (ip && isIP(ip) !== (v6 ? 6 : 4)) throw bad(field, `${ip} is not an IPv${v6 ? 6 : 4} address, as ${type} needs`);
  }
  return {
    UUID: optString(body, 'UUID', bad) ?? '',
    Src: src,
    Dst: dst ?? '',
    SrcIP: srcIP ?? '',
    DstIP: dstIP ?? '',
    SrcMAC: macField(body, 'SrcMAC') ?? '',
    DstMAC: macField(body, 'DstMAC') ?? '',
    SrcPort: optInt(body, 'SrcPort', 0, 65535, bad) ?? 0,
    DstPort: optInt(body, 'DstPort', 0, 65535, bad) ?? 0,
    Type: type,
    Payload: optString(body, 'Payload', bad) ?? '',
    ICMPID: optInt(body, 'ICMPID', 0, 65535, bad) ?? 0,
    Count: optInt(body, 'Count', 1, 1_000_000, bad) ?? 1,
    Interval: optInt(body, 'Interval', 0, 3_600_000, bad) ?? 1000,
    Mode: mode,
    IncrementPayload: optInt(body, 'IncrementPayload', 0, 9000, bad) ?? 0,
    StartTime: new Date().toISOString(),
    TTL: optInt(body, 'TTL', 0, 255, bad) ?? 64,
  };
}

async function firstNode(query: string, field: string, gremlin: GremlinContext): Promise<Node> {
  let result;
  try {
    result = await executeGremlin(query, gremlin);
  } catch (err) {
    throw bad(field, `query failed: ${errorMessage(err)}`);
  }
  if (result.type !== 'collection' || result.of.name !== 'nodes') throw bad(field, `must select interface nodes, '${query}' does not`);
  const n = (result.items as Node[])[0];
  if (!n) throw new SkydiveError('SKYDIVE_INJECTION_NODE_NOT_FOUND', `${field} node not found: '${query}' selects no node`, 404);
  return n;
}

/** First address of the node's IPV4/IPV6 list, without its prefix (link-local IPv6 last). */
function nodeIP(n: Node, v6: boolean): string | undefined {
  const list = n.metadata[v6 ? 'IPV6' : 'IPV4'];
  const ips = (Array.isArray(list) ? list : typeof list === 'string' ? [list] : []).filter((x): x is string => typeof x === 'string').map((x) => x.split('/')[0]);
  return ips.find((ip) => !ip.toLowerCase().startsWith('fe80')) ?? ips[0];
}

function describe(n: Node): string {
  return `'${String(n.metadata.Name ?? n.id)}'`;
}

/** Fills SrcMAC/SrcIP/DstIP/DstMAC from the nodes; returns the request for the source node's agent. */
export async function resolveInjection(r: PacketInjection, gremlin: GremlinContext): Promise<{ host: string; request: InjectionRequest }> {
  const v6 = r.Type.endsWith('6');
  const src = await firstNode(r.Src, 'Src', gremlin);
  const resolved: PacketInjection = { ...r };
  if (!resolved.SrcMAC) {
    const mac = src.metadata.MAC;
    if (typeof mac !== 'string' || !mac) throw bad('SrcMAC', `is not given and the source node ${describe(src)} has no MAC`);
    resolved.SrcMAC = mac;
  }
  if (!resolved.SrcIP) {
    const ip = nodeIP(src, v6);
    if (!ip) throw bad('SrcIP', `is not given and the source node ${describe(src)} has no IPv${v6 ? 6 : 4} address`);
    resolved.SrcIP = ip;
  }
  if (r.Dst) {
    const dst = await firstNode(r.Dst, 'Dst', gremlin);
    if (!resolved.DstIP) {
      const ip = nodeIP(dst, v6);
      if (!ip) throw bad('DstIP', `is not given and the destination node ${describe(dst)} has no IPv${v6 ? 6 : 4} address`);
      resolved.DstIP = ip;
    }
    if (!resolved.DstMAC && typeof dst.metadata.MAC === 'string' && dst.metadata.MAC) resolved.DstMAC = dst.metadata.MAC;
  }
  if (!resolved.DstIP) throw bad('DstIP', 'is required when there is no Dst node');
  return { host: src.host, request: { NodeID: src.id, Resource: resolved } };
}

/** Has the owning agent start the injection; throws the agent's reason when it cannot. */
export async function dispatchInjection(agents: AgentRegistry, host: string, request: InjectionRequest): Promise<void> {
  const agent = agents.get(host);
  if (!agent) throw new SkydiveError('SKYDIVE_INJECTION_AGENT', `the agent of host '${host}' owning the source interface is not connected`, 503);
  const reply = await agent.request(INJECTION_NAMESPACE, 'Start', request, 20000);
  if ((reply.Status ?? 200) >= 400) throw new UsageError('SKYDIVE_INJECTION_FAILED', `packet injection failed on ${host}: ${typeof reply.Obj === 'string' ? reply.Obj : JSON.stringify(reply.Obj)}`);
}

export async function stopInjection(agents: AgentRegistry, host: string, request: InjectionRequest): Promise<void> {
  await agents
    .get(host)
    ?.request(INJECTION_NAMESPACE, 'Stop', request, 10000)
    .catch(() => undefined);
}
