import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, loadConfigDetailed } from '../../../src/config/loader.js';
import { SkydiveError, UsageError } from '../../../src/common/errors.js';
import { SKYDIVE_BIN } from '../../helpers/shared.js';

describe('config loader', () => {
  let dir: string;
  let n = 0;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'skydive-config-test-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function file(text: string): string {
    const p = join(dir, `conf-${++n}.yml`);
    writeFileSync(p, text);
    return p;
  }

  function loadError(files: string[], env: NodeJS.ProcessEnv = {}): UsageError {
    try {
      loadConfig(files, env);
    } catch (err) {
      assert.ok(err instanceof UsageError, `expected a UsageError, got ${err}`);
      return err;
    }
    assert.fail('configuration was accepted');
  }

  it('gives the original defaults when nothing is configured', () => {
    const c = loadConfig([], {});
    assert.equal(c.get('analyzer.listen'), '127.0.0.1:8082');
    assert.equal(c.get('agent.listen'), '127.0.0.1:8081');
    assert.deepEqual(c.get('agent.topology.probes'), ['ovsdb']);
    assert.equal(c.get('agent.topology.netlink.metrics_update'), 30);
    assert.equal(c.get('flow.expire'), 600);
    assert.equal(c.get('flow.update'), 60);
    assert.equal(c.get('flow.max_entries'), 500000);
    assert.equal(c.get('flow.default_layer_key_mode'), 'L2');
    assert.equal(c.get('http.ws.ping_delay'), 2);
    assert.equal(c.get('http.ws.pong_timeout'), 5);
    assert.equal(c.get('host_id'), hostname());
    assert.deepEqual(c.get('analyzers'), []);
    assert.equal(c.get('storage.memory.driver'), 'memory');
  });

  it('reads nested maps and dotted keys, later files overriding earlier ones', () => {
    const a = file(`
host_id: node1
analyzers: [10.0.0.1:8082]
analyzer.topology.fabric:
  - "TOR1[Name=tor1] -> TOR1_PORT1[Name=port1, MTU=1500]"
  - "TOR1_PORT1 -> *[Type=host,Name=agent1]/eth1"
agent:
  topology:
    probes: [ovsdb]
    netlink.metrics_update: 5
flow: {expire: 60, update: 5}
storage:
  elasticsearch: {driver: elasticsearch, hosts: ["http://127.0.0.1:9200"]}
`);
    const b = file(`
agent.topology.probes: [ovsdb, docker]
flow:
  update: 10
`);
    const c = loadConfig([a, b], {});
    assert.equal(c.get('host_id'), 'node1');
    assert.deepEqual(c.get('analyzers'), ['10.0.0.1:8082']);
    assert.deepEqual(c.get('analyzer.topology.fabric'), ['TOR1[Name=tor1] -> TOR1_PORT1[Name=port1, MTU=1500]', 'TOR1_PORT1 -> *[Type=host,Name=agent1]/eth1']);
    assert.deepEqual(c.get('agent.topology.probes'), ['ovsdb', 'docker']);
    assert.equal(c.get('agent.topology.netlink.metrics_update'), 5);
    assert.equal(c.get('flow.expire'), 60, 'kept from the first file');
    assert.equal(c.get('flow.update'), 10, 'overridden by the second file');
    assert.equal(c.get('storage.elasticsearch.driver'), 'elasticsearch');
    assert.equal(c.get('analyzer.listen'), '127.0.0.1:8082', 'default still applies');
  });

  it('applies SKYDIVE_* environment overrides over files, parsing values as YAML scalars', () => {
    const a = file('analyzer: {listen: 127.0.0.1:9000}\nflow: {expire: 60}\n');
    const c = loadConfig([a], {
      SKYDIVE_ANALYZER_LISTEN: '0.0.0.0:8082',
      SKYDIVE_AGENT_TOPOLOGY_PROBES: 'ovsdb netns',
      SKYDIVE_FLOW_EXPIRE: '30',
      SKYDIVE_OVS_ENABLE_STATS: 'true',
      SKYDIVE_ANALYZERS: '192.168.50.10:8082',
      SKYDIVE_HOST_ID: 'agent1',
      SKYDIVE_ANALYZER: '127.0.0.1:1', // the client's variable, not a key: ignored
    });
    assert.equal(c.get('analyzer.listen'), '0.0.0.0:8082');
    assert.deepEqual(c.get('agent.topology.probes'), ['ovsdb', 'netns']);
    assert.equal(c.get('flow.expire'), 30);
    assert.equal(c.get('ovs.enable_stats'), true);
    assert.deepEqual(c.get('analyzers'), ['192.168.50.10:8082']);
    assert.equal(c.get('host_id'), 'agent1');
  });

  it('reports an unknown key with its full path, the file, and a suggestion', () => {
    const f = file('agent:\n  topolgy:\n    probes: [ovsdb]\n');
    const err = loadError([f]);
    assert.equal(err.code, 'SKYDIVE_CONFIG_UNKNOWN_KEY');
    assert.equal(err.message, `unknown configuration key 'agent.topolgy.probes' in ${f} (did you mean 'agent.topology.probes'?)`);
  });

  it('reports an unknown dotted top-level key', () => {
    const f = file('analyzer.topology.fabrc: []\n');
    const err = loadError([f]);
    assert.match(err.message, /unknown configuration key 'analyzer\.topology\.fabrc' in .*\(did you mean 'analyzer\.topology\.fabric'\?\)/);
  });

  it('reports a value of the wrong type with the key and the file', () => {
    const f = file('agent:\n  topology:\n    netlink:\n      metrics_update: fast\n');
    const err = loadError([f]);
    assert.equal(err.code, 'SKYDIVE_CONFIG_BAD_VALUE');
    assert.equal(err.message, `bad value for 'agent.topology.netlink.metrics_update' in ${f}: expected an integer, got 'fast'`);
  });

  it('rejects a bad listen address and an unknown probe', () => {
    const f1 = file('analyzer:\n  listen: 0.0.0.0:99999\n');
    assert.match(loadError([f1]).message, /bad value for 'analyzer\.listen' in .*out-of-range port 99999/);
    const f2 = file('agent.topology.probes: [ovsbd]\n');
    assert.match(loadError([f2]).message, /bad value for 'agent\.topology\.probes' in .*unknown value 'ovsbd' \(did you mean 'ovsdb'\?\)/);
  });

  it('rejects a bad environment value naming the variable', () => {
    const err = loadError([], { SKYDIVE_FLOW_EXPIRE: 'soon' });
    assert.match(err.message, /bad value for 'flow\.expire' in environment variable SKYDIVE_FLOW_EXPIRE: expected an integer/);
  });

  it('rejects an invalid fabric rule, naming its index', () => {
    const f = file('analyzer.topology.fabric:\n  - "TOR1[Name=tor1] -> TOR1_PORT1"\n  - "TOR1 => TOR2"\n');
    const err = loadError([f]);
    assert.match(err.message, /^bad value for 'analyzer\.topology\.fabric\[1\]' in .*TOR1 => TOR2/);
  });

  it('names the file, line and column of a YAML syntax error', () => {
    const f = file('analyzer:\n  listen: 127.0.0.1:8082\n  topology: [a,\n b: c\n');
    const err = loadError([f]);
    assert.equal(err.code, 'SKYDIVE_CONFIG_YAML');
    assert.match(err.message, new RegExp(`^invalid YAML in ${f.replace(/[.]/g, '\\.')}:\\d+:\\d+: `));
    const line = Number(/:(\d+):\d+: /.exec(err.message)![1]);
    assert.ok(line >= 3 && line <= 5, `line ${line} points near the error`);
  });

  it('accepts etcd keys with a warning, and empty files', () => {
    const f = file('etcd:\n  embedded: yes\n  listen: 0.0.0.0:12379\n');
    const empty = file('');
    const { config, warnings } = loadConfigDetailed([f, empty], {});
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /'etcd' .* ignored: this implementation has no etcd/);
    assert.equal(config.get('analyzer.listen'), '127.0.0.1:8082');
  });

  it('reports a missing file as a read error (not a usage error)', () => {
    try {
      loadConfig([join(dir, 'missing.yml')], {});
      assert.fail('accepted');
    } catch (err) {
      assert.ok(err instanceof SkydiveError);
      assert.ok(!(err instanceof UsageError));
      assert.equal(err.code, 'SKYDIVE_CONFIG_READ');
      assert.match(err.message, /missing\.yml: ENOENT/);
    }
  });

  it('reads --conf - from stdin, and the CLI exits 2 with one line on a config error', function () {
    this.timeout(20000);
    const r = spawnSync(SKYDIVE_BIN, ['agent', '--conf', '-'], { input: 'agent:\n  topolgy:\n    probes: [ovsdb]\n', encoding: 'utf8', timeout: 15000 });
    assert.equal(r.status, 2, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /unknown configuration key 'agent\.topolgy\.probes' in standard input \(did you mean 'agent\.topology\.probes'\?\)/);
  });
});
