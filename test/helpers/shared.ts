import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (dist/test/helpers/ -> ../../..). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The ../shared folder (captures, reference, tools), or undefined when it is absent: tests then skip, saying so. */
export function sharedDir(): string | undefined {
  const candidates = [process.env.SKYDIVE_SHARED, join(REPO_ROOT, '..', 'shared')].filter(Boolean) as string[];
  return candidates.find((d) => existsSync(join(d, 'pcaps')));
}

export const SKYDIVE_BIN = join(REPO_ROOT, 'bin', 'skydive');

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `bin/skydive args...` (or another copy of the launcher) to its end. */
export function runSkydive(args: string[], bin = SKYDIVE_BIN): CliRun {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60000, maxBuffer: 256 << 20 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
