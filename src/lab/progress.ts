import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { pino, type Logger } from 'pino';
import { errorMessage } from '../common/errors.js';

/** Structured lab log (pino JSON lines) in the lab's state directory: <state>/lab.log. */
export function labFileLogger(file: string): Logger {
  mkdirSync(dirname(file), { recursive: true });
  return pino({ level: 'debug', base: { component: 'lab' } }, pino.destination({ dest: file, sync: true, append: true }));
}

/** A step that ends with a note rather than success or failure (e.g. "not available in this build"). */
export class StepSkipped extends Error {}

/**
 * Progress on the terminal, one line per host and step when it ends — `[agent1] ovs: started (0.4 s)` — and the
 * same events with details in the structured log.
 */
export class Progress {
  constructor(private readonly log: Logger, private readonly out: (line: string) => void = (l) => process.stdout.write(l + '\n')) {}

  line(host: string, text: string): void {
    this.out(`[${host}] ${text}`);
  }

  info(text: string): void {
    this.out(text);
    this.log.info(text);
  }

  /** Run `fn` as step `step` of `host`; its resolved string is the outcome shown ("started", "ok"...). */
  async step<T extends string | void>(host: string, step: string, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    const secs = (): string => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
    this.log.debug({ host, step }, 'step started');
    try {
      const res = await fn();
      const outcome = res || 'ok';
      this.line(host, `${step}: ${outcome} (${secs()})`);
      this.log.info({ host, step, outcome, ms: Math.round(performance.now() - t0) }, 'step done');
      return res;
    } catch (err) {
      if (err instanceof StepSkipped) {
        this.line(host, `${step}: skipped, ${err.message} (${secs()})`);
        this.log.warn({ host, step, reason: err.message }, 'step skipped');
        return '' as T;
      }
      this.line(host, `${step}: FAILED (${secs()}): ${errorMessage(err).split('\n')[0]}`);
      this.log.error({ host, step, err: errorMessage(err) }, 'step failed');
      throw err;
    }
  }
}
