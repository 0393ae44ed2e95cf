import { genID, type Graph, type Metadata, type Node } from '../../graph/graph.js';

/**
 * One graph node per network interface, whichever probes see it. The netlink probes (one per namespace) and the
 * ovsdb probe each contribute a *part* of an interface's metadata; this registry decides which node carries
 * which parts and renders their union into the graph:
 * - a kernel interface is the node of its (namespace, ifindex), id genID(host, 'interface', ns, ifindex), so a
 *   rename updates the same node, and a move to another namespace is a removal plus a new node;
 * - an OVS interface backed by a kernel device (internal, system, tap) is merged into the netlink node of the
 *   same Name (same IfIndex preferred), and stays owned by its host/netns;
 * - an OVS interface without a kernel device (patch, tunnels, or one whose device is not seen yet) has its own
 *   node, id genID(host, 'ovs-interface', uuid).
 */

export interface LinkPart {
  /** '' for the agent's own namespace, else the namespace path. */
  nsKey: string;
  ifindex: number;
  /** TID of the owning host or netns node (the interface TID derives from it). */
  ownerTID: string;
  metadata: Metadata;
}

export interface OvsInterfacePart {
  uuid: string;
  /** internal/system/tap interfaces exist in a kernel namespace and are merged with their netlink node. */
  kernelBacked: boolean;
  /** ifindex reported by OVS, when it knows one. */
  ifindex?: number;
  /** TID of the bridge, for interfaces that only OVS knows. */
  ownerTID: string;
  metadata: Metadata;
}

interface Entry {
  link?: LinkPart;
  ovs?: OvsInterfacePart;
  node?: Node;
  rendered: Metadata;
}

export class InterfaceRegistry {
  private readonly byLink = new Map<string, Entry>();
  private readonly byOvs = new Map<string, Entry>();
  private readonly remapListeners = new Set<() => void>();

  constructor(
    private readonly graph: Graph,
    private readonly hostID: string,
  ) {}

  /** Called (synchronously) whenever an OVS interface changes node, so that OVS edges can follow it. */
  onOvsRemap(cb: () => void): () => void {
    this.remapListeners.add(cb);
    return () => this.remapListeners.delete(cb);
  }

  linkNode(nsKey: string, ifindex: number): Node | undefined {
    return this.byLink.get(linkKey(nsKey, ifindex))?.node;
  }

  ovsNode(uuid: string): Node | undefined {
    return this.byOvs.get(uuid)?.node;
  }

  /** True when the OVS interface lives in its own node (no kernel device known for it). */
  isOvsOnly(uuid: string): boolean {
    const e = this.byOvs.get(uuid);
    return !!e && !e.link;
  }

  upsertLink(part: LinkPart): Node {
    const key = linkKey(part.nsKey, part.ifindex);
    let e = this.byLink.get(key);
    if (!e) {
      e = { link: part, rendered: {} };
      this.byLink.set(key, e);
    } else {
      e.link = part;
      if (e.ovs && e.ovs.metadata.Name !== part.metadata.Name) {
        // renamed away from its OVS interface: the OVS part looks for another home
        const o = e.ovs;
        this.detachOvs(e);
        this.place(o);
      }
    }
    if (!e.ovs) {
      const waiting = this.waitingOvsFor(part);
      if (waiting) {
        const o = waiting.ovs!;
        this.detachOvs(waiting);
        e.ovs = o;
        this.byOvs.set(o.uuid, e);
        this.render(e);
        this.notifyRemap();
        return e.node!;
      }
    }
    this.render(e);
    return e.node!;
  }

  removeLink(nsKey: string, ifindex: number): void {
    const key = linkKey(nsKey, ifindex);
    const e = this.byLink.get(key);
    if (!e) return;
    this.byLink.delete(key);
    const o = e.ovs;
    if (e.node) this.graph.delNode(e.node);
    if (o) {
      this.byOvs.delete(o.uuid);
      this.place(o);
    }
  }

