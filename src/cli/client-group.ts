import type { Command } from 'commander';
import { registerCaptureCommands } from './capture-command.js';
import { registerClientCommand } from './client-command.js';
import { registerInjectionCommands } from './injection-command.js';

/** `skydive client` and its subcommands, captures and packet injections included. */
export function registerClientGroup(program: Command): void {
  const client = registerClientCommand(program);
  registerCaptureCommands(client);
  registerInjectionCommands(client);
}
