import { dump } from 'js-yaml';
import { merge, type ConfigValues } from '../config/config.js';
import { fabricRules } from './fabric.js';
import { analyzerHost, type LabDefinition, type LabHost } from './lab-file.js';

/** Path of the configuration file on every lab host, as in the original's Vagrant lab. */
export const HOST_CONFIG_PATH = '/etc/skydive/skydive.yml';

/**
 * /etc/skydive/skydive.yml for one lab host, with the keys the original's lab wrote: every host names the
 * analyzer; the analyzer listens on all addresses and holds the fabric; agents run the OVS probe against the
 * host's own ovsdb. The lab file's `skydive:` section is merged last, so it can override anything.
 */
export function skydiveConfig(lab: LabDefinition, host: LabHost): ConfigValues {
  const analyzer = analyzerHost(lab);
  const conf: ConfigValues = {
    host_id: host.name,
    analyzers: [`${analyzer.address}:${lab.analyzer.port}`],
    flow: { protocol: 'udp' },
    logging: { level: 'INFO' },
  };
  if (host.roles.includes('analyzer')) {
    conf.analyzer = {
      listen: `0.0.0.0:${lab.analyzer.port}`,
      topology: { fabric: fabricRules(lab) },
    };
  }
  if (host.roles.includes('agent')) {
    conf.agent = {
      listen: `0.0.0.0:${lab.agent.port}`,
      topology: { probes: lab.agent.probes },
    };
    conf.ovs = { ovsdb: 'unix:///var/run/openvswitch/db.sock' };
  }
  return merge(conf, structuredClone(lab.skydive));
}

export function renderSkydiveConfig(lab: LabDefinition, host: LabHost): string {
  return `# Written by \`skydive lab up\` for host ${host.name} (roles: ${host.roles.join(', ')}) of lab ${lab.name}.\n` + dump(skydiveConfig(lab, host), { lineWidth: 200 });
}
