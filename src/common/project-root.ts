import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The project's root (the directory of its package.json). The same code runs from two depths: the compiled
 * modules (dist/src/<area>/x.js, what the tests import) and the CLI bundles (dist/cli/*.cjs, what bin/skydive
 * runs, see docs/architecture.md), so paths to the addon, the worker scripts or the lab's files are taken from
 * here rather than counted in '..' from the current module.
 */
export const PROJECT_ROOT = findProjectRoot(dirname(fileURLToPath(import.meta.url)));

function findProjectRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    // no package.json above (a tree copied without it): assume the compiled modules' layout, dist/src/common
    if (dirname(dir) === dir) return join(from, '..', '..', '..');
  }
}

/** The libpcap addon built by `make build` (native/). */
export const NATIVE_ADDON = join(PROJECT_ROOT, 'native', 'build', 'Release', 'skydive_native.node');

/**
 * A script run as a child process (capture worker, packet sender): its bundle in dist/cli when the CLI runs
 * from the bundles (`make build` makes both), else the compiled module next to the caller's.
 */
export function childScript(bundleName: string, modulePath: string): string {
  const bundle = join(PROJECT_ROOT, 'dist', 'cli', bundleName);
  return existsSync(bundle) ? bundle : join(PROJECT_ROOT, 'dist', 'src', modulePath);
}
