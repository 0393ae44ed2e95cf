import { existsSync, watch, type FSWatcher } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { childLogger } from '../../common/log.js';
import { errorMessage } from '../../common/errors.js';
import { genID, type Graph, type Node } from '../../graph/graph.js';
import type { NetlinkProbe } from './netlink.js';
import type { ProbeContext, TopologyProbe } from './probe.js';

interface Known {
  node: Node;
  inode: number;
  device: number;
}

/**
 * `ip netns add` creates an empty file, then bind-mounts the namespace on it: the mount makes no inotify event,
 * so a file that is not a namespace yet is looked at again for this long.
 */
const MOUNT_WAIT_MS = 5000;
const MOUNT_RECHECK_MS = 20;

/**
 * The netns probe (reference §5.3): watches `agent.topology.netns.run_path` (or, while it does not exist, its
 * nearest existing parent) and gives every namespace found there a `netns` node owned by the host, and a netlink
 * probe of its own. A namespace that goes away takes its node and everything it owns with it.
 */
export class NetnsProbe implements TopologyProbe {
  readonly name = 'netns';
  private readonly runPath: string;
  private readonly graph: Graph;
  private readonly hostID: string;
  private readonly known = new Map<string, Known>();
  private readonly pendingSince = new Map<string, number>();
  private readonly starting = new Set<Promise<void>>();
  private readonly log = childLogger('netns');
  private watcher?: FSWatcher;
  private watchingDir = false;
  private recheck?: NodeJS.Timeout;
  private scanning?: Promise<void>;
  private again = false;
  private stopped = false;

  constructor(
    ctx: ProbeContext,
    private readonly netlink: NetlinkProbe,
    private readonly hostNode: Node,
  ) {
    this.graph = ctx.graph;
    this.hostID = ctx.hostID;
    this.runPath = String(ctx.config.get('agent.topology.netns.run_path', '/var/run/netns'));
  }

  async start(): Promise<void> {
    this.watch();
    await this.rescan();
    await this.settled();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.recheck);
    this.watcher?.close();
    this.watcher = undefined;
    await this.settled();
  }

  /** Watch the run path when it exists, else its nearest existing ancestor until it appears. */
  private watch(): void {
    if (this.stopped) return;
    this.watcher?.close();
    let dir = this.runPath;
    while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
    this.watchingDir = dir === this.runPath;
    try {
      this.watcher = watch(dir, { persistent: false }, () => this.rescanSoon());
      this.watcher.on('error', () => {
        // the watched directory went away (or was replaced): start over from the nearest existing one
        this.watcher?.close();
        this.watcher = undefined;
        setImmediate(() => {
          this.watch();
          this.rescanSoon();
        });
      });
    } catch (err) {
      this.log.warn({ dir, err: errorMessage(err) }, 'cannot watch directory for network namespaces');
    }
  }

  private rescanSoon(): void {
    if (this.stopped) return;
    if (!this.watchingDir && existsSync(this.runPath)) this.watch();
    void this.rescan();
  }

  /** Compare the run path with what we know; concurrent requests fold into one more pass. */
  private rescan(): Promise<void> {
    this.again = true;
    this.scanning ??= this.drain().finally(() => {
      this.scanning = undefined;
      if (this.again && !this.stopped) void this.rescan();
    });
    return this.scanning;
  }

  private async drain(): Promise<void> {
    while (this.again && !this.stopped) {
      this.again = false;
      try {
        await this.scanOnce();
      } catch (err) {
        this.log.warn({ err: errorMessage(err) }, 'netns scan failed');
      }
    }
  }

  private async scanOnce(): Promise<void> {
    if (this.stopped) return;
    let names: string[] = [];
    let dirDev = -1;
    try {
      dirDev = (await stat(this.runPath)).dev;
      names = await readdir(this.runPath);
    } catch {
      if (this.watchingDir) this.watch();
    }
    const found = new Map<string, { inode: number; device: number }>();
    const now = Date.now();
    let waiting = false;
    await Promise.all(
      names.map(async (name) => {
        try {
          const st = await stat(join(this.runPath, name));
          // a namespace file is a mount of nsfs: another device than the directory
          if (st.dev !== dirDev) {
            found.set(name, { inode: st.ino, device: st.dev });
            this.pendingSince.delete(name);
            return;
          }
        } catch {
          return;
        }
        const since = this.pendingSince.get(name) ?? now;
        this.pendingSince.set(name, since);
        if (now - since < MOUNT_WAIT_MS) waiting = true;
      }),
    );
    for (const name of this.pendingSince.keys()) if (!names.includes(name)) this.pendingSince.delete(name);
    if (waiting && !this.recheck && !this.stopped) {
      this.recheck = setTimeout(() => {
        this.recheck = undefined;
        void this.rescan();
      }, MOUNT_RECHECK_MS);
    }

    for (const [name, k] of [...this.known]) {
      const f = found.get(name);
      if (f && f.inode === k.inode && f.device === k.device) continue;
      this.remove(name);
    }
    for (const [name, f] of found) if (!this.known.has(name)) this.add(name, f.inode, f.device);
  }

  /** The node appears at once; the namespace's netlink probe starts in the background (see `settled`). */
  private add(name: string, inode: number, device: number): void {
    const path = join(this.runPath, name);
    const hostTID = String(this.hostNode.metadata.TID ?? this.hostNode.id);
    const node = this.graph.newNode(genID(this.hostID, 'netns', path), {
      Name: name,
      Type: 'netns',
      Path: path,
      Inode: inode,
      Device: device,
      TID: genID(`${hostTID}${path}netns`),
    });
    this.graph.ownershipLink(this.hostNode, node);
    this.known.set(name, { node, inode, device });
    const p = this.netlink
      .addNamespace(path, name, node)
      .catch((err) => this.log.warn({ path, err: errorMessage(err) }, 'cannot watch namespace interfaces'))
      .finally(() => this.starting.delete(p));
    this.starting.add(p);
  }

  /** Resolves when the namespaces found so far have their interfaces in the graph. */
  async settled(): Promise<void> {
    while (this.scanning || this.starting.size) await Promise.all([this.scanning, ...this.starting]);
  }

  private remove(name: string): void {
    const k = this.known.get(name);
    if (!k) return;
    this.known.delete(name);
    this.netlink.removeNamespace(join(this.runPath, name));
    if (this.graph.getNode(k.node.id) === k.node) this.graph.delOwnedSubtree(k.node);
  }
}
