import { createRequire } from 'node:module';
import type * as CommanderModule from 'commander';

/**
 * commander, loaded with require: its ESM entry point costs about 10 ms more at every start (Node's ESM wrapper
 * of a CommonJS package, the scan of its exports, the package's export map), which `skydive flows` on a capture
 * file, or a one-shot `skydive client` call, pays for nothing. Every command module imports commander from here.
 */
const commander = createRequire(import.meta.url)('commander') as typeof CommanderModule;

export const Command = commander.Command;
export type Command = CommanderModule.Command;
export const CommanderError = commander.CommanderError;
export type CommanderError = CommanderModule.CommanderError;
export const InvalidArgumentError = commander.InvalidArgumentError;
export type InvalidArgumentError = CommanderModule.InvalidArgumentError;
export const Option = commander.Option;
export type Option = CommanderModule.Option;
