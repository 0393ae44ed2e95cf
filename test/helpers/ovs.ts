import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sh, shQuiet } from './sh.js';
import { waitFor } from './wait.js';

/**
 * A private Open vSwitch for one test: its own ovsdb-server + ovs-vswitchd (userspace datapath; this kernel has
 * no openvswitch module) with their own run directory, optionally inside a network namespace.
 * Bridges must be created with datapath_type=netdev: use `addBridge`.
 */
export class TestOVS {
  readonly dir: string;
  readonly sock: string;
  private constructor(readonly netns?: string) {
    this.dir = mkdtempSync(join(tmpdir(), 'skydive-ovs-'));
    this.sock = join(this.dir, 'db.sock');
  }

  /** `unix:///...db.sock`, the value for the agent's `ovs.ovsdb` key. */
  get ovsdbURL(): string {
    return `unix://${this.sock}`;
  }

  static async start(netns?: string): Promise<TestOVS> {
    const o = new TestOVS(netns);
    const pre = o.prefix();
    const d = o.dir;
    await sh(`ovsdb-tool create ${d}/conf.db /usr/share/openvswitch/vswitch.ovsschema`);
    await sh(`${pre} ovsdb-server ${d}/conf.db --remote=punix:${d}/db.sock --pidfile=${d}/ovsdb.pid --detach --log-file=${d}/ovsdb.log --unixctl=${d}/ovsdb.ctl`);
    await sh(`${pre} env OVS_RUNDIR=${d} ovs-vswitchd unix:${d}/db.sock --pidfile=${d}/vsw.pid --detach --log-file=${d}/vsw.log --unixctl=${d}/vsw.ctl`);
    await o.vsctl('--no-wait init');
    return o;
  }

  private prefix(): string {
    return this.netns ? `ip netns exec ${this.netns}` : '';
  }

  vsctl(args: string): Promise<string> {
    return sh(`${this.prefix()} ovs-vsctl --db=unix:${this.sock} ${args}`);
  }

  async addBridge(name: string): Promise<void> {
    await this.vsctl(`add-br ${name} -- set bridge ${name} datapath_type=netdev`);
    await waitFor(() => sh(`${this.prefix()} ip link show ${name}`, { allowFail: true }), (out) => out.includes(name), {
      what: `OVS bridge ${name} to get its interface`,
      timeout: 10000,
    });
  }

  /** Stop both daemons and remove the run directory; safe to call twice. */
  stop(): void {
    for (const p of ['vsw.pid', 'ovsdb.pid']) shQuiet(`[ -f ${this.dir}/${p} ] && kill $(cat ${this.dir}/${p})`);
    shQuiet(`for i in $(seq 50); do [ -f ${this.dir}/vsw.pid ] && kill -0 $(cat ${this.dir}/vsw.pid) 2>/dev/null || break; sleep 0.1; done; rm -rf ${this.dir}`);
  }
}
