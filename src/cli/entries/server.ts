// Entry of dist/cli/skydive-server.cjs (see command-groups.ts).
import { main } from '../main.js';
import { registerServerCommands } from '../server-commands.js';

void main(process.argv.slice(2), [registerServerCommands]);
