import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import WebSocket from 'ws';
import { Cleanup, sh, shQuiet } from '../helpers/sh.js';
import { waitFor } from '../helpers/wait.js';
import { SKYDIVE_BIN } from '../helpers/shared.js';
import { SkydiveProcess, freePorts, httpJSON, topologyQuery, waitForAgent } from '../helpers/allinone.js';

/**
 * The analyzer and an agent as two real processes (`bin/skydive analyzer`, `bin/skydive agent`): topology sync,
 * agent loss and analyzer restart, the REST API with its errors, /ws/subscriber, and the client CLI.
 * The agent runs its real probes on this machine's root namespace.
 */
const PREFIX = `apitest${process.pid % 100000}`;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(SKYDIVE_BIN, args, { env: { ...process.env, SKYDIVE_ANALYZER: '', ...env }, timeout: 30000 }, (err, stdout, stderr) => {
      const exit = (err as { code?: unknown } | null)?.code;
      const code = !err ? 0 : typeof exit === 'number' ? exit : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A /ws/subscriber connection collecting every message. */
class Subscriber {
  readonly messages: any[] = [];
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => this.messages.push(JSON.parse(d.toString())));
  }
  static open(addr: string, headers: Record<string, string> = {}): Promise<Subscriber> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://${addr}/ws/subscriber`, { headers: { 'X-Client-Type': 'test', ...headers } });
      const s = new Subscriber(ws);
      ws.once('open', () => resolve(s));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c));
        res.on('end', () => reject(Object.assign(new Error(`HTTP ${res.statusCode}: ${body}`), { status: res.statusCode, body })));
      });
      ws.once('error', reject);
    });
  }
  waitFor(pred: (m: any) => boolean, what: string): Promise<any> {
    return waitFor(() => this.messages.find(pred), (m) => m !== undefined, { what, timeout: 10000 });
  }
  close(): void {
    this.ws.terminate();
  }
}

