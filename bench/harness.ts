/**
 * The benchmark contract: every `bench/<name>.bench.ts` module exports `benchmarks`, an array of Benchmark.
 * `run()` returns the figures to print (numbers or short strings); it may throw to report a failure.
 */
export type BenchResult = Record<string, number | string>;

export interface Benchmark {
  name: string;
  run(): Promise<BenchResult>;
}

export function isBenchmark(x: unknown): x is Benchmark {
  return typeof x === 'object' && x !== null && typeof (x as Benchmark).name === 'string' && typeof (x as Benchmark).run === 'function';
}

function fmt(v: number | string): string {
  if (typeof v === 'string') return v;
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  return v.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

/** Each benchmark's name, then its figures as `key: value` pairs on an indented line. */
export function formatResults(rows: Array<{ name: string; result?: BenchResult; error?: string }>): string {
  const lines: string[] = [];
  for (const r of rows) {
    lines.push(r.name);
    lines.push('    ' + (r.error ? `FAILED: ${r.error}` : Object.entries(r.result ?? {}).map(([k, v]) => `${k}: ${fmt(v)}`).join('   ')));
  }
  return lines.join('\n') + '\n';
}
