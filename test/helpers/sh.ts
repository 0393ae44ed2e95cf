import { execFile, spawnSync } from 'node:child_process';

/** Run a shell command (bash -c), resolve with stdout; reject with stderr on a non-zero exit. */
export function sh(cmd: string, opts: { timeout?: number; allowFail?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('bash', ['-c', cmd], { timeout: opts.timeout ?? 30000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err && !opts.allowFail) reject(new Error(`command failed: ${cmd}\n${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

/** Synchronous variant for cleanup paths that must run even when a test failed; never throws. */
export function shQuiet(cmd: string): void {
  spawnSync('bash', ['-c', cmd], { stdio: 'ignore', timeout: 30000 });
}

/**
 * Collects undo actions while a test builds kernel objects (namespaces, links, OVS daemons) and runs them in
 * reverse order in an after/afterEach hook, whatever happened in between.
 */
export class Cleanup {
  private readonly actions: Array<() => unknown> = [];
  add(action: string | (() => unknown)): void {
    this.actions.push(typeof action === 'string' ? () => shQuiet(action) : action);
  }
  async run(): Promise<void> {
    while (this.actions.length) {
      const a = this.actions.pop()!;
      try {
        await a();
      } catch {
        /* keep cleaning */
      }
    }
  }
}
