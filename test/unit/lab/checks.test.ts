import assert from 'node:assert/strict';
import { captureActive, countVerdict, fieldOf, fieldsVerdict, flowLinkVerdict, sameTrackingIDVerdict } from '../../../src/lab/scenario/checks.js';

const node = (name: string, extra: Record<string, unknown> = {}) => ({ ID: `id-${name}`, Metadata: { Name: name, Type: 'veth', ...extra } });
const flow = (uuid: string, extra: Record<string, unknown> = {}) => ({ UUID: uuid, LayersPath: 'Ethernet/IPv4/ICMPv4', ParentUUID: '', TrackingID: '', ...extra });

describe('scenario check verdicts', () => {
  it('counts arrays and Count() numbers', () => {
    assert.equal(countVerdict([node('a'), node('b')], { count: 2 }).ok, true);
    assert.equal(countVerdict([node('a')], { count: 2 }).detail, '1 result(s), expected exactly 2');
    assert.equal(countVerdict(3, { min: 3 }).ok, true);
    assert.equal(countVerdict([0], { count: 0 }).ok, true);
    assert.equal(countVerdict([], {}).ok, false, 'no bound means at least one');
    assert.equal(countVerdict([node('a'), node('b'), node('c')], { max: 2 }).ok, false);
  });

  it('reads element fields, then Metadata, through lists', () => {
    const n = node('eth0', { IPV4: ['10.0.0.1/24'], Captures: [{ ID: 'c1', State: 'active' }] });
    assert.equal(fieldOf(n, 'Name'), 'eth0');
    assert.equal(fieldOf(n, 'Metadata.Name'), 'eth0');
    assert.equal(fieldOf(n, 'ID'), 'id-eth0');
    assert.deepEqual(fieldOf(n, 'Captures.ID'), ['c1']);
    assert.equal(fieldOf(flow('u', { Network: { A: '1.1.1.1' } }), 'Network.A'), '1.1.1.1');
  });

  it('requires every result to have the expected fields (a list matches when one element does)', () => {
    assert.equal(fieldsVerdict([node('a', { IPV4: ['10.0.0.1/24', '10.0.0.2/24'] })], { IPV4: '10.0.0.2/24' }).ok, true);
    const v = fieldsVerdict([node('a', { MTU: 1500 }), node('b', { MTU: 9000 })], { MTU: 1500 });
    assert.equal(v.ok, false);
    assert.match(v.detail, /id-b \(Name=b veth\): MTU is 9000, expected 1500/);
    assert.equal(fieldsVerdict([node('a', { MTU: '1500' })], { MTU: 1500 }).ok, false, 'types must agree');
    assert.equal(fieldsVerdict([], { MTU: 1500 }).ok, false);
  });

  it('links inner flows to their outer flow by ParentUUID', () => {
    const gre = flow('gre-1', { LayersPath: 'Ethernet/IPv4/GRE' });
    assert.equal(flowLinkVerdict([flow('i1', { ParentUUID: 'gre-1' }), flow('i2', { ParentUUID: 'gre-1' })], [gre]).ok, true);
    const bad = flowLinkVerdict([flow('i1', { ParentUUID: 'gre-1' }), flow('i2', { ParentUUID: 'other' })], [gre]);
    assert.equal(bad.ok, false);
    assert.match(bad.detail, /1 of 2 child flow\(s\) without a parent.*i2 .* has ParentUUID "other"/);
    assert.equal(flowLinkVerdict([flow('i1')], [gre]).ok, false, 'an empty ParentUUID is no link');
    assert.match(flowLinkVerdict([], [gre]).detail, /no child flow/);
    assert.match(flowLinkVerdict([flow('i1', { ParentUUID: 'x' })], []).detail, /no parent flow/);
  });

  it('finds a TrackingID common to every capture point', () => {
    assert.equal(sameTrackingIDVerdict([[flow('a', { TrackingID: 't1' }), flow('b', { TrackingID: 't2' })], [flow('c', { TrackingID: 't2' })]]).ok, true);
    assert.match(sameTrackingIDVerdict([[flow('a', { TrackingID: 't1' })], [flow('c', { TrackingID: 't2' })]]).detail, /no TrackingID common to the 2 queries \(t1 vs t2\)/);
    assert.match(sameTrackingIDVerdict([[flow('a', { TrackingID: 't1' })], []]).detail, /query 2 returned no flow/);
  });

  it('sees a capture active on a node of its query', () => {
    assert.equal(captureActive([node('eth1', { Captures: [{ ID: 'u1', State: 'active' }] })], 'u1'), true);
    assert.equal(captureActive([node('eth1', { Captures: [{ ID: 'u1' }] })], 'u1'), true);
    assert.equal(captureActive([node('eth1', { Captures: [{ ID: 'u1', State: 'waiting' }] })], 'u1'), false);
    assert.equal(captureActive([node('eth1')], 'u1'), false);
  });
});
