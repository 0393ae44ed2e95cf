import { execFile } from 'node:child_process';
import { SkydiveError } from '../common/errors.js';

export const PROVIDER_FAILED = 'SKYDIVE_LAB_PROVIDER_FAILED';

export interface LocalResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a program on this machine (no shell); rejects with its stderr unless `allowFail`. */
export function runLocal(
  file: string,
  args: string[],
  opts: { allowFail?: boolean; timeoutMs?: number; cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<LocalResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: opts.timeoutMs ?? 60000, maxBuffer: 32 << 20, cwd: opts.cwd, env: opts.env }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException).code === 'number' ? ((err as unknown as { code: number }).code) : 1) : 0;
      if (err && !opts.allowFail) {
        const why = stderr.trim() || err.message;
        reject(new SkydiveError(PROVIDER_FAILED, `${file} ${args.join(' ')}: ${why}`));
      } else resolve({ code, stdout, stderr });
    });
  });
}