  upsertOvs(part: OvsInterfacePart): Node {
    const cur = this.byOvs.get(part.uuid);
    if (cur) {
      const keep = cur.link ? part.kernelBacked && cur.link.metadata.Name === part.metadata.Name : !this.pickLink(part);
      if (keep) {
        cur.ovs = part;
        this.render(cur);
        return cur.node!;
      }
      this.detachOvs(cur);
    }
    return this.place(part);
  }

  removeOvs(uuid: string): void {
    const e = this.byOvs.get(uuid);
    if (!e) return;
    this.detachOvs(e);
    this.notifyRemap();
  }

  private place(o: OvsInterfacePart): Node {
    const target = this.pickLink(o) ?? { rendered: {} };
    target.ovs = o;
    this.byOvs.set(o.uuid, target);
    this.render(target);
    this.notifyRemap();
    return target.node!;
  }

  private detachOvs(e: Entry): void {
    const o = e.ovs;
    if (!o) return;
    this.byOvs.delete(o.uuid);
    e.ovs = undefined;
    if (e.link) this.render(e);
    else if (e.node) this.graph.delNode(e.node);
  }

  /** The kernel interface an OVS interface describes: same Name, same IfIndex preferred, root namespace preferred. */
  private pickLink(o: OvsInterfacePart): Entry | undefined {
    if (!o.kernelBacked) return undefined;
    let best: Entry | undefined;
    let bestScore = -1;
    for (const e of this.byLink.values()) {
      if (e.link!.metadata.Name !== o.metadata.Name) continue;
      if (e.ovs && e.ovs.uuid !== o.uuid) continue;
      const score = (e.ovs ? 4 : 0) + (o.ifindex && e.link!.ifindex === o.ifindex ? 2 : 0) + (e.link!.nsKey === '' ? 1 : 0);
      if (score > bestScore) {
        best = e;
        bestScore = score;
      }
    }
    return best;
  }

  private waitingOvsFor(link: LinkPart): Entry | undefined {
    for (const e of this.byOvs.values()) {
      if (!e.link && e.ovs!.kernelBacked && e.ovs!.metadata.Name === link.metadata.Name) return e;
    }
    return undefined;
  }

  private compose(e: Entry): Metadata {
    const m: Metadata = { ...e.link?.metadata };
    for (const [k, v] of Object.entries(e.ovs?.metadata ?? {})) {
      if (v === undefined) continue;
      // the kernel knows MAC and IfIndex better; OVS names the driver only of the ports it drives itself
      if (e.link && k in m && (k === 'MAC' || k === 'IfIndex' || (k === 'Driver' && v !== 'openvswitch'))) continue;
      m[k] = v;
    }
    if (m.Type === undefined) m.Type = 'device';
    const ownerTID = e.link ? e.link.ownerTID : e.ovs!.ownerTID;
    m.TID = genID(`${ownerTID}${m.Name}${m.Type}`);
    return m;
  }

  private render(e: Entry): void {
    const m = this.compose(e);
    if (!e.node || this.graph.getNode(e.node.id) !== e.node) {
      const id = e.link ? genID(this.hostID, 'interface', e.link.nsKey, String(e.link.ifindex)) : genID(this.hostID, 'ovs-interface', e.ovs!.uuid);
      const existing = this.graph.getNode(id);
      if (existing) this.graph.updateMetadata(existing, m);
      e.node = existing ?? this.graph.newNode(id, { ...m });
      e.rendered = m;
      return;
    }
    const patch: Metadata = {};
    for (const k of Object.keys(e.rendered)) if (!(k in m)) patch[k] = undefined;
    Object.assign(patch, m);
    this.graph.updateMetadata(e.node, patch);
    e.rendered = m;
  }

  private notifyRemap(): void {
    for (const cb of this.remapListeners) cb();
  }
}

function linkKey(nsKey: string, ifindex: number): string {
  return `${nsKey}#${ifindex}`;
}
