// Entry of dist/cli/skydive-lab.cjs (see command-groups.ts).
import { registerLabCommand } from '../lab-command.js';
import { main } from '../main.js';

void main(process.argv.slice(2), [registerLabCommand]);
