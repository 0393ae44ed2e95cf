import { UsageError, errorMessage } from '../../common/errors.js';
import { compileBPF } from '../../flow/bpf.js';
import { parseGremlin, type StepRegistry } from '../../gremlin/index.js';
import { CAPTURE_TYPES, type Capture } from '../../probes/capture/capture-resource.js';

/** Checks and normalises a capture body of POST /api/capture; every problem is a UsageError naming the field. */

const EXTRA_LAYER_BITS: Record<string, number> = { VRRP: 1, DNS: 2, DHCPV4: 4, ALL: 255 };

function bad(field: string, message: string): UsageError {
  return new UsageError('SKYDIVE_CAPTURE_INVALID', `invalid capture: ${field} ${message}`);
}

export function optString(body: Record<string, unknown>, field: string, make = bad): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw make(field, `must be a string, got ${JSON.stringify(v)}`);
  return v;
}

export function optInt(body: Record<string, unknown>, field: string, min: number, max: number, make = bad): number | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw make(field, `must be an integer between ${min} and ${max}, got ${JSON.stringify(v)}`);
  return v;
}

export function optBool(body: Record<string, unknown>, field: string, make = bad): boolean | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw make(field, `must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

/** A Gremlin query the analyzer can run: the parser's message (with its position) on error. */
export function checkGremlin(query: string, field: string, registry: StepRegistry, make = bad): void {
  try {
    parseGremlin(query, registry);
  } catch (err) {
    throw make(field, `is not a valid Gremlin query: ${errorMessage(err)}`);
  }
}

/** ExtraLayers as the bitmask (VRRP=1, DNS=2, DHCPv4=4), also accepted as names ('DNS,VRRP' or ['DNS']). */
function extraLayers(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0 || v > 255) throw bad('ExtraLayers', `must be a bitmask between 0 and 255 (VRRP=1, DNS=2, DHCPv4=4), got ${v}`);
    return v;
  }
  const names = typeof v === 'string' ? v.split(/[,|\s]+/) : Array.isArray(v) ? v : undefined;
  if (!names) throw bad('ExtraLayers', `must be a bitmask or a list of layer names, got ${JSON.stringify(v)}`);
  let mask = 0;
  for (const n of names) {
    if (typeof n !== 'string') throw bad('ExtraLayers', `has a non-string layer name ${JSON.stringify(n)}`);
    if (!n.trim()) continue;
    const bit = EXTRA_LAYER_BITS[n.trim().toUpperCase()];
    if (bit === undefined) throw bad('ExtraLayers', `has an unknown layer '${n}' (expected VRRP, DNS, DHCPv4 or ALL)`);
    mask |= bit;
  }
  return mask;
}

export function validateCapture(body: Record<string, unknown>, registry: StepRegistry): Capture {
  const gremlin = optString(body, 'GremlinQuery');
  if (!gremlin || !gremlin.trim()) throw bad('GremlinQuery', 'is required (the nodes to capture, e.g. G.V().Has(\'Name\', \'eth0\'))');
  checkGremlin(gremlin, 'GremlinQuery', registry);
  const bpf = optString(body, 'BPFFilter');
  if (bpf) {
    try {
      compileBPF(bpf, 1);
    } catch (err) {
      throw bad('BPFFilter', `is not a valid BPF filter: ${errorMessage(err)}`);
    }
  }
  const type = optString(body, 'Type') ?? '';
  if (type && !(CAPTURE_TYPES as readonly string[]).includes(type)) throw bad('Type', `must be one of ${CAPTURE_TYPES.join(', ')} (or empty for the node's default), got '${type}'`);
  const headerSize = optInt(body, 'HeaderSize', 0, 4096);
  if (headerSize !== undefined && headerSize !== 0 && headerSize < 14) throw bad('HeaderSize', `must be 0 (whole packets) or between 14 and 4096, got ${headerSize}`);
  const layerKeyMode = optString(body, 'LayerKeyMode');
  if (layerKeyMode && layerKeyMode !== 'L2' && layerKeyMode !== 'L3') throw bad('LayerKeyMode', `must be L2 or L3, got '${layerKeyMode}'`);
  if (optString(body, 'Target') || optString(body, 'TargetType')) {
    throw bad('Target', 'is not supported: this implementation does not export captures to ERSPAN or NetFlow targets');
  }
  const uuid = optString(body, 'UUID');
  const c: Capture = {
    UUID: uuid ?? '',
    GremlinQuery: gremlin,
    BPFFilter: bpf ?? '',
    Name: optString(body, 'Name') ?? '',
    Description: optString(body, 'Description') ?? '',
    Type: type,
    Count: 0,
    Port: optInt(body, 'Port', 0, 65535) ?? 0,
    SamplingRate: optInt(body, 'SamplingRate', 0, 2 ** 32 - 1) ?? 1,
    PollingInterval: optInt(body, 'PollingInterval', 0, 2 ** 31 - 1) ?? 10,
    RawPacketLimit: optInt(body, 'RawPacketLimit', 0, 10) ?? 0,
    HeaderSize: headerSize ?? 0,
    ExtraTCPMetric: optBool(body, 'ExtraTCPMetric') ?? false,
    IPDefrag: optBool(body, 'IPDefrag') ?? false,
    ReassembleTCP: optBool(body, 'ReassembleTCP') ?? false,
    LayerKeyMode: layerKeyMode ?? 'L2',
    ExtraLayers: extraLayers(body.ExtraLayers) ?? 0,
  };
  return c;
}

/** Kernel captures may run several times on a node with different filters; other types once per node. */
export function allowsSeveral(type: string): boolean {
  return type === '' || type === 'afpacket' || type === 'pcap';
}
