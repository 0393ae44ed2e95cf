import { Command, CommanderError } from './commander.js';
import { SkydiveError, errorMessage } from '../common/errors.js';
import { VERSION } from '../common/version.js';

/** Exit codes: 0 ok, 1 runtime failure (missing file, unreachable analyzer...), 2 bad usage (flag, value). */
export const EXIT_USAGE = 2;

/**
 * Command groups, loaded on demand: each group pulls in its own dependencies (fastify, ssh2, the flow engine...),
 * and loading them all costs about half a second of start-up that `skydive flows` on a capture file or a
 * one-shot `skydive client` call should not pay. `skydive --help` and unknown commands load every group.
 */
const COMMAND_GROUPS: Record<string, (program: Command) => Promise<void>> = {
  flows: async (program) => (await import('./flows-command.js')).registerFlowsCommand(program),
  server: async (program) => (await import('./server-commands.js')).registerServerCommands(program),
  client: async (program) => {
    const client = (await import('./client-command.js')).registerClientCommand(program);
    (await import('./capture-command.js')).registerCaptureCommands(client);
    (await import('./injection-command.js')).registerInjectionCommands(client);
  },
  lab: async (program) => (await import('./lab-command.js')).registerLabCommand(program),
};
const GROUP_OF_COMMAND: Record<string, string> = { flows: 'flows', agent: 'server', analyzer: 'server', allinone: 'server', client: 'client', lab: 'lab' };

export async function buildProgram(argv: string[] = []): Promise<Command> {
  const program = new Command('skydive');
  program
    .description('Skydive: real-time network topology and flow analyzer, with its multi-node lab')
    .version(VERSION, '-V, --version')
    .exitOverride()
    .showSuggestionAfterError(false)
    .configureOutput({
      // Commander prints multi-line usage after errors; we keep errors to the one line that says what is wrong.
      outputError: (str, write) => write(str.split('\n')[0] + '\n'),
    })
    .enablePositionalOptions();
  const first = argv.find((a) => !a.startsWith('-'));
  const group = first === undefined ? undefined : GROUP_OF_COMMAND[first];
  for (const [name, register] of Object.entries(COMMAND_GROUPS)) if (!group || name === group) await register(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = await buildProgram(argv);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version end with exitCode 0; every parse error is a usage error
      process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE);
    }
    if (err instanceof SkydiveError) {
      process.stderr.write(`skydive: ${err.message} [${err.code}]\n`);
      process.exit(err.statusCode === 400 ? EXIT_USAGE : 1);
    }
    process.stderr.write(`skydive: ${errorMessage(err)}\n`);
    process.exit(1);
  }
}
