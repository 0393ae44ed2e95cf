import { Command, CommanderError } from 'commander';
import { SkydiveError, errorMessage } from '../common/errors.js';
import { VERSION } from '../common/version.js';

/** Exit codes: 0 ok, 1 runtime failure (missing file, unreachable analyzer...), 2 bad usage (flag, value). */
export const EXIT_USAGE = 2;

/** Adds a group of commands (see command-groups.ts) to the program. */
export type CommandGroupRegistrar = (program: Command) => void;

/** The `skydive` program with the commands of these groups. */
export function buildProgram(groups: readonly CommandGroupRegistrar[]): Command {
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
  for (const register of groups) register(program);
  return program;
}

/** Runs the command line with the commands of these groups; usage errors exit with 2, failures with 1. */
export async function main(argv: string[], groups: readonly CommandGroupRegistrar[]): Promise<void> {
  const program = buildProgram(groups);
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
