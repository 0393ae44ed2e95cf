import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadLabFile } from '../../../src/lab/lab-file.js';
import { loadScenario, parseDuration, resolveCaptureRefs, scenarioFromSource, type Scenario } from '../../../src/lab/scenario/scenario-file.js';
import { parseYamlSource } from '../../../src/lab/yaml-source.js';
import { REPO_ROOT } from '../../helpers/shared.js';

const LAB = loadLabFile();

function scenario(text: string): Scenario {
  return scenarioFromSource(parseYamlSource('scenarios/x.yaml', text, 'SKYDIVE_LAB_SCENARIO_INVALID'), LAB);
}

function scenarioError(text: string): string {
  try {
    scenario(text);
  } catch (err) {
    assert.equal((err as { code?: string }).code, 'SKYDIVE_LAB_SCENARIO_INVALID');
    return (err as Error).message;
  }
  assert.fail('expected the scenario to be rejected');
}

describe('scenario files', () => {
  it('every shipped scenario is valid for the default lab', () => {
    const dir = join(REPO_ROOT, 'scenarios');
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    assert.ok(files.includes('gre-tunnel.yaml') && files.includes('topology.yaml') && files.includes('vxlan-tunnel.yaml') && files.includes('geneve-tunnel.yaml'));
    for (const f of files) assert.ok(loadScenario(join(dir, f), LAB).checks.length > 0, f);
  });

  it('reads the walkthrough scenario: setup per host, captures, injection, the three kinds of flow checks', () => {
    const s = loadScenario(join(REPO_ROOT, 'scenarios', 'gre-tunnel.yaml'), LAB);
    assert.equal(s.name, 'gre-tunnel');
    assert.deepEqual(s.setup.map((h) => h.host), ['agent1', 'agent2']);
    // ${hosts.agent2.address} is replaced by the lab's address
    assert.equal(s.setup[0].commands[7].command, 'sudo ovs-vsctl add-port br0 gre0 -- set interface gre0 type=gre options:remote_ip=192.168.50.30');
    assert.match(s.setup[0].commands[0].at, /gre-tunnel\.yaml:\d+$/);
    assert.deepEqual(s.captures.map((c) => c.type), ['afpacket', 'ovssflow', 'ovssflow']);
    assert.equal(s.injections[0].count, 5);
    assert.equal(s.injections[0].type, 'icmp4');
    assert.deepEqual(s.checks.map((c) => c.kind), ['gremlin', 'gremlin', 'command', 'gremlin', 'flowLink', 'sameTrackingID']);
    assert.equal(s.checks[0].timeoutMs, 40000);
  });

  it('reports a Gremlin syntax error with file, line, key and column', () => {
    const msg = scenarioError(`name: t
checks:
  - name: bad
    gremlin: G.V().Has('Name', 'eth0'
`);
    assert.match(msg, /^scenarios\/x\.yaml:4: checks\[0\]\.gremlin: Gremlin syntax error at column \d+/);
  });

  it('accepts flow steps, served by the analyzer, after a well-formed start', () => {
    const s = scenario(`name: t
checks:
  - name: flows
    gremlin: G.V().Has('Name', 'eth1').Flows().Has('Application', 'GRE')
`);
    assert.equal(s.checks.length, 1);
    assert.match(scenarioError(`name: t
checks:
  - name: flows
    gremlin: G.V(.Flows()
`), /^scenarios\/x\.yaml:4: checks\[0\]\.gremlin: Gremlin syntax error/);
    // the whole query is checked in the analyzer's dialect, also what follows a flow step
    assert.match(scenarioError(`name: t
checks:
  - name: flows
    gremlin: G.Flows().Has('Application', 'GRE').Hopz()
`), /^scenarios\/x\.yaml:4: checks\[0\]\.gremlin: Gremlin syntax error at column 37 near 'Hopz'/);
  });

  it('reports a shell syntax error in a command with its line', () => {
    const msg = scenarioError(`name: t
setup:
  - host: agent1
    run:
      - sudo ip netns add ns1
      - sudo ip link set (eth0 up
`);
    assert.match(msg, /^scenarios\/x\.yaml:6: setup\[0\]\.run\[1\]: shell syntax error: .*syntax error/);
  });

  it('checks host names and variables against the lab', () => {
    assert.match(scenarioError(`name: t
setup:
  - host: agent3
    run: [hostname]
`), /^scenarios\/x\.yaml:3: setup\[0\]\.host: no host "agent3" in lab skydive \(hosts: analyzer, agent1, agent2\)$/);
    assert.match(scenarioError(`name: t
teardown:
  - host: agent1
    run:
      - ping -c1 \${hosts.agent9.address}
`), /^scenarios\/x\.yaml:5: teardown\[0\]\.run\[0\]: \$\{hosts\.agent9\.address\}: no host "agent9"/);
  });

  it('requires exactly one kind per check and count options on gremlin checks only', () => {
    assert.match(scenarioError(`name: t
checks:
  - name: two
    gremlin: G.V()
    command: {host: agent1, run: "true"}
`), /^scenarios\/x\.yaml:3: checks\[0\]: a check has exactly one of gremlin, flowLink, sameTrackingID, command \(found gremlin, command\)$/);
    assert.match(scenarioError(`name: t
checks:
  - name: c
    command: {host: agent1, run: "true"}
    count: 1
`), /^scenarios\/x\.yaml:5: checks\[0\]\.count: "count" applies to gremlin checks only$/);
    assert.match(scenarioError(`name: t
checks:
  - name: c
    sameTrackingID: ["G.V()"]
`), /checks\[0\]\.sameTrackingID: must have at least 2 item\(s\)/);
  });

  it('rejects unknown keys, bad types and duplicate names with their lines', () => {
    assert.match(scenarioError(`name: t
captures:
  - name: c
    gremlin: G.V()
    typ: afpacket
`), /^scenarios\/x\.yaml:5: captures\[0\]\.typ: unknown key$/);
    assert.match(scenarioError(`name: t
injections:
  - name: i
    src: G.V()
    count: many
`), /^scenarios\/x\.yaml:5: injections\[0\]\.count: must be integer$/);
    assert.match(scenarioError(`name: t
checks:
  - name: same
    gremlin: G.V()
  - name: same
    gremlin: G.V()
`), /^scenarios\/x\.yaml:5: checks\[1\]\.name: name "same" is already used in checks \(scenarios\/x\.yaml:3\)$/);
    assert.match(scenarioError(`name: t
timeout: soon
`), /^scenarios\/x\.yaml:2: timeout: "soon" is not valid \(a duration/);
  });

  it('checks ${captures.NAME.id} references and resolves them at run time', () => {
    const s = scenario(`name: t
captures:
  - name: eth1
    gremlin: G.V().Has('Name', 'eth1')
checks:
  - name: gre
    gremlin: G.V().Has('Name', 'eth1').Flows().Has('CaptureID', '\${captures.eth1.id}')
`);
    const q = s.checks[0].kind === 'gremlin' ? s.checks[0].gremlin : '';
    assert.deepEqual(resolveCaptureRefs(q, new Map([['eth1', 'c-123']])), { query: "G.V().Has('Name', 'eth1').Flows().Has('CaptureID', 'c-123')", missing: [] });
    assert.deepEqual(resolveCaptureRefs(q, new Map()).missing, ['eth1']);
    assert.match(scenarioError(`name: t
checks:
  - name: gre
    gremlin: G.V().Flows().Has('CaptureID', '\${captures.eth9.id}')
`), /^scenarios\/x\.yaml:4: checks\[0\]\.gremlin: \$\{captures\.eth9\.id\}: no capture "eth9" in this scenario \(none\)$/);
    assert.match(scenarioError(`name: t
captures:
  - name: c
    gremlin: G.V().Has('Capture', '\${captures.c.id}')
`), /captures\[0\]\.gremlin: a capture query cannot use/);
  });

  it('parses durations', () => {
    assert.equal(parseDuration(undefined, 7), 7);
    assert.equal(parseDuration(2, 0), 2000);
    assert.equal(parseDuration('500ms', 0), 500);
    assert.equal(parseDuration('1.5s', 0), 1500);
    assert.equal(parseDuration('2m', 0), 120000);
  });
});
