/**
 * The CLI's commands come in groups, each with its own dependencies (the flow engine, fastify and the agent or
 * analyzer, the HTTP client, ssh2 and the lab). Each group is built into its own bundle (dist/cli/skydive-<group>.cjs,
 * see scripts/bundle.mjs), so that a command loads only its group: `skydive flows` on a capture file or a
 * one-shot `skydive client` call starts without the rest. `skydive --help`, `--version` and anything that is
 * not a known command load the bundle of every group ('all').
 */
export const COMMAND_GROUPS = ['flows', 'server', 'client', 'lab'] as const;
export type CommandGroup = (typeof COMMAND_GROUPS)[number];

const GROUP_OF_COMMAND: Record<string, CommandGroup> = {
  flows: 'flows',
  agent: 'server',
  analyzer: 'server',
  allinone: 'server',
  client: 'client',
  lab: 'lab',
};

/** The group of the command named by the first non-option argument, or 'all'. */
export function commandGroupOf(argv: readonly string[]): CommandGroup | 'all' {
  const first = argv.find((a) => !a.startsWith('-'));
  return (first !== undefined && Object.hasOwn(GROUP_OF_COMMAND, first) && GROUP_OF_COMMAND[first]) || 'all';
}
