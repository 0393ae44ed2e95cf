import type { ScenarioResult } from './runner.js';

/** XML 1.0 text: escaped, without the control characters XML cannot carry (command output may hold any byte). */
export function xmlEscape(s: string): string {
  return s
    .replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const secs = (ms: number): string => (ms / 1000).toFixed(3);

/**
 * JUnit XML for CI (the format Jenkins, GitLab and GitHub reporters read): one <testsuite> per scenario, one
 * <testcase> per setup, capture, injection, check and teardown step, with <failure>, <error> or <skipped> and
 * the step's output in <system-out>.
 */
export function toJUnit(results: ScenarioResult[], suiteName = 'skydive lab'): string {
  const count = (r: ScenarioResult, s: string): number => r.cases.filter((c) => c.status === s).length;
  const total = (s: string): number => results.reduce((n, r) => n + count(r, s), 0);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xmlEscape(suiteName)}" tests="${results.reduce((n, r) => n + r.cases.length, 0)}" failures="${total('failed')}" errors="${total('error')}" skipped="${total('skipped')}" time="${secs(results.reduce((n, r) => n + r.ms, 0))}">`,
  ];
  for (const r of results) {
    lines.push(
      `  <testsuite name="${xmlEscape(r.name)}" file="${xmlEscape(r.file)}" tests="${r.cases.length}" failures="${count(r, 'failed')}" errors="${count(r, 'error')}" skipped="${count(r, 'skipped')}" time="${secs(r.ms)}" timestamp="${r.startedAt.toISOString().replace(/\.\d+Z$/, '')}">`,
    );
    for (const c of r.cases) {
      const attrs = `classname="${xmlEscape(r.name)}" name="${xmlEscape(c.name)}" time="${secs(c.ms)}"${c.at ? ` file="${xmlEscape(c.at.replace(/:\d+$/, ''))}" line="${c.at.split(':').pop()}"` : ''}`;
      const body: string[] = [];
      const msg = xmlEscape(c.message ?? '');
      if (c.status === 'failed') body.push(`      <failure message="${msg}" type="assertion">${msg}</failure>`);
      else if (c.status === 'error') body.push(`      <error message="${msg}" type="error">${msg}</error>`);
      else if (c.status === 'skipped') body.push(`      <skipped message="${msg}"/>`);
      if (c.output) body.push(`      <system-out>${xmlEscape(c.output)}</system-out>`);
      lines.push(body.length ? `    <testcase ${attrs}>\n${body.join('\n')}\n    </testcase>` : `    <testcase ${attrs}/>`);
    }
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>', '');
  return lines.join('\n');
}
