import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { StepRegistry, defaultRegistry } from '../../../src/gremlin/index.js';
import { registerFlowSteps } from '../../../src/analyzer/flows/flow-steps.js';
import { validateCapture } from '../../../src/analyzer/capture/capture-validation.js';
import { validateInjection } from '../../../src/analyzer/capture/injection-api.js';
import { captureTypeOn } from '../../../src/probes/capture/capture-resource.js';
import { planOf } from '../../../src/injector/packet-injector.js';
import { SKYDIVE_BIN } from '../../helpers/shared.js';

const registry = new StepRegistry(defaultRegistry);
registerFlowSteps(registry);

describe('capture and injection resources', () => {
  it('normalises a capture with the original defaults', () => {
    const c = validateCapture({ GremlinQuery: "G.V().Has('Name', 'eth0')" }, registry);
    assert.deepEqual(
      { Type: c.Type, BPFFilter: c.BPFFilter, HeaderSize: c.HeaderSize, RawPacketLimit: c.RawPacketLimit, LayerKeyMode: c.LayerKeyMode, SamplingRate: c.SamplingRate, PollingInterval: c.PollingInterval },
      { Type: '', BPFFilter: '', HeaderSize: 0, RawPacketLimit: 0, LayerKeyMode: 'L2', SamplingRate: 1, PollingInterval: 10 },
    );
    assert.equal(validateCapture({ GremlinQuery: 'G.V()', ExtraLayers: 'DNS, VRRP' }, registry).ExtraLayers, 3);
    assert.equal(validateCapture({ GremlinQuery: 'G.V()', ExtraLayers: ['DHCPv4'] }, registry).ExtraLayers, 4);
    // flow steps are valid in a capture query on the analyzer
    validateCapture({ GremlinQuery: "G.Flows().Has('Application', 'GRE').Hops()" }, registry);
  });

  it('says which field is wrong and why', () => {
    const bad = (body: Record<string, unknown>, re: RegExp) => assert.throws(() => validateCapture(body, registry), (e: Error) => re.test(e.message), JSON.stringify(body));
    bad({}, /GremlinQuery is required/);
    bad({ GremlinQuery: 42 }, /GremlinQuery must be a string/);
    bad({ GremlinQuery: 'G.V().Nope()' }, /GremlinQuery is not a valid Gremlin query: .*Nope/);
    bad({ GremlinQuery: 'G.V()', BPFFilter: 'tcp port' }, /BPFFilter is not a valid BPF filter/);
    bad({ GremlinQuery: 'G.V()', HeaderSize: 13 }, /HeaderSize must be 0 \(whole packets\) or between 14 and 4096/);
    bad({ GremlinQuery: 'G.V()', HeaderSize: 5000 }, /HeaderSize must be an integer between 0 and 4096/);
    bad({ GremlinQuery: 'G.V()', RawPacketLimit: 11 }, /RawPacketLimit must be an integer between 0 and 10/);
    bad({ GremlinQuery: 'G.V()', LayerKeyMode: 'L4' }, /LayerKeyMode must be L2 or L3/);
    bad({ GremlinQuery: 'G.V()', Type: 'tap' }, /Type must be one of/);
    bad({ GremlinQuery: 'G.V()', ExtraLayers: 'HTTP' }, /ExtraLayers has an unknown layer 'HTTP'/);
    bad({ GremlinQuery: 'G.V()', IPDefrag: 'yes' }, /IPDefrag must be true or false/);
    bad({ GremlinQuery: 'G.V()', Target: '10.0.0.1:4789', TargetType: 'erspanv1' }, /Target is not supported/);
  });

  it('picks the capture type from the node type', () => {
    assert.deepEqual(captureTypeOn('veth', ''), { type: 'afpacket' });
    assert.deepEqual(captureTypeOn('ovsbridge', undefined), { type: 'ovssflow' });
    assert.deepEqual(captureTypeOn('device', 'sflow'), { type: 'sflow' });
    assert.match((captureTypeOn('ovsbridge', 'afpacket') as { error: string }).error, /not available on nodes of type 'ovsbridge'/);
    assert.match((captureTypeOn('veth', 'ebpf') as { error: string }).error, /not supported by this agent/);
    assert.match((captureTypeOn('netns', '') as { error: string }).error, /cannot be captured/);
  });

  it('validates packet injections', () => {
    const r = validateInjection({ Src: 'G.V()', Type: 'icmp4', DstIP: '10.0.0.2/24', ICMPID: 123 }, registry);
    assert.deepEqual([r.DstIP, r.Count, r.Interval, r.Mode, r.TTL, r.ICMPID], ['10.0.0.2', 1, 1000, 'unique', 64, 123]);
    const bad = (body: Record<string, unknown>, re: RegExp) => assert.throws(() => validateInjection(body, registry), (e: Error) => re.test(e.message), JSON.stringify(body));
    bad({ Type: 'icmp4' }, /Src is required/);
    bad({ Src: 'G.V(', Type: 'icmp4' }, /Src is not a valid Gremlin query/);
    bad({ Src: 'G.V()', Type: 'igmp' }, /Type must be one of icmp4, icmp6, tcp4, tcp6, udp4, udp6/);
    bad({ Src: 'G.V()', Type: 'icmp6', DstIP: '10.0.0.1' }, /DstIP 10\.0\.0\.1 is not an IPv6 address, as icmp6 needs/);
    bad({ Src: 'G.V()', Type: 'icmp4', SrcMAC: 'zz:00:00:00:00:00' }, /SrcMAC must be a MAC address/);
    bad({ Src: 'G.V()', Type: 'udp4', DstPort: 65536 }, /DstPort must be an integer between 0 and 65535/);
    bad({ Src: 'G.V()', Type: 'icmp4', Mode: 'burst' }, /Mode must be unique or random/);
    bad({ Src: 'G.V()', Type: 'icmp4', Count: 0 }, /Count must be an integer between 1/);
    bad({ Src: 'G.V()', Type: 'icmp4', Pcap: 'AAAA' }, /Pcap is not supported/);
  });

  it('gives every injection without ICMPID its own stable id', () => {
    const r = validateInjection({ Src: 'G.V()', Type: 'icmp4', DstIP: '10.0.0.2' }, registry);
    const a = planOf({ ...r, SrcMAC: '02:00:00:00:00:01', SrcIP: '10.0.0.1' }, 'eth0', 'a1b2c3d4-0000-4000-8000-000000000000');
    const b = planOf({ ...r, SrcMAC: '02:00:00:00:00:01', SrcIP: '10.0.0.1' }, 'eth0', '0fff0000-0000-4000-8000-000000000000');
    assert.equal(a.icmpID, (0xa1b2 % 65535) + 1);
    assert.notEqual(a.icmpID, b.icmpID);
    assert.equal(a.payload.length, 56, 'the default payload makes a 98-byte ICMPv4 frame');
  });

  it('client: bad flags are one line on stderr and exit code 2; an unreachable analyzer exits 1', function () {
    this.timeout(60000);
    const run = (...args: string[]) => spawnSync(SKYDIVE_BIN, ['client', '--analyzer', '127.0.0.1:1', ...args], { encoding: 'utf8' });
    let r = run('capture', 'create', '--bpf', 'icmp');
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /--gremlin is required/);
    r = run('capture', 'create', '--gremlin', 'G.V()', '--extra-layer', 'HTTP');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown --extra-layer 'HTTP'/);
    r = run('capture', 'create', '--gremlin', 'G.V()', '--layer-key-mode', 'L7');
    assert.equal(r.status, 2);
    r = run('inject-packet', 'create', '--src', 'G.V()', '--type', 'icmp9');
    assert.equal(r.status, 2);
    r = run('injection', 'create', '--src', 'G.V()', '--dst-port', '70000');
    assert.equal(r.status, 2);
    r = run('capture', 'list');
    assert.equal(r.status, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });
});
