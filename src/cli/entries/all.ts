// Entry of dist/cli/skydive-all.cjs: every command (help, version, unknown commands; see command-groups.ts).
import { registerClientGroup } from '../client-group.js';
import { registerFlowsCommand } from '../flows-command.js';
import { registerLabCommand } from '../lab-command.js';
import { main } from '../main.js';
import { registerServerCommands } from '../server-commands.js';

void main(process.argv.slice(2), [registerFlowsCommand, registerServerCommands, registerClientGroup, registerLabCommand]);
