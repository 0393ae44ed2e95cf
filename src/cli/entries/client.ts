// Entry of dist/cli/skydive-client.cjs (see command-groups.ts).
import { registerClientGroup } from '../client-group.js';
import { main } from '../main.js';

void main(process.argv.slice(2), [registerClientGroup]);
