import { execFile } from 'node:child_process';
import { SkydiveError } from '../../common/errors.js';

/**
 * sFlow export of an Open vSwitch bridge towards the agent's collector (`ovssflow` captures), configured with
 * ovs-vsctl on the database of the agent's `ovs.ovsdb` setting. The sFlow record is tagged with the capture id
 * so that removing it never touches an sFlow configuration someone else made.
 */

/** `ovs.ovsdb` (`unix:///var/run/openvswitch/db.sock`, `tcp:127.0.0.1:6640`) → ovs-vsctl's `--db=` value. */
export function ovsctlDB(ovsdb: string): string {
  const m = /^unix:\/\/(\/.*)$/.exec(ovsdb);
  if (m) return `unix:${m[1]}`;
  return ovsdb;
}

function vsctl(db: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ovs-vsctl', [`--db=${ovsctlDB(db)}`, '--timeout=10', ...args], { timeout: 15000 }, (err, stdout, stderr) => {
      if (err) reject(new SkydiveError('SKYDIVE_CAPTURE_OVS', `ovs-vsctl ${args.join(' ')}: ${(stderr || err.message).trim()}`, 500));
      else resolve(stdout.trim());
    });
  });
}

export interface BridgeSFlowOptions {
  ovsdb: string;
  bridge: string;
  /** collector address, host:port */
  target: string;
  /** interface whose address identifies the sFlow agent */
  agentInterface: string;
  headerBytes: number;
  sampling: number;
  /** seconds between counter samples */
  polling: number;
  captureID: string;
}

/** Points the bridge's sFlow export at the collector; returns the sFlow record's UUID. */
export async function enableBridgeSFlow(o: BridgeSFlowOptions): Promise<string> {
  return vsctl(o.ovsdb, [
    '--',
    '--id=@s',
    'create',
    'sflow',
    `agent=${o.agentInterface}`,
    `target="${o.target}"`,
    `header=${o.headerBytes}`,
    `sampling=${o.sampling}`,
    `polling=${o.polling}`,
    `external_ids:skydive-capture=${o.captureID}`,
    '--',
    'set',
    'bridge',
    o.bridge,
    'sflow=@s',
  ]);
}

/** Removes the bridge's sFlow export if it is the one of this capture (the record is then garbage collected). */
export async function disableBridgeSFlow(ovsdb: string, bridge: string, captureID: string): Promise<void> {
  const current = await vsctl(ovsdb, ['get', 'bridge', bridge, 'sflow']);
  if (!current || current === '[]') return;
  const owner = await vsctl(ovsdb, ['--if-exists', 'get', 'sflow', current, 'external_ids:skydive-capture']).catch(() => '');
  if (owner.replace(/"/g, '') !== captureID) return;
  await vsctl(ovsdb, ['clear', 'bridge', bridge, 'sflow']);
}