describe('analyzer and agent processes, REST and WebSocket API, client CLI', function () {
  this.timeout(120000);
  const cleanup = new Cleanup();
  const hostID = `${PREFIX}-agent`;
  const nsName = `${PREFIX}-ns`;
  let analyzerAddr: string;
  let agentAddr: string;
  let analyzer: SkydiveProcess;
  let agent: SkydiveProcess;

  before(async function () {
    const [ap, gp] = await freePorts(2);
    analyzerAddr = `127.0.0.1:${ap}`;
    agentAddr = `127.0.0.1:${gp}`;
    analyzer = new SkydiveProcess('analyzer', {
      host_id: `${PREFIX}-analyzer`,
      analyzer: { listen: analyzerAddr },
      'analyzer.topology.fabric': [`TOR[Name=${PREFIX}-tor] -> PORT[Name=${PREFIX}-port, MTU=1500]`, `PORT -> *[Type=host,Name=${hostID}]/lo`],
      http: { ws: { ping_delay: 1, pong_timeout: 2 } },
    });
    agent = new SkydiveProcess('agent', {
      host_id: hostID,
      analyzers: [analyzerAddr],
      agent: { listen: agentAddr, topology: { probes: [] } },
      http: { ws: { ping_delay: 1, pong_timeout: 2 } },
    });
    cleanup.add(() => analyzer.stop());
    cleanup.add(() => agent.stop());
    await analyzer.start();
    await agent.start();
    try {
      await waitForAgent(analyzerAddr, hostID, () => analyzer.exited ?? agent.exited);
    } catch (err) {
      printLogs();
      throw err;
    }
  });

  function printLogs(): void {
    console.log(`analyzer logs: ${analyzer.logFile}\n${analyzer.logTail(15)}\nagent logs: ${agent.logFile}\n${agent.logTail(15)}`);
  }

  afterEach(function () {
    if (this.currentTest?.state === 'failed') printLogs();
  });

  after(async () => {
    await cleanup.run();
    if (analyzer.exitCode === 0) analyzer.removeFiles();
    if (agent.exitCode === 0) agent.removeFiles();
  });

  it('synchronises the agent graph to the analyzer, with the agent origin', async () => {
    const hosts = await topologyQuery(analyzerAddr, `G.V().Has('Type', 'host', 'Name', '${hostID}')`);
    assert.equal(hosts.length, 1);
    assert.equal(hosts[0].Origin, `agent.${hostID}`);
    assert.equal(hosts[0].Host, hostID);
    const lo = await topologyQuery(analyzerAddr, `G.V().Has('Type', 'host', 'Name', '${hostID}').Out('Name', 'lo')`);
    assert.equal(lo.length, 1, 'the loopback interface of the root namespace, owned by the host');
    assert.equal(lo[0].Origin, `agent.${hostID}`);
  });

  it('links fabric nodes of analyzer.topology.fabric to the agent interface', async () => {
    const port = await topologyQuery(analyzerAddr, `G.V().Has('Name', '${PREFIX}-port')`);
    assert.equal(port.length, 1);
    assert.equal(port[0].Metadata.MTU, '1500');
    assert.equal(port[0].Origin, `analyzer.${PREFIX}-analyzer`);
    await waitFor(() => topologyQuery(analyzerAddr, `G.V().Has('Name', '${PREFIX}-port').Out('Name', 'lo')`), (r) => r.length === 1, {
      what: 'fabric port linked to the agent lo',
    });
  });

  it('GET /api/status lists the connected agent', async () => {
    const { status, body } = await httpJSON('GET', analyzerAddr, '/api/status');
    assert.equal(status, 200);
    const a = body.Agents[hostID];
    assert.equal(a.IsConnected, true);
    assert.equal(a.ServiceType, 'agent');
    assert.equal(a.ClientProtocol, 'json');
    assert.equal(a.RemoteHost, hostID);
    assert.equal(a.Addr, '127.0.0.1');
    assert.ok(!Number.isNaN(Date.parse(a.ConnectTime)));
    for (const k of ['Peers', 'Publishers', 'Subscribers', 'Alerts', 'Captures', 'Probes']) assert.ok(k in body, k);
  });

  it('shows a new network namespace through `client topology query`, and removes it when deleted', async () => {
    cleanup.add(`ip netns del ${nsName} 2>/dev/null`);
    await sh(`ip netns add ${nsName}`);
    const query = `G.V().Has('Type', 'netns', 'Name', '${nsName}')`;
    const found = await waitFor(
      async () => {
        const r = await cli(['client', '--analyzer', analyzerAddr, 'topology', 'query', '--gremlin', query]);
        assert.equal(r.code, 0, r.stderr);
        return JSON.parse(r.stdout) as any[];
      },
      (nodes) => nodes.length === 1,
      { what: `netns ${nsName} in the analyzer`, timeout: 20000, interval: 300 },
    );
    assert.equal(found[0].Metadata.Path, `/var/run/netns/${nsName}`);
    assert.equal(found[0].Host, hostID);
    shQuiet(`ip netns del ${nsName}`);
    await waitFor(() => topologyQuery(analyzerAddr, query), (r) => r.length === 0, { what: `netns ${nsName} removed`, timeout: 20000 });
  });

  it('GET /api identifies the analyzer', async () => {
    const { status, body } = await httpJSON('GET', analyzerAddr, '/api');
    assert.equal(status, 200);
    assert.deepEqual(Object.keys(body).sort(), ['Host', 'Service', 'Version']);
    assert.equal(body.Host, `${PREFIX}-analyzer`);
    assert.equal(body.Service, 'analyzer');
  });

  it('POST /api/topology answers results, 204 for an empty query, DOT for graphs', async () => {
    const count = await topologyQuery(analyzerAddr, `G.V().Has('@Host', '${hostID}').Count()`);
    assert.equal(typeof count, 'number');
    assert.ok(count >= 2);
    const g = await topologyQuery(analyzerAddr, 'G');
    assert.ok(Array.isArray(g) && Array.isArray(g[0].Nodes) && Array.isArray(g[0].Edges));

    const empty = await httpJSON('POST', analyzerAddr, '/api/topology', { GremlinQuery: '' });
    assert.equal(empty.status, 204);

    const dot = await httpJSON('POST', analyzerAddr, '/api/topology', { GremlinQuery: `G.V().Has('Name', '${PREFIX}-tor').SubGraph()` }, { Accept: 'text/vnd.graphviz' });
    assert.equal(dot.status, 200);
    assert.match(dot.headers.get('content-type') ?? '', /text\/vnd\.graphviz/);
    assert.match(dot.text, /^digraph g \{/);
    assert.match(dot.text, new RegExp(`${PREFIX}-tor`));

    const notGraph = await httpJSON('POST', analyzerAddr, '/api/topology', { GremlinQuery: 'G.V().Count()' }, { Accept: 'text/vnd.graphviz' });
    assert.equal(notGraph.status, 406);
    assert.equal(notGraph.body.code, 'SKYDIVE_API_NOT_ACCEPTABLE');

    const whole = await httpJSON('GET', analyzerAddr, '/api/topology');
    assert.equal(whole.status, 200);
    assert.ok(whole.body.Nodes.some((n: any) => n.Metadata.Name === hostID));
  });

  it('answers 400 with {code, message} for bad Gremlin and bad bodies', async () => {
    const bad = await httpJSON('POST', analyzerAddr, '/api/topology', { GremlinQuery: "G.V().Has('Name'" });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'SKYDIVE_GREMLIN_SYNTAX');
    assert.match(bad.body.message, /column \d+/);

    const notJSON = await httpJSON('POST', analyzerAddr, '/api/topology', '{"GremlinQuery": ', { 'Content-Type': 'application/json' });
    assert.equal(notJSON.status, 400);
    assert.equal(typeof notJSON.body.code, 'string');
    assert.match(notJSON.body.message, /JSON/i);

    const wrongType = await httpJSON('POST', analyzerAddr, '/api/topology', { GremlinQuery: 42 });
    assert.equal(wrongType.status, 400);
    assert.equal(wrongType.body.code, 'SKYDIVE_API_BAD_REQUEST');
    assert.match(wrongType.body.message, /GremlinQuery must be string/);

    const text = await httpJSON('POST', analyzerAddr, '/api/topology', 'G.V()', { 'Content-Type': 'text/plain' });
    assert.equal(text.status, 415);
    assert.equal(text.body.code, 'SKYDIVE_API_UNSUPPORTED_MEDIA_TYPE');

    const noRoute = await httpJSON('GET', analyzerAddr, '/api/nothing-here');
    assert.equal(noRoute.status, 404);
    assert.equal(noRoute.body.code, 'SKYDIVE_API_NOT_FOUND');
  });

  it('GET /api/config/:key answers configured values', async () => {
    const r = await httpJSON('GET', analyzerAddr, '/api/config/analyzer.listen');
    assert.equal(r.status, 200);
    assert.equal(r.body, analyzerAddr);
    const d = await httpJSON('GET', analyzerAddr, '/api/config/flow.expire');
    assert.equal(d.body, 600, 'defaults too');
    const missing = await httpJSON('GET', analyzerAddr, '/api/config/no.such.key');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'SKYDIVE_CONFIG_UNKNOWN_KEY');
  });

  it('creates, lists, gets and deletes nodes and edges; validates bodies', async () => {
    const n1 = await httpJSON('POST', analyzerAddr, '/api/node', { ID: `${PREFIX}-n1`, Metadata: { Name: `${PREFIX}-n1`, Type: 'device' } });
    assert.equal(n1.status, 201, n1.text);
    assert.equal(n1.body.Origin, `api.${PREFIX}-analyzer`);
    assert.equal(n1.body.Revision, 1);
    assert.ok(n1.body.CreatedAt > 0);
    const n2 = await httpJSON('POST', analyzerAddr, '/api/node', { Metadata: { Name: `${PREFIX}-n2`, Type: 'device' } });
    assert.equal(n2.status, 201);
    assert.match(n2.body.ID, /^[0-9a-f-]{36}$/, 'generated ID');

    const dup = await httpJSON('POST', analyzerAddr, '/api/node', { ID: `${PREFIX}-n1`, Metadata: { Name: 'x', Type: 'device' } });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.code, 'SKYDIVE_API_DUPLICATE');

    const noName = await httpJSON('POST', analyzerAddr, '/api/node', { Metadata: { Type: 'device' } });
    assert.equal(noName.status, 400);
    assert.match(noName.body.message, /Name/);
    const netnsNoPath = await httpJSON('POST', analyzerAddr, '/api/node', { Metadata: { Type: 'netns', Name: 'x' } });
    assert.equal(netnsNoPath.status, 400);
    assert.match(netnsNoPath.body.message, /Path/);

    const get = await httpJSON('GET', analyzerAddr, `/api/node/${PREFIX}-n1`);
    assert.equal(get.status, 200);
    assert.equal(get.body.Metadata.Name, `${PREFIX}-n1`);
    const list = await httpJSON('GET', analyzerAddr, '/api/node');
    assert.ok(list.body[`${PREFIX}-n1`]);
    assert.ok(list.body[n2.body.ID]);

    const badEdge = await httpJSON('POST', analyzerAddr, '/api/edge', { Parent: `${PREFIX}-n1`, Child: 'nope', Metadata: { RelationType: 'layer2' } });
    assert.equal(badEdge.status, 400);
    assert.equal(badEdge.body.code, 'SKYDIVE_API_UNKNOWN_NODE');
    const noRel = await httpJSON('POST', analyzerAddr, '/api/edge', { Parent: `${PREFIX}-n1`, Child: n2.body.ID, Metadata: {} });
    assert.equal(noRel.status, 400);
    assert.match(noRel.body.message, /RelationType/);

    const e = await httpJSON('POST', analyzerAddr, '/api/edge', { Parent: `${PREFIX}-n1`, Child: n2.body.ID, Metadata: { RelationType: 'layer2' } });
    assert.equal(e.status, 201, e.text);
    const viaGremlin = await topologyQuery(analyzerAddr, `G.V('${PREFIX}-n1').Out()`);
    assert.deepEqual(viaGremlin.map((n: any) => n.ID), [n2.body.ID]);
    assert.equal((await httpJSON('GET', analyzerAddr, `/api/edge/${e.body.ID}`)).status, 200);
    assert.ok((await httpJSON('GET', analyzerAddr, '/api/edge')).body[e.body.ID]);

    assert.equal((await httpJSON('DELETE', analyzerAddr, `/api/edge/${e.body.ID}`)).status, 200);
    assert.equal((await httpJSON('GET', analyzerAddr, `/api/edge/${e.body.ID}`)).status, 404);
    assert.equal((await httpJSON('DELETE', analyzerAddr, `/api/node/${PREFIX}-n1`)).status, 200);
    assert.equal((await httpJSON('DELETE', analyzerAddr, `/api/node/${n2.body.ID}`)).status, 200);
    const gone = await httpJSON('GET', analyzerAddr, `/api/node/${PREFIX}-n1`);
    assert.equal(gone.status, 404);
    assert.equal(gone.body.code, 'SKYDIVE_API_NODE_NOT_FOUND');
  });

  it('/ws/subscriber answers SyncRequest and pushes NodeAdded/NodeDeleted', async () => {
    const sub = await Subscriber.open(analyzerAddr);
    cleanup.add(() => sub.close());
    sub.ws.send(JSON.stringify({ Namespace: 'Graph', Type: 'SyncRequest', UUID: 'req-1', Obj: { Time: 0 } }));
    const reply = await sub.waitFor((m) => m.Type === 'SyncReply', 'SyncReply');
    assert.equal(reply.UUID, 'req-1');
    assert.equal(reply.Status, 200);
    assert.ok(reply.Obj.Nodes.some((n: any) => n.Metadata.Name === hostID));

    const id = `${PREFIX}-wsnode`;
    await httpJSON('POST', analyzerAddr, '/api/node', { ID: id, Metadata: { Name: id, Type: 'device' } });
    const added = await sub.waitFor((m) => m.Type === 'NodeAdded' && m.Obj.ID === id, 'NodeAdded');
    assert.equal(added.Namespace, 'Graph');
    assert.equal(added.Obj.Metadata.Name, id);
    await httpJSON('DELETE', analyzerAddr, `/api/node/${id}`);
    await sub.waitFor((m) => m.Type === 'NodeDeleted' && m.Obj.ID === id, 'NodeDeleted');
    sub.close();
  });

  it('/ws/subscriber with X-Gremlin-Filter only receives the filtered subgraph changes', async () => {
    const type = `${PREFIX}-filtered`;
    const sub = await Subscriber.open(analyzerAddr, { 'X-Gremlin-Filter': `G.V().Has('Type', '${type}').SubGraph()` });
    cleanup.add(() => sub.close());
    await httpJSON('POST', analyzerAddr, '/api/node', { ID: `${PREFIX}-other`, Metadata: { Name: 'other', Type: 'device' } });
    await httpJSON('POST', analyzerAddr, '/api/node', { ID: `${PREFIX}-kept`, Metadata: { Name: 'kept', Type: type } });
    const added = await sub.waitFor((m) => m.Type === 'NodeAdded', 'filtered NodeAdded');
    assert.equal(added.Obj.ID, `${PREFIX}-kept`);
    assert.ok(!sub.messages.some((m) => m.Obj?.ID === `${PREFIX}-other`), 'a node outside the filter is not sent');

    sub.ws.send(JSON.stringify({ Namespace: 'Graph', Type: 'SyncRequest', UUID: 'req-2', Obj: {} }));
    const reply = await sub.waitFor((m) => m.Type === 'SyncReply', 'filtered SyncReply');
    assert.deepEqual(reply.Obj.Nodes.map((n: any) => n.ID), [`${PREFIX}-kept`]);

    await httpJSON('DELETE', analyzerAddr, `/api/node/${PREFIX}-kept`);
    await sub.waitFor((m) => m.Type === 'NodeDeleted' && m.Obj.ID === `${PREFIX}-kept`, 'filtered NodeDeleted');
    await httpJSON('DELETE', analyzerAddr, `/api/node/${PREFIX}-other`);
    sub.close();

    await assert.rejects(Subscriber.open(analyzerAddr, { 'X-Gremlin-Filter': 'G.V().Count()' }), (err: any) => err.status === 400 && /must evaluate to a graph/.test(err.body));
    await assert.rejects(Subscriber.open(analyzerAddr, { 'X-Gremlin-Filter': 'G.V(' }), (err: any) => err.status === 400 && /SKYDIVE_GREMLIN_SYNTAX/.test(err.body));
  });

  it('refuses a second agent connection with the same X-Host-ID (409)', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`ws://${analyzerAddr}/ws/agent/topology`, { headers: { 'X-Host-ID': hostID, 'X-Client-Type': 'agent' } });
      ws.once('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.once('open', () => {
        ws.terminate();
        reject(new Error('accepted a duplicate host id'));
      });
      ws.once('error', reject);
    });
    assert.equal(status, 409);
    const hosts = await topologyQuery(analyzerAddr, `G.V().Has('Type', 'host', 'Name', '${hostID}')`);
    assert.equal(hosts.length, 1, 'the connected agent is untouched');
  });

  it('applies a publisher’s Sync, revision-checked partial updates and deletes; drops its subgraph on disconnect', async () => {
    const fakeHost = `${PREFIX}-fake`;
    const ws = new WebSocket(`ws://${analyzerAddr}/ws/agent/topology`, {
      headers: { 'X-Host-ID': fakeHost, 'X-Client-Type': 'agent', 'X-Persistence-Policy': 'DeleteOnDisconnect' },
    });
    cleanup.add(() => ws.terminate());
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const send = (Type: string, Obj: unknown) => ws.send(JSON.stringify({ Namespace: 'Graph', Type, UUID: `${Type}-${Date.now()}`, Obj }));
    const node = (ID: string, Name: string, Revision = 1) => ({ ID, Metadata: { Name, Type: 'device' }, Host: fakeHost, Origin: 'spoofed', CreatedAt: 1, UpdatedAt: 1, DeletedAt: null, Revision });
    const byName = (name: string) => topologyQuery(analyzerAddr, `G.V().Has('Name', '${name}')`);

    send('Sync', { Nodes: [node(`${PREFIX}-f1`, 'f1'), node(`${PREFIX}-f2`, 'f2')], Edges: [{ ...node(`${PREFIX}-fe`, 'e'), Parent: `${PREFIX}-f1`, Child: `${PREFIX}-f2`, Metadata: { RelationType: 'ownership' } }] });
    const f1 = await waitFor(() => byName('f1'), (r) => r.length === 1, { what: 'synced node' });
    assert.equal(f1[0].Origin, `agent.${fakeHost}`, 'origin forced to the publisher’s');
    assert.equal((await topologyQuery(analyzerAddr, `G.V('${PREFIX}-f1').Out()`))[0].ID, `${PREFIX}-f2`);

    ws.send('not json at all'); // logged and ignored: the connection and the analyzer carry on
    send('NodePartiallyUpdated', { ID: `${PREFIX}-f1`, UpdatedAt: 2, Revision: 1, Ops: [{ Type: 1, Key: 'Stale', Value: true }] });
    send('NodePartiallyUpdated', { ID: `${PREFIX}-f1`, UpdatedAt: 3, Revision: 2, Ops: [{ Type: 1, Key: 'MTU', Value: 9000 }] });
    const updated = await waitFor(() => byName('f1'), (r) => r[0]?.Metadata.MTU === 9000, { what: 'partial update applied' });
    assert.equal(updated[0].Revision, 2);
    assert.equal(updated[0].Metadata.Stale, undefined, 'an update that is not newer is ignored');

    // a new Sync replaces the publisher's whole subgraph
    send('Sync', { Nodes: [node(`${PREFIX}-f3`, 'f3')], Edges: [] });
    await waitFor(() => byName('f3'), (r) => r.length === 1, { what: 'second Sync' });
    assert.equal((await byName('f1')).length, 0);
    send('NodeAdded', node(`${PREFIX}-f4`, 'f4'));
    await waitFor(() => byName('f4'), (r) => r.length === 1, { what: 'NodeAdded' });
    send('NodeDeleted', { ID: `${PREFIX}-f4` });
    await waitFor(() => byName('f4'), (r) => r.length === 0, { what: 'NodeDeleted' });

    ws.close();
    await waitFor(() => byName('f3'), (r) => r.length === 0, { what: 'subgraph removed on disconnect' });
  });

  it('the agent API serves its own graph and status', async () => {
    const info = await httpJSON('GET', agentAddr, '/api');
    assert.equal(info.body.Service, 'agent');
    assert.equal(info.body.Host, hostID);
    const lo = await httpJSON('POST', agentAddr, '/api/topology', { GremlinQuery: "G.V().Has('Type', 'host').Out('Name', 'lo').Values('Name')" });
    assert.equal(lo.status, 200, lo.text);
    assert.deepEqual(lo.body, ['lo']);
    const st = await httpJSON('GET', agentAddr, '/api/status');
    assert.equal(st.body.Analyzers[analyzerAddr].IsConnected, true);
  });

  it('client CLI: status, query formats, node commands, errors', async () => {
    const base = ['client', '--analyzer', analyzerAddr];
    const status = await cli([...base, 'status']);
    assert.equal(status.code, 0, status.stderr);
    assert.equal(JSON.parse(status.stdout).Agents[hostID].IsConnected, true);
    assert.match(status.stdout, /^\{\n {2}"Agents"/, 'pretty-printed');

    const viaEnv = await cli(['client', 'query', `G.V().Has('Type', 'host', 'Name', '${hostID}')`], { SKYDIVE_ANALYZER: analyzerAddr });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
    assert.equal(JSON.parse(viaEnv.stdout)[0].Metadata.Name, hostID);

    const table = await cli([...base, 'query', `G.V().Has('Type', 'host', 'Name', '${hostID}')`, '--format', 'table']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^ID +TYPE +NAME +HOST\n/);
    assert.match(table.stdout, new RegExp(`host +${hostID} +${hostID}`));

    const dot = await cli([...base, 'topology', 'query', '--gremlin', `G.V().Has('Name', '${PREFIX}-tor').SubGraph()`, '--format', 'dot']);
    assert.equal(dot.code, 0, dot.stderr);
    assert.match(dot.stdout, /^digraph g \{/);

    const exported = await cli([...base, 'topology', 'export']);
    assert.equal(exported.code, 0);
    assert.ok(JSON.parse(exported.stdout)[0].Nodes.length >= 3);

    const bad = await cli([...base, 'query', "G.V().Has('Name'"]);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    assert.match(bad.stderr, /Gremlin syntax error at column \d+/);
    assert.equal(bad.stdout, '');

    const badFormat = await cli([...base, 'query', 'G', '--format', 'xml']);
    assert.equal(badFormat.code, 2);

    const created = await cli([...base, 'node', 'create', '--node-name', `${PREFIX}-cli`, '--node-type', 'device', '--metadata', 'Color=red, Ovs.Bridge=br0']);
    assert.equal(created.code, 0, created.stderr);
    const node = JSON.parse(created.stdout);
    assert.equal(node.Metadata.Color, 'red');
    assert.deepEqual(node.Metadata.Ovs, { Bridge: 'br0' });
    assert.match(node.Origin, /^cli\./);
    const got = await cli([...base, 'node', 'get', node.ID]);
    assert.equal(JSON.parse(got.stdout).ID, node.ID);
    const edge = await cli([...base, 'edge', 'create', '--parent', node.ID, '--child', node.ID, '--edge-type', 'layer2']);
    assert.equal(edge.code, 0, edge.stderr);
    assert.equal(JSON.parse(edge.stdout).Metadata.RelationType, 'layer2');
    const del = await cli([...base, 'node', 'delete', '--gremlin', `G.V().Has('Name', '${PREFIX}-cli')`]);
    assert.equal(del.code, 0, del.stderr);
    assert.deepEqual(JSON.parse(del.stdout), [node.ID]);
    const missing = await cli([...base, 'node', 'get', node.ID]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /not found/);
  });

  it('client CLI: an unreachable analyzer is one line and exit code 1', async () => {
    const [port] = await freePorts(1);
    const r = await cli(['client', '--analyzer', `127.0.0.1:${port}`, 'status']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `skydive: cannot reach analyzer at 127.0.0.1:${port}: ECONNREFUSED\n`);
  });

  it('removes the subgraph of a killed agent, and resyncs it when the agent comes back', async () => {
    const origin = `G.V().Has('@Origin', 'agent.${hostID}').Count()`;
    assert.ok((await topologyQuery(analyzerAddr, origin)) > 1);
    await agent.kill();
    await waitFor(() => topologyQuery(analyzerAddr, origin), (c) => c === 0, { what: 'agent subgraph removed' });
    const { body } = await httpJSON('GET', analyzerAddr, '/api/status');
    assert.equal(body.Agents[hostID], undefined);
    // the fabric nodes of the analyzer stay
    assert.equal((await topologyQuery(analyzerAddr, `G.V().Has('Name', '${PREFIX}-port')`)).length, 1);

    await agent.start();
    await waitForAgent(analyzerAddr, hostID, () => agent.exited);
    assert.ok((await topologyQuery(analyzerAddr, origin)) > 1);
  });

  it('an analyzer restart ends in a reconnection and a full resync', async () => {
    await analyzer.stop();
    await waitFor(() => httpJSON('GET', agentAddr, '/api/status'), (r) => r.body.Analyzers[analyzerAddr].IsConnected === false, {
      what: 'agent noticing the analyzer is gone',
    });
    await analyzer.start();
    await waitForAgent(analyzerAddr, hostID, () => analyzer.exited ?? agent.exited);
    const lo = await topologyQuery(analyzerAddr, `G.V().Has('Type', 'host', 'Name', '${hostID}').Out('Name', 'lo')`);
    assert.equal(lo.length, 1);
    await waitFor(() => topologyQuery(analyzerAddr, `G.V().Has('Name', '${PREFIX}-port').Out('Name', 'lo')`), (r) => r.length === 1, {
      what: 'fabric link to the resynced lo',
    });
  });
});
