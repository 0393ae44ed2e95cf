import assert from 'node:assert/strict';
import { UsageError } from '../../../src/common/errors.js';
import { atom, JsonSplitter, mapOf, OvsdbClient, optional, parseOvsdbAddress, setOf, type TableUpdates } from '../../../src/probes/topology/ovsdb-client.js';
import { TestOVS } from '../../helpers/ovs.js';
import { waitFor } from '../../helpers/wait.js';

describe('OVSDB JSON-RPC client', function () {
  this.timeout(60000);
  let ovs: TestOVS | undefined;
  let client: OvsdbClient | undefined;

  before(async () => {
    ovs = await TestOVS.start();
  });
  after(() => {
    client?.close();
    ovs?.stop();
  });

  it('talks to a real ovsdb-server: list_dbs, monitor, update notifications', async () => {
    client = await OvsdbClient.connect(ovs!.ovsdbURL);
    assert.ok((await client.listDbs()).includes('Open_vSwitch'));
    const updates: TableUpdates[] = [];
    client.on('update', (id: unknown, u: TableUpdates) => {
      assert.equal(id, 'uoc');
      updates.push(u);
    });
    const initial = await client.monitor('Open_vSwitch', 'uoc', {
      Open_vSwitch: { columns: ['bridges'] },
      Bridge: { columns: ['name', 'ports', 'external_ids'] },
    });
    assert.equal(Object.keys(initial.Open_vSwitch).length, 1, 'the root row');
    assert.equal(initial.Bridge, undefined, 'no bridge yet');

    await ovs!.vsctl('add-br uoc-br0 -- set bridge uoc-br0 datapath_type=netdev external_ids:owner=uoc');
    const inserted = await waitFor(
      () => updates.flatMap((u) => Object.entries(u.Bridge ?? {})).find(([, r]) => r.new && r.new.name === 'uoc-br0'),
      Boolean,
      { what: 'bridge insert notification' },
    );
    const [uuid, row] = inserted!;
    assert.match(uuid, /^[0-9a-f-]{36}$/);
    assert.deepEqual(mapOf(row.new!.external_ids), { owner: 'uoc' });
    assert.equal(setOf(row.new!.ports).length, 1, 'the bridge internal port');

    await ovs!.vsctl('del-br uoc-br0');
    await waitFor(() => updates.some((u) => u.Bridge?.[uuid] && !u.Bridge[uuid].new && u.Bridge[uuid].old), Boolean, { what: 'bridge delete notification' });
  });

  it('rejects a failing request with the server error', async () => {
    await assert.rejects(client!.request('transact', ['Nope_DB']), /ovsdb error: .*unknown database/);
    assert.ok((await client!.listDbs()).length > 0, 'the connection survives');
  });

  it('reports a closed connection to pending and later requests', async () => {
    const c = await OvsdbClient.connect(ovs!.ovsdbURL);
    const closed = new Promise((resolve) => c.on('close', resolve));
    c.close();
    await closed;
    await assert.rejects(c.listDbs(), /connection closed/);
  });

  it('says clearly when the server is not there', async () => {
    await assert.rejects(OvsdbClient.connect('unix:///nonexistent/uoc.sock'), /cannot connect to ovsdb unix:\/nonexistent\/uoc.sock: .*ENOENT/);
  });
});

describe('OVSDB helpers', () => {
  it('parses ovs.ovsdb addresses', () => {
    assert.deepEqual(parseOvsdbAddress('unix:///var/run/openvswitch/db.sock'), { path: '/var/run/openvswitch/db.sock' });
    assert.deepEqual(parseOvsdbAddress('unix:/tmp/db.sock'), { path: '/tmp/db.sock' });
    assert.deepEqual(parseOvsdbAddress('tcp:127.0.0.1:6640'), { host: '127.0.0.1', port: 6640 });
    assert.deepEqual(parseOvsdbAddress('tcp://[::1]:6640'), { host: '::1', port: 6640 });
    assert.deepEqual(parseOvsdbAddress('10.0.0.1:6640'), { host: '10.0.0.1', port: 6640 });
    for (const bad of ['', 'unix://relative', 'tcp:host', 'tcp:host:99999', 'http://x:1/']) {
      assert.throws(() => parseOvsdbAddress(bad), (e: unknown) => e instanceof UsageError && e.code === 'SKYDIVE_CONFIG_OVSDB' && e.message.includes(`"${bad}"`), bad);
    }
  });

  it('splits a stream of JSON texts cut anywhere', () => {
    const msgs = [{ id: 1, result: ['a"}]', { x: '\\' }] }, { method: 'update', params: [null, { T: { u: { new: { name: 'x{[' } } } }] }, [1, 2]];
    const text = msgs.map((m) => JSON.stringify(m)).join('\n ');
    for (let cut = 1; cut < text.length; cut += 3) {
      const s = new JsonSplitter();
      const out = [...s.push(text.slice(0, cut)), ...s.push(text.slice(cut))];
      assert.deepEqual(out.map((o) => JSON.parse(o)), msgs, `cut at ${cut}`);
    }
    assert.throws(() => new JsonSplitter().push('{"a":1}}'), /unbalanced/);
    assert.throws(() => new JsonSplitter().push('{"a":1} x'), /unexpected "x"/);
  });

  it('decodes OVSDB atoms, sets and maps', () => {
    assert.equal(atom(['uuid', 'abc']), 'abc');
    assert.equal(atom(5), 5);
    assert.deepEqual(setOf(['set', [['uuid', 'a'], ['uuid', 'b']]]), ['a', 'b']);
    assert.deepEqual(setOf(['uuid', 'a']), ['a']);
    assert.deepEqual(setOf(['set', []]), []);
    assert.equal(optional(['set', []]), undefined);
    assert.equal(optional(3), 3);
    assert.deepEqual(mapOf(['map', [['remote_ip', '10.0.0.1'], ['key', 'flow']]]), { remote_ip: '10.0.0.1', key: 'flow' });
    assert.deepEqual(mapOf(['map', []]), {});
  });
});
