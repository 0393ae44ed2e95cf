import type { Config } from '../../config/config.js';
import type { Graph } from '../../graph/graph.js';

/** What every agent topology probe receives: the agent graph, the host_id and the configuration. */
export interface ProbeContext {
  graph: Graph;
  hostID: string;
  config: Config;
}

/** A source of topology: it writes nodes and edges into the graph between start() and stop(). */
export interface TopologyProbe {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}
