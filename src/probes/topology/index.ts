import { UsageError } from '../../common/errors.js';
import { childLogger } from '../../common/log.js';
import { AGENT_TOPOLOGY_PROBES } from '../../config/schema.js';
import type { Metadata, Node } from '../../graph/graph.js';
import { createHostNode } from './host.js';
import { InterfaceRegistry } from './interfaces.js';
import { NetlinkProbe } from './netlink.js';
import { NetnsProbe } from './netns.js';
import { OvsdbProbe } from './ovsdb.js';
import type { ProbeContext, TopologyProbe } from './probe.js';

export type { ProbeContext, TopologyProbe } from './probe.js';

/** Probes that always run (listing them in agent.topology.probes is harmless). */
const ALWAYS_ON = new Set(['netlink', 'netns', 'hardware']);
/** Optional probes implemented here. */
const OPTIONAL: Record<string, (ctx: ProbeContext, registry: InterfaceRegistry, host: Node) => TopologyProbe> = {
  ovsdb: (ctx, registry, host) => new OvsdbProbe(ctx, registry, host),
};

export interface AgentProbes {
  hostNode: Node;
  probes: TopologyProbe[];
  stop(): Promise<void>;
}

/**
 * Create the host node, then start netlink (agent namespace), netns, and the probes of
 * `agent.topology.probes` (default ['ovsdb']). Resolves once the current state is in the graph.
 */
export async function startAgentProbes(ctx: ProbeContext): Promise<AgentProbes> {
  const names = probeNames(ctx.config.get<unknown>('agent.topology.probes', ['ovsdb']));
  const extra = ctx.config.get<unknown>('agent.metadata', {});
  const hostNode = createHostNode(ctx.graph, ctx.hostID, extra && typeof extra === 'object' && !Array.isArray(extra) ? (extra as Metadata) : {});
  const registry = new InterfaceRegistry(ctx.graph, ctx.hostID);
  const netlink = new NetlinkProbe(ctx, registry, hostNode);
  const probes: TopologyProbe[] = [netlink, new NetnsProbe(ctx, netlink, hostNode)];
  for (const n of names) if (!ALWAYS_ON.has(n)) probes.push(OPTIONAL[n](ctx, registry, hostNode));
  const started: TopologyProbe[] = [];
  const stop = async (): Promise<void> => {
    for (const p of started.reverse()) await p.stop();
    started.length = 0;
  };
  try {
    for (const p of probes) {
      started.push(p);
      await p.start();
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { hostNode, probes, stop };
}

/**
 * Names from agent.topology.probes that this agent runs. Probes of the original that are not implemented here
 * (docker, neutron, lldp...) are skipped with a warning, so that configurations written for the original (the
 * Vagrant lab's `[ovsdb, docker]`) still start; a name nobody knows is a configuration error.
 */
function probeNames(v: unknown): string[] {
  const list = Array.isArray(v) ? v.map(String) : typeof v === 'string' ? v.split(/[\s,]+/).filter(Boolean) : [];
  const known = new Set<string>(AGENT_TOPOLOGY_PROBES);
  const skipped = list.filter((n) => known.has(n) && !ALWAYS_ON.has(n) && !OPTIONAL[n]);
  if (skipped.length) {
    childLogger('probes').warn({ probes: skipped }, `agent.topology.probes: not available in this implementation, skipped: ${skipped.join(', ')}`);
  }
  for (const n of list) {
    if (!ALWAYS_ON.has(n) && !OPTIONAL[n] && !known.has(n)) {
      throw new UsageError(
        'SKYDIVE_CONFIG_PROBE',
        `agent.topology.probes: unknown or unsupported topology probe "${n}" (available: ${[...Object.keys(OPTIONAL), ...ALWAYS_ON].join(', ')})`,
      );
    }
  }
  return [...new Set(list.filter((n) => !skipped.includes(n)))];
}
