import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { formatResults, isBenchmark, type BenchResult } from './harness.js';

/**
 * `npm run bench` (node dist/bench/run.js [filter...]): runs every benchmark exported by dist/bench/*.bench.js,
 * one after the other, and prints a table. Filters keep the benchmarks whose name contains one of them.
 * Exit code 1 when a benchmark failed to run (a figure below its target is reported, not a failure).
 */
const here = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);

const rows: Array<{ name: string; result?: BenchResult; error?: string }> = [];
for (const file of readdirSync(here).filter((f) => f.endsWith('.bench.js')).sort()) {
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { benchmarks?: unknown };
  if (!Array.isArray(mod.benchmarks)) {
    rows.push({ name: file, error: 'exports no `benchmarks` array' });
    continue;
  }
  for (const b of mod.benchmarks) {
    if (!isBenchmark(b)) {
      rows.push({ name: file, error: 'an entry of `benchmarks` has no name/run' });
      continue;
    }
    if (filters.length && !filters.some((f) => b.name.includes(f))) continue;
    process.stderr.write(`bench: running ${b.name}...\n`);
    try {
      rows.push({ name: b.name, result: await b.run() });
    } catch (err) {
      rows.push({ name: b.name, error: (err as Error).message.split('\n')[0] });
    }
  }
}
process.stdout.write(formatResults(rows));
process.exitCode = rows.some((r) => r.error) ? 1 : 0;
