import assert from 'node:assert/strict';
import { toJUnit, xmlEscape } from '../../../src/lab/scenario/junit.js';
import type { ScenarioResult } from '../../../src/lab/scenario/runner.js';

const result: ScenarioResult = {
  name: 'gre-tunnel',
  file: 'scenarios/gre-tunnel.yaml',
  startedAt: new Date('2024-07-17T10:00:00.123Z'),
  ms: 12345,
  cases: [
    { name: 'setup agent1', status: 'passed', ms: 1500, at: 'scenarios/gre-tunnel.yaml:17', output: '$ sudo ip netns add ns1' },
    { name: 'capture agent1-eth1', status: 'skipped', ms: 0, at: 'scenarios/gre-tunnel.yaml:38', message: 'analyzer does not serve /api/capture yet' },
    { name: 'check GRE <flow> & "children"', status: 'failed', ms: 30000, at: 'scenarios/gre-tunnel.yaml:60', message: 'no child flow', output: 'bell\u0007 [] ' },
    { name: 'teardown agent2', status: 'error', ms: 10, message: 'ssh: connection refused' },
  ],
};

describe('JUnit report', () => {
  it('has one testsuite per scenario and one testcase per step, with totals', () => {
    const xml = toJUnit([result]);
    assert.match(xml, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites name="skydive lab" tests="4" failures="1" errors="1" skipped="1" time="12\.345">/);
    assert.match(xml, /<testsuite name="gre-tunnel" file="scenarios\/gre-tunnel\.yaml" tests="4" failures="1" errors="1" skipped="1" time="12\.345" timestamp="2024-07-17T10:00:00">/);
    assert.match(xml, /<testcase classname="gre-tunnel" name="setup agent1" time="1\.500" file="scenarios\/gre-tunnel\.yaml" line="17">\n {6}<system-out>\$ sudo ip netns add ns1<\/system-out>/);
    assert.match(xml, /<skipped message="analyzer does not serve \/api\/capture yet"\/>/);
    assert.match(xml, /<failure message="no child flow" type="assertion">no child flow<\/failure>/);
    assert.match(xml, /<testcase classname="gre-tunnel" name="teardown agent2" time="0\.010">\n {6}<error message="ssh: connection refused"/);
    assert.equal((xml.match(/<testcase /g) ?? []).length, 4);
    assert.ok(xml.trimEnd().endsWith('</testsuites>'));
  });

  it('escapes markup and drops characters XML cannot hold', () => {
    const xml = toJUnit([result]);
    assert.ok(xml.includes('name="check GRE &lt;flow&gt; &amp; &quot;children&quot;"'));
    assert.ok(xml.includes('<system-out>bell\uFFFD [] </system-out>'));
    assert.equal(xmlEscape("a'b"), 'a&apos;b');
  });

  it('is well-formed for an empty run', () => {
    assert.equal(toJUnit([]), '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="skydive lab" tests="0" failures="0" errors="0" skipped="0" time="0.000">\n</testsuites>\n');
  });
});
