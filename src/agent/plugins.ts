import type { AgentPlugin } from './agent.js';
import { captureAgentPlugin } from '../probes/capture/agent-plugin.js';

/**
 * Features added to every agent started from the command line (flow probes, on-demand captures, packet
 * injection...): each feature module exports an AgentPlugin and is listed here.
 */
export function agentPlugins(): AgentPlugin[] {
  return [captureAgentPlugin()];
}
