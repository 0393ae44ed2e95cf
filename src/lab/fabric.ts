import type { LabDefinition } from './lab-file.js';

/**
 * The analyzer's `analyzer.topology.fabric` rules for a lab, as in Skydive's walkthrough: one top-of-rack switch
 * (TOR1, Name=tor1) with one port per agent host, linked to that host's lab interface:
 *   TOR1[Name=tor1] -> TOR1_PORT1[Name=port1, MTU=1500]
 *   TOR1_PORT1 -> *[Type=host, Name=agent1]/eth1
 * Ports are numbered in the order the agent hosts appear in the lab file.
 */
export function fabricRules(lab: LabDefinition): string[] {
  const tor = lab.fabric.tor;
  const torName = tor.toLowerCase();
  const rules: string[] = [];
  lab.hosts
    .filter((h) => h.roles.includes('agent'))
    .forEach((h, i) => {
      const port = `${tor}_PORT${i + 1}`;
      rules.push(`${tor}[Name=${torName}] -> ${port}[Name=port${i + 1}, MTU=${lab.fabric.mtu}]`);
      rules.push(`${port} -> *[Type=host, Name=${h.name}]/${lab.network.interface}`);
    });
  return rules;
}
