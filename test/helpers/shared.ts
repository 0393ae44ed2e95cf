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
