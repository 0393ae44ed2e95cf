import type { Logger } from 'pino';
import type { GraphListener, Node } from '../../graph/graph.js';
import { errorMessage } from '../../common/errors.js';
import { executeGremlin, type GremlinContext } from '../../gremlin/index.js';
import { CAPTURE_NAMESPACE, captureTypesFor, type Capture, type CaptureMetadata, type CaptureRequest } from '../../probes/capture/capture-resource.js';
import type { AgentConnection, AgentRegistry } from '../agent-registry.js';
import type { Graph } from '../../graph/graph.js';

/**
 * Keeps every agent running exactly the captures whose Gremlin query matches its nodes: evaluates each capture's
 * query on the analyzer graph whenever a capture or the graph changes (debounced), and sends `OnDemandCapture`
 * Start/Stop to the owning agents. A node that appears later is captured as soon as the analyzer sees it; a
 * deleted capture stops everywhere. A (re)connecting agent first gets `Sync` with the captures that exist, so
 * that it stops any it runs for a capture that no longer does.
 */

interface Dispatched {
  capture: Capture;
  nodeID: string;
  host: string;
}

const DEBOUNCE_MS = 200;

export class CaptureController {
  private readonly captures = new Map<string, Capture>();
  /** `captureID/nodeID` → what was started */
  private readonly dispatched = new Map<string, Dispatched>();
  private timer?: NodeJS.Timeout;
  private evaluating?: Promise<void>;
  private again = false;
  private closed = false;
  private readonly graphListener: GraphListener;
  private readonly unsubscribe: Array<() => void> = [];

  constructor(
    private readonly graph: Graph,
    private readonly agents: AgentRegistry,
    private readonly gremlin: () => GremlinContext,
    private readonly log: Logger,
  ) {
    const changed = () => this.schedule();
    this.graphListener = { onNodeAdded: changed, onNodeDeleted: changed, onEdgeAdded: changed, onEdgeDeleted: changed, onNodeUpdated: changed };
    graph.addListener(this.graphListener);
    this.unsubscribe.push(
      agents.onConnected((a) => {
        for (const [k, d] of this.dispatched) if (d.host === a.hostID) this.dispatched.delete(k);
        a.send(CAPTURE_NAMESPACE, 'Sync', { Captures: [...this.captures.keys()] });
        this.schedule();
      }),
      agents.onDisconnected((a) => {
        for (const [k, d] of this.dispatched) if (d.host === a.hostID) this.dispatched.delete(k);
      }),
    );
  }

  add(c: Capture): void {
    this.captures.set(c.UUID, c);
    this.schedule(0);
  }

  async remove(uuid: string): Promise<void> {
    this.captures.delete(uuid);
    const stops: Promise<void>[] = [];
    for (const [k, d] of this.dispatched) {
      if (d.capture.UUID !== uuid) continue;
      this.dispatched.delete(k);
      stops.push(this.stopOn(d));
    }
    await Promise.all(stops);
  }

  /** Active captures of this capture on the nodes it matched (its `Count`). */
  activeCount(uuid: string): number {
    let n = 0;
    for (const d of this.dispatched.values()) {
      if (d.capture.UUID !== uuid) continue;
      const entries = (this.graph.getNode(d.nodeID)?.metadata.Captures as CaptureMetadata[] | undefined) ?? [];
      if (entries.some((e) => e.ID === uuid && e.State === 'active')) n++;
    }
    return n;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.graph.removeListener(this.graphListener);
    for (const u of this.unsubscribe) u();
  }

  private schedule(delay = DEBOUNCE_MS): void {
    if (this.closed || this.captures.size === 0 && this.dispatched.size === 0) return;
    if (this.evaluating) {
      this.again = true;
      return;
    }
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.evaluating = this.run();
    }, delay);
  }

  private async run(): Promise<void> {
    try {
      await this.evaluate();
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'capture evaluation failed');
    } finally {
      this.evaluating = undefined;
      if (this.again) {
        this.again = false;
        this.schedule();
      }
    }
  }

  private async evaluate(): Promise<void> {
    const wanted = new Map<string, Dispatched>();
    for (const c of this.captures.values()) {
      for (const node of await this.matchedNodes(c)) {
        const agent = this.agentOf(node);
        if (!agent) continue;
        wanted.set(`${c.UUID}/${node.id}`, { capture: c, nodeID: node.id, host: agent.hostID });
      }
    }
    const work: Promise<void>[] = [];
    for (const [k, d] of this.dispatched) {
      if (wanted.has(k)) continue;
      this.dispatched.delete(k);
      // a node gone from the graph was stopped by its agent already
      if (this.graph.getNode(d.nodeID)) work.push(this.stopOn(d));
    }
    for (const [k, d] of wanted) {
      if (this.dispatched.has(k)) continue;
      this.dispatched.set(k, d);
      work.push(this.startOn(d));
    }
    await Promise.all(work);
  }

  private async matchedNodes(c: Capture): Promise<Node[]> {
    let result;
    try {
      result = await executeGremlin(c.GremlinQuery, this.gremlin());
    } catch (err) {
      this.log.debug({ capture: c.UUID, err: errorMessage(err) }, 'capture query failed');
      return [];
    }
    if (result.type !== 'collection' || result.of.name !== 'nodes') return [];
    return (result.items as Node[]).filter((n) => captureTypesFor(n.metadata.Type).length > 0);
  }

  private agentOf(node: Node): AgentConnection | undefined {
    return this.agents.get(node.host);
  }

  private async startOn(d: Dispatched): Promise<void> {
    const agent = this.agents.get(d.host);
    if (!agent) return;
    const req: CaptureRequest = { NodeID: d.nodeID, Resource: d.capture };
    try {
      const reply = await agent.request(CAPTURE_NAMESPACE, 'Start', req, 20000);
      if ((reply.Status ?? 200) >= 400) this.log.warn({ capture: d.capture.UUID, node: d.nodeID, host: d.host, err: reply.Obj }, 'capture failed to start');
    } catch (err) {
      this.log.warn({ capture: d.capture.UUID, node: d.nodeID, host: d.host, err: errorMessage(err) }, 'capture start not confirmed');
    }
  }

  private async stopOn(d: Dispatched): Promise<void> {
    const agent = this.agents.get(d.host);
    if (!agent) return;
    try {
      await agent.request(CAPTURE_NAMESPACE, 'Stop', { NodeID: d.nodeID, Resource: d.capture } satisfies CaptureRequest, 20000);
    } catch (err) {
      this.log.warn({ capture: d.capture.UUID, node: d.nodeID, host: d.host, err: errorMessage(err) }, 'capture stop not confirmed');
    }
  }
}
