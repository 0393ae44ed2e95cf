import { writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { labDown, labSshCommand, labStatus, labUp, type LabStatusReport } from '../lab/lab.js';
import { runScenarioFiles } from '../lab/scenario/run-command.js';

const labOption = (): Option => new Option('--lab <file>', 'lab definition file (default: $SKYDIVE_LAB or src/lab/default-lab.yaml)');

/**
 * `skydive lab up|down|status|ssh|run`: the multi-node lab (docs/lab.md). Runtime failures exit 1, bad usage 2;
 * `lab ssh` exits with the remote command's status and `lab run` with 1 when a scenario failed.
 */
export function registerLabCommand(program: Command): void {
  const lab = program.command('lab').description('three-node lab (analyzer + agents) over SSH: netns hosts on this machine or Vagrant VMs');

  lab
    .command('up')
    .description('create and provision the lab hosts, start Skydive, wait for the agents (reuses a running lab)')
    .addOption(labOption())
    .addOption(new Option('--provider <name>', 'override the lab file provider').choices(['netns', 'vagrant']))
    .action(async (o: { lab?: string; provider?: 'netns' | 'vagrant' }) => {
      const state = await labUp({ labFile: o.lab, provider: o.provider });
      const d = state.data;
      const unavailable = Object.entries(d.services).flatMap(([h, s]) => Object.entries(s).filter(([, v]) => v !== 'running').map(([r, v]) => `${h}/${r} ${v}`));
      process.stdout.write(`lab ${d.name} is up (${d.provider}, ${d.hosts.length} hosts); analyzer API and UI: http://${d.analyzerApi}/\n`);
      if (unavailable.length) process.stdout.write(`not running: ${unavailable.join(', ')}\n`);
    });

  lab
    .command('down')
    .description('remove everything the lab created (namespaces, links, processes, VMs, files), also after a crash')
    .addOption(labOption())
    .action(async (o: { lab?: string }) => {
      const had = await labDown({ labFile: o.lab });
      process.stdout.write(had ? 'lab removed\n' : 'no lab to remove\n');
    });

  lab
    .command('status')
    .description("hosts (name, role, lab address, SSH address) and the analyzer's API address")
    .addOption(labOption())
    .option('--json', 'print JSON')
    .action(async (o: { lab?: string; json?: boolean }) => {
      const st = await labStatus({ labFile: o.lab });
      process.stdout.write(o.json ? JSON.stringify(st, null, 2) + '\n' : formatStatus(st));
    });

  lab
    .command('ssh')
    .description('run COMMAND on HOST (exit status is the command\'s), or open a shell there')
    .argument('<host>', 'lab host name')
    .argument('[command...]', 'command to run, after -- (words joined by spaces and run by the remote shell, as ssh does)')
    .addOption(labOption())
    .option('-t, --tty', 'run the command with a terminal (interactive programs)')
    .action(async (host: string, command: string[], o: { lab?: string; tty?: boolean }) => {
      const code = await labSshCommand({ labFile: o.lab, host, command: command.length ? command.join(' ') : undefined, tty: o.tty });
      process.exitCode = code;
    });

  lab
    .command('run')
    .description('run scenario files against the lab; prints each check, optional JUnit XML report')
    .argument('<scenario...>', 'scenario YAML files (scenarios/*.yaml)')
    .addOption(labOption())
    .option('--junit <file>', 'write a JUnit XML report')
    .action(async (files: string[], o: { lab?: string; junit?: string }) => {
      const { ok, junit } = await runScenarioFiles({ labFile: o.lab, files });
      if (o.junit) writeFileSync(o.junit, junit);
      if (!ok) process.exitCode = 1;
    });
}

function formatStatus(st: LabStatusReport): string {
  const lines = [`lab ${st.name} (${st.provider}): ${st.phase}`];
  const w = Math.max(...st.hosts.map((h) => h.name.length), 4);
  for (const h of st.hosts) {
    const svc = Object.entries(h.services).map(([k, v]) => `${k} ${v}`).join(', ');
    lines.push(`  ${h.name.padEnd(w)}  ${h.role.padEnd(14)} ${h.address.padEnd(15)} ssh ${h.ssh}${svc ? `  [${svc}]` : ''}`);
  }
  if (st.analyzer.api) lines.push(`analyzer API and UI: ${st.analyzer.url}${st.analyzer.running ? '' : ' (analyzer not running)'}`);
  const c = st.capabilities;
  lines.push(`analyzer serves: topology ${c.topology ? 'yes' : 'no'}, captures ${c.capture ? 'yes' : 'no'}, packet injection ${c.injection ? 'yes' : 'no'}`);
  return lines.join('\n') + '\n';
}
