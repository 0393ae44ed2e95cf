import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { httpJSON, startAllInOne, type AllInOne } from '../helpers/allinone.js';

/**
 * `skydive allinone` through the startAllInOne() helper other tests rely on: one process, the agent publishing to
 * its own analyzer (analyzers defaults to analyzer.listen), a clean stop on SIGTERM.
 */
describe('skydive allinone (startAllInOne helper)', function () {
  this.timeout(60000);
  let aio: AllInOne | undefined;

  after(async () => {
    await aio?.stop();
  });

  it('starts an analyzer and an agent that publishes to it, answers queries and stops cleanly', async () => {
    aio = await startAllInOne({ config: { 'analyzer.topology.fabric': ['SW[Name=aio-switch] -> P1[Name=aio-port]'] } });
    const hosts = await aio.query(`G.V().Has('Type', 'host', 'Name', '${aio.hostID}')`);
    assert.equal(hosts.length, 1);
    assert.equal(hosts[0].Origin, `agent.${aio.hostID}`);
    const fabric = await aio.query("G.V().Has('Name', 'aio-switch').Out().Values('Name')");
    assert.deepEqual(fabric, ['aio-port']);

    const status = await httpJSON('GET', aio.analyzerAddr, '/api/status');
    assert.equal(status.body.Agents[aio.hostID].IsConnected, true);
    const agentInfo = await httpJSON('GET', aio.agentAddr, '/api');
    assert.equal(agentInfo.body.Service, 'agent');

    await assert.rejects(aio.query('G.V().Foo()'), /Foo/);

    const logDir = dirname(aio.logFile);
    await aio.stop();
    await aio.stop(); // safe twice
    assert.equal(existsSync(logDir), false, 'a clean stop (exit code 0) removes the temp files');
    await assert.rejects(httpJSON('GET', aio.analyzerAddr, '/api'), 'the analyzer is gone');
    aio = undefined;
  });
});
