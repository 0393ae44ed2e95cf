import assert from 'node:assert/strict';
import { executeGremlin, resultGraph } from '../../../src/gremlin/index.js';
import { parseGoDuration, parseRFC1123 } from '../../../src/gremlin/history.js';
import { buildAgentGraph, T0, type AgentGraph } from './agent-graph.js';
import { query } from './helpers.js';
import { RecordingHistory } from './recording-history.js';

describe('gremlin Context/At (time travel through a HistoryProvider)', () => {
  let a: AgentGraph;
  let history: RecordingHistory;
  const NOW = T0 + 35_000;
  const run = (q: string) => query(a.g, q, { history, now: () => NOW });

  // T0 + 10s: eth1 MTU 1500 -> 9000; T0 + 20s: tap0 (and its 2 edges) deleted; T0 + 30s: new0 created
  beforeEach(() => {
    a = buildAgentGraph();
    history = new RecordingHistory(a.g);
    a.clock.t = T0 + 10_000;
    a.g.addMetadata(a.n.eth1, 'MTU', 9000);
    a.clock.t = T0 + 20_000;
    a.g.delNode(a.n.tap0);
    a.clock.t = T0 + 30_000;
    a.g.newNode('new0', { Name: 'new0', Type: 'veth' });
  });

  it('Context(t) with a Unix time in ms sees the graph as it was', async () => {
    assert.deepEqual(await run(`G.Context(${T0 + 5000}).V().Has('Name', 'eth1').Values('MTU')`), [1500]);
    assert.deepEqual(await run(`G.Context(${T0 + 15_000}).V().Has('Name', 'eth1').Values('MTU')`), [9000]);
    assert.equal(await run(`G.Context(${T0 + 15_000}).V().Has('Name', 'tap0').Count()`), 1);
    assert.equal(await run(`G.Context(${T0 + 25_000}).V().Has('Name', 'tap0').Count()`), 0);
    assert.equal(await run(`G.Context(${T0 + 15_000}).E().Count()`), 31);
    assert.equal(await run(`G.Context(${T0 + 25_000}).E().Count()`), 29);
    assert.equal(await run(`G.Context(${T0 + 25_000}).V().Has('Name', 'new0').Count()`), 0);
    assert.deepEqual(history.calls.at(-1), { graphAt: T0 + 25_000 });
  });

  it('At is Context; times relative to now, NOW, Unix seconds and RFC1123 dates', async () => {
    assert.deepEqual(await run("G.At('-20s').V().Has('Name', 'eth1').Values('MTU')"), [9000]);
    assert.deepEqual(history.calls.at(-1), { graphAt: T0 + 15_000 });
    assert.equal(await run('G.Context(NOW).V().Count()'), 19);
    assert.deepEqual(history.calls.at(-1), { graphAt: NOW });
    assert.deepEqual(await run(`G.Context(${T0 / 1000 + 10}).V().Has('Name', 'eth1').Values('MTU')`), [9000]);
    assert.deepEqual(history.calls.at(-1), { graphAt: T0 + 10_000 });
    assert.deepEqual(await run("G.Context('Tue, 14 Nov 2023 22:13:25 GMT').V().Has('Name', 'eth1').Values('MTU')"), [1500]);
    assert.deepEqual(await run("G.Context('Tue, 14 Nov 2023 23:13:35 CET').V().Has('Name', 'eth1').Values('MTU')"), [9000]);
  });

  it('Context(t, d) returns every revision of the slice [t - d, t]', async () => {
    assert.deepEqual(await run(`G.Context(${T0 + 25_000}, '20s').V().Has('Name', 'eth1').Values('MTU')`), [1500, 9000]);
    assert.deepEqual(history.calls.at(-1), { slice: { start: T0 + 5000, last: T0 + 25_000 } });
    assert.equal(await run(`G.Context(${T0 + 25_000}, '20s').V().Has('Name', 'tap0').Count()`), 1);
    // d in seconds: [T0+20s, T0+25s] no longer contains MTU 1500, still contains tap0 deleted at T0+20s
    assert.deepEqual(await run(`G.Context(${T0 + 25_000}, 5).V().Has('Name', 'eth1').Values('MTU')`), [9000]);
    assert.equal(await run(`G.Context(${T0 + 25_000}, 5).V().Has('Name', 'tap0').Count()`), 1);
    assert.equal(await run("G.Context(NOW, FOREVER).V().Has('Name', 'eth1').Count()"), 2);
    assert.deepEqual(history.calls.at(-1), { slice: { start: 0, last: NOW } });
  });

  it('steps after Context navigate the past graph, and .G stays in it', async () => {
    assert.deepEqual(await run(`G.Context(${T0 + 25_000}, '20s').V().Has('Name', 'eth1').In().Values('Name')`), ['agent1', 'agent1']);
    assert.equal(await run(`G.Context(${T0 + 5000}).V().Has('Type', 'host').G.V().Has('Name', 'new0').Count()`), 0);
    assert.equal(await run(`G.Context(${T0 + 15_000}).V().Has('Name', 'br0').Out().Count()`), 1);
    assert.equal(await run(`G.Context(${T0 + 25_000}).V().Has('Name', 'br0').Out().Count()`), 0);
  });

  it('resultGraph of a Context query is the past graph (latest revisions for a slice)', async () => {
    const past = resultGraph(await executeGremlin(`G.Context(${T0 + 5000})`, { graph: a.g, history, now: () => NOW }));
    assert.equal(past?.nodeCount, 19);
    assert.ok(past?.lookupFirstNode({ Name: 'tap0' }));
    const slice = resultGraph(await executeGremlin(`G.Context(${T0 + 25_000}, '20s')`, { graph: a.g, history, now: () => NOW }));
    assert.equal(slice?.lookupFirstNode({ Name: 'eth1' })?.metadata.MTU, 9000);
  });

  describe('time formats', () => {
    it('Go durations', () => {
      assert.equal(parseGoDuration('1h30m'), 5_400_000);
      assert.equal(parseGoDuration('-5m'), -300_000);
      assert.equal(parseGoDuration('1.5s'), 1500);
      assert.equal(parseGoDuration('300ms'), 300);
      assert.equal(parseGoDuration('+2h'), 7_200_000);
      assert.equal(parseGoDuration('0'), 0);
      for (const bad of ['', '5', 'abc', '5 m', '1d', '-']) assert.equal(parseGoDuration(bad), undefined, bad);
    });

    it('RFC1123 dates with zone names or offsets', () => {
      assert.equal(parseRFC1123('Mon, 02 Jan 2006 15:04:05 MST'), Date.UTC(2006, 0, 2, 22, 4, 5));
      assert.equal(parseRFC1123('Mon, 02 Jan 2006 15:04:05 GMT'), Date.UTC(2006, 0, 2, 15, 4, 5));
      assert.equal(parseRFC1123('Mon, 02 Jan 2006 15:04:05 +0200'), Date.UTC(2006, 0, 2, 13, 4, 5));
      assert.equal(parseRFC1123('Mon, 02 Foo 2006 15:04:05 GMT'), undefined);
      assert.equal(parseRFC1123('2006-01-02T15:04:05Z'), undefined);
    });
  });
});
