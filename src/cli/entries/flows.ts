// Entry of dist/cli/skydive-flows.cjs (see command-groups.ts).
import { registerFlowsCommand } from '../flows-command.js';
import { main } from '../main.js';

void main(process.argv.slice(2), [registerFlowsCommand]);
