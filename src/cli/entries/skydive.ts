// Entry of dist/cli/skydive.cjs, what bin/skydive runs: it loads the bundle of the command's group, which lies
// beside it (see command-groups.ts). Meaningful as a bundle only.
import { createRequire } from 'node:module';
import { commandGroupOf } from '../command-groups.js';

createRequire(import.meta.url)(`./skydive-${commandGroupOf(process.argv.slice(2))}.cjs`);
