import { resolve } from 'node:path';
import { AnalyzerClient } from '../analyzer-api.js';
import { analyzerCapabilities, requireState } from '../lab.js';
import { loadLabFile } from '../lab-file.js';
import { labFileLogger } from '../progress.js';
import { toJUnit } from './junit.js';
import { runScenario, type ScenarioResult } from './runner.js';
import { loadScenario } from './scenario-file.js';

/**
 * `lab run SCENARIO...`: validate every scenario first (a bad file stops before anything runs), then run them in
 * order against the lab that is up, printing each step; returns whether all passed (skips allowed) and the JUnit XML.
 */
export async function runScenarioFiles(opts: {
  labFile?: string;
  files: string[];
  print?: (line: string) => void;
}): Promise<{ ok: boolean; results: ScenarioResult[]; junit: string }> {
  const print = opts.print ?? ((l: string) => process.stdout.write(l + '\n'));
  const lab = loadLabFile(opts.labFile);
  const scenarios = opts.files.map((f) => loadScenario(resolve(f), lab));
  const state = requireState(lab);
  const log = labFileLogger(state.path('lab.log'));
  const services = Object.values(state.data.services);
  const analyzerState = services.find((s) => s.analyzer)?.analyzer;
  const api = analyzerState === 'running' && state.data.analyzerApi ? new AnalyzerClient(state.data.analyzerApi) : undefined;
  const caps = await analyzerCapabilities(api);
  const topologyWhy =
    analyzerState === 'unavailable'
      ? 'skydive analyzer is not available in this build'
      : api
        ? `analyzer ${state.data.analyzerApi} does not answer topology queries`
        : 'the analyzer is not running (see lab status)';
  const unavailable = {
    topology: topologyWhy,
    capture: caps.topology ? `analyzer ${state.data.analyzerApi} does not serve /api/capture yet` : topologyWhy,
    injection: caps.topology ? `analyzer ${state.data.analyzerApi} does not serve /api/injectpacket yet` : topologyWhy,
  };

  const results: ScenarioResult[] = [];
  for (const sc of scenarios) {
    results.push(await runScenario(sc, { hosts: state.data.hosts, api, caps, unavailable, print, log }));
  }
  let ok = true;
  for (const r of results) {
    const n = (s: string): number => r.cases.filter((c) => c.status === s).length;
    const bad = n('failed') + n('error');
    if (bad) ok = false;
    print(`${bad ? 'FAILED' : 'PASSED'} ${r.name}: ${n('passed')} passed, ${n('failed')} failed, ${n('error')} errors, ${n('skipped')} skipped (${(r.ms / 1000).toFixed(1)} s)`);
  }
  return { ok, results, junit: toJUnit(results) };
}
