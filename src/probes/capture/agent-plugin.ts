import type { AgentPlugin } from '../../agent/agent.js';
import { PacketInjector } from '../../injector/packet-injector.js';
import { CaptureManager } from './capture-manager.js';

/** On-demand captures and packet injection on an agent (listed in src/agent/plugins.ts). */
export function captureAgentPlugin(): AgentPlugin {
  let captures: CaptureManager | undefined;
  let injector: PacketInjector | undefined;
  return {
    name: 'captures',
    setup(agent) {
      captures = new CaptureManager(agent);
      injector = new PacketInjector(agent);
    },
    async stop() {
      injector?.close();
      await captures?.close();
    },
  };
}
