import type { Logger } from 'pino';
import type { Config } from '../../config/config.js';
import type { Graph, GraphListener, Node } from '../../graph/graph.js';
import type { WSMessage } from '../../common/ws-message.js';
import type { MessageHandler, WSPeer } from '../../common/ws-peer.js';
import { errorMessage } from '../../common/errors.js';
import { childLogger } from '../../common/log.js';
import { childScript } from '../../common/project-root.js';
import {
  CAPTURE_NAMESPACE,
  FLOW_NAMESPACE,
  FLOW_UPDATE,
  captureTypeOn,
  type Capture,
  type CaptureMetadata,
  type CaptureRequest,
  type FlowUpdateMessage,
} from './capture-resource.js';
import { namespacePathOf, spawnJsonChild, type JsonChild } from './namespace-child.js';
import { disableBridgeSFlow, enableBridgeSFlow } from './ovs-sflow.js';
import type { CaptureWorkerSpec, FlowTableSettings, WorkerKind, WorkerMessage } from './protocol.js';
import type { SFlowIfCounters } from './sflow-decoder.js';

/**
 * The agent side of captures: answers the analyzer's `OnDemandCapture` Start/Stop/Sync messages by running one
 * capture worker per (capture, node) — in the node's namespace for interfaces, in the agent's namespace for
 * OVS bridges (sFlow collector + the bridge's sFlow export) — keeps the node's `Captures` metadata (state, error,
 * packet counters) and forwards the workers' flows to the analyzers (`Flow`/`FlowUpdate`).
 */

/** What the manager needs from the agent. */
export interface CaptureHost {
  readonly graph: Graph;
  readonly config: Config;
  onMessage(namespace: string, handler: MessageHandler): () => void;
  send(namespace: string, type: string, obj?: unknown): number;
}

const WORKER_SCRIPT = childScript('capture-worker.cjs', 'probes/capture/worker.js');
const START_TIMEOUT_MS = 15000;

interface RunningCapture {
  capture: Capture;
  nodeID: string;
  type: string;
  child?: JsonChild<WorkerMessage>;
  meta: CaptureMetadata;
  /** OVS bridge whose sFlow export points at this capture (ovssflow). */
  sflowBridge?: string;
  stopping?: Promise<void>;
  sflowCounters?: Map<number, SFlowIfCounters>;
}

function key(captureID: string, nodeID: string): string {
  return `${captureID}/${nodeID}`;
}

export class CaptureManager {
  private readonly running = new Map<string, RunningCapture>();
  private readonly log: Logger;
  private readonly unsubscribe: Array<() => void> = [];
  private readonly graphListener: GraphListener;

  constructor(private readonly host: CaptureHost) {
    this.log = childLogger('capture');
    this.unsubscribe.push(host.onMessage(CAPTURE_NAMESPACE, (msg, peer) => this.onMessage(msg, peer)));
    this.graphListener = {
      onNodeDeleted: (node) => {
        for (const r of [...this.running.values()]) if (r.nodeID === node.id) void this.stop(r.capture.UUID, r.nodeID);
      },
    };
    host.graph.addListener(this.graphListener);
  }

  private async onMessage(msg: WSMessage, peer: WSPeer): Promise<void> {
    if (msg.Type === 'Sync') {
      const known = new Set(((msg.Obj as { Captures?: unknown })?.Captures as string[] | undefined) ?? []);
      for (const r of [...this.running.values()]) if (!known.has(r.capture.UUID)) void this.stop(r.capture.UUID, r.nodeID);
      return;
    }
    const req = msg.Obj as CaptureRequest | undefined;
    if (!req || typeof req.NodeID !== 'string' || !req.Resource || typeof req.Resource.UUID !== 'string') {
      peer.reply(msg, `${msg.Type}Reply`, 'malformed capture request: expected {NodeID, Resource}', 400);
      return;
    }
    if (msg.Type === 'Start') {
      const res = await this.start(req.NodeID, req.Resource);
      peer.reply(msg, 'StartReply', res.error ?? res.meta, res.error ? 400 : 200);
    } else if (msg.Type === 'Stop') {
      await this.stop(req.Resource.UUID, req.NodeID);
      peer.reply(msg, 'StopReply', null, 200);
    }
  }

  /** Starts (or confirms) a capture on a node; resolves once the worker runs or failed. */
  async start(nodeID: string, capture: Capture): Promise<{ meta?: CaptureMetadata; error?: string }> {
    const existing = this.running.get(key(capture.UUID, nodeID));
    if (existing && !existing.stopping) return { meta: existing.meta, error: existing.meta.State === 'error' ? existing.meta.Error : undefined };
    const node = this.host.graph.getNode(nodeID);
    if (!node) return { error: `node ${nodeID} is not known by this agent` };
    const t = captureTypeOn(node.metadata.Type, capture.Type);
    const type = 'type' in t ? t.type : capture.Type || 'afpacket';
    const meta: CaptureMetadata = {
      ID: capture.UUID,
      State: 'waiting',
      Type: type,
      PacketsReceived: 0,
      PacketsDropped: 0,
      PacketsIfDropped: 0,
      ...(capture.Name ? { Name: capture.Name } : {}),
      ...(capture.Description ? { Description: capture.Description } : {}),
      ...(capture.BPFFilter ? { BPFFilter: capture.BPFFilter } : {}),
    };
    const r: RunningCapture = { capture, nodeID, type, meta };
    this.running.set(key(capture.UUID, nodeID), r);
    if ('error' in t) {
      this.setState(r, 'error', t.error);
      return { meta: r.meta, error: t.error };
    }
    this.publish(r);
    try {
      await this.launch(r, node);
      return { meta: r.meta, error: r.meta.State === 'error' ? r.meta.Error : undefined };
    } catch (err) {
      this.setState(r, 'error', errorMessage(err));
      return { meta: r.meta, error: errorMessage(err) };
    }
  }

  private spec(r: RunningCapture, node: Node, kind: WorkerKind): CaptureWorkerSpec {
    const c = r.capture;
    const cfg = this.host.config;
    const table: FlowTableSettings = {
      rawPacketLimit: c.RawPacketLimit ?? 0,
      extraTCPMetric: !!c.ExtraTCPMetric,
      ipDefrag: !!c.IPDefrag,
      reassembleTCP: !!c.ReassembleTCP,
      layerKeyMode: (c.LayerKeyMode || cfg.get<string>('flow.default_layer_key_mode', 'L2')) === 'L3' ? 'L3' : 'L2',
      extraLayers: c.ExtraLayers ?? 0,
      maxEntries: cfg.get<number>('flow.max_entries', 500000),
      applicationPorts: cfg.get('flow.application_ports', undefined),
      applicationTimeouts: cfg.get('flow.application_timeout', undefined),
    };
    return {
      captureID: c.UUID,
      nodeTID: String(node.metadata.TID ?? ''),
      kind,
      ifName: typeof node.metadata.Name === 'string' ? node.metadata.Name : undefined,
      bpf: c.BPFFilter ?? '',
      headerSize: c.HeaderSize ?? 0,
      table,
      updateSec: Math.max(1, cfg.get<number>('flow.update', 60)),
      expireSec: Math.max(1, cfg.get<number>('flow.expire', 600)),
      statsSec: Math.max(1, cfg.get<number>('agent.flow.stats_update', 1)),
    };
  }

  private async launch(r: RunningCapture, node: Node): Promise<void> {
    let nsPath: string | undefined;
    let spec: CaptureWorkerSpec;
    if (r.type === 'ovssflow' || r.type === 'sflow') {
      // ovssflow: the collector runs next to ovs-vswitchd (the agent's namespace); sflow: in the node's namespace
      if (r.type === 'sflow') nsPath = namespacePathOf(this.host.graph, node);
      const cfg = this.host.config;
      const min = cfg.get<number>('agent.flow.sflow.port_min', 6345);
      const max = cfg.get<number>('agent.flow.sflow.port_max', 6355);
      const ports = r.capture.Port ? [r.capture.Port] : Array.from({ length: Math.max(0, max - min + 1) }, (_, i) => min + i);
      spec = { ...this.spec(r, node, 'sflow'), listenAddress: r.type === 'ovssflow' ? '127.0.0.1' : cfg.get<string>('agent.flow.sflow.bind_address', '127.0.0.1'), listenPorts: ports };
    } else {
      nsPath = namespacePathOf(this.host.graph, node);
      spec = this.spec(r, node, r.type === 'pcap' ? 'pcap' : 'afpacket');
    }
    const child = spawnJsonChild<WorkerMessage>(nsPath, WORKER_SCRIPT, spec);
    r.child = child;
    const ready = new Promise<{ port?: number; error?: string }>((resolve) => {
      const timer = setTimeout(() => resolve({ error: `capture worker did not start within ${START_TIMEOUT_MS / 1000} s` }), START_TIMEOUT_MS);
      child.onMessage((m) => {
        if (m.type === 'ready') {
          clearTimeout(timer);
          resolve({ port: m.port });
        } else if (m.type === 'error') {
          clearTimeout(timer);
          resolve({ error: m.error });
        }
      });
      void child.exited.then((code) => {
        clearTimeout(timer);
        resolve({ error: `capture worker exited (code ${code})${child.stderrTail() ? `: ${child.stderrTail()}` : ''}` });
      });
    });
    child.onMessage((m) => this.onWorkerMessage(r, m));
    void child.exited.then((code) => {
      if (!r.stopping && r.meta.State !== 'error') this.setState(r, 'error', `capture worker exited unexpectedly (code ${code})${child.stderrTail() ? `: ${child.stderrTail()}` : ''}`);
    });
    const res = await ready;
    if (res.error) {
      this.setState(r, 'error', res.error);
      child.process.kill('SIGKILL');
      return;
    }
    if (r.type === 'ovssflow' || r.type === 'sflow') r.meta.SFlowSocket = `${spec.listenAddress}:${res.port}`;
    if (r.type === 'ovssflow') {
      const bridge = String(node.metadata.Name ?? '');
      await enableBridgeSFlow({
        ovsdb: this.host.config.get<string>('ovs.ovsdb', 'unix:///var/run/openvswitch/db.sock'),
        bridge,
        target: `127.0.0.1:${res.port}`,
        agentInterface: this.host.config.get<string>('agent.flow.sflow.agent_interface', 'lo'),
        headerBytes: r.capture.HeaderSize || 128,
        sampling: r.capture.SamplingRate || 1,
        polling: r.capture.PollingInterval || 10,
        captureID: r.capture.UUID,
      });
      r.sflowBridge = bridge;
    }
    this.setState(r, 'active');
  }

  private onWorkerMessage(r: RunningCapture, m: WorkerMessage): void {
    switch (m.type) {
      case 'flows': {
        const msg: FlowUpdateMessage = { CaptureID: r.capture.UUID, NodeID: r.nodeID, Flows: m.flows, ...(m.rawPackets ? { RawPackets: m.rawPackets } : {}) };
        this.host.send(FLOW_NAMESPACE, FLOW_UPDATE, msg);
        return;
      }
      case 'stats':
        Object.assign(r.meta, m.stats);
        this.publish(r);
        return;
      case 'sflow-counters': {
        r.sflowCounters ??= new Map();
        for (const c of m.counters) r.sflowCounters.set(c.IfIndex, c);
        const node = this.host.graph.getNode(r.nodeID);
        if (node) this.host.graph.updateMetadata(node, { SFlow: { IfMetrics: Object.fromEntries([...r.sflowCounters].map(([i, c]) => [String(i), c])) } });
        return;
      }
      case 'error':
        this.setState(r, 'error', m.error);
        return;
    }
  }

  private setState(r: RunningCapture, state: CaptureMetadata['State'], error?: string): void {
    r.meta.State = state;
    if (error) {
      r.meta.Error = error;
      this.log.warn({ capture: r.capture.UUID, node: r.nodeID, err: error }, 'capture failed');
    } else delete r.meta.Error;
    this.publish(r);
  }

  /** Writes the capture's entry into the node's `Captures` metadata. */
  private publish(r: RunningCapture): void {
    const node = this.host.graph.getNode(r.nodeID);
    if (!node) return;
    const others = ((node.metadata.Captures as CaptureMetadata[] | undefined) ?? []).filter((c) => c.ID !== r.capture.UUID);
    this.host.graph.updateMetadata(node, { Captures: [...others, { ...r.meta }] });
  }

  private unpublish(r: RunningCapture): void {
    const node = this.host.graph.getNode(r.nodeID);
    if (!node) return;
    const rest = ((node.metadata.Captures as CaptureMetadata[] | undefined) ?? []).filter((c) => c.ID !== r.capture.UUID);
    this.host.graph.updateMetadata(node, { Captures: rest.length ? rest : undefined, ...(r.sflowCounters ? { SFlow: undefined } : {}) });
  }

  /** Stops a capture on a node: the worker flushes its flows (sent as a last update) and exits. */
  stop(captureID: string, nodeID: string): Promise<void> {
    const r = this.running.get(key(captureID, nodeID));
    if (!r) return Promise.resolve();
    r.stopping ??= (async () => {
      if (r.sflowBridge) {
        await disableBridgeSFlow(this.host.config.get<string>('ovs.ovsdb', 'unix:///var/run/openvswitch/db.sock'), r.sflowBridge, captureID).catch((err) =>
          this.log.warn({ capture: captureID, bridge: r.sflowBridge, err: errorMessage(err) }, 'cannot remove the bridge sFlow export'),
        );
      }
      if (r.child) {
        r.child.send({ type: 'stop' });
        const killer = setTimeout(() => r.child?.process.kill('SIGKILL'), 5000);
        await r.child.exited;
        clearTimeout(killer);
      }
      this.unpublish(r);
      if (this.running.get(key(captureID, nodeID)) === r) this.running.delete(key(captureID, nodeID));
    })();
    return r.stopping;
  }

  async close(): Promise<void> {
    for (const u of this.unsubscribe) u();
    this.host.graph.removeListener(this.graphListener);
    await Promise.all([...this.running.values()].map((r) => this.stop(r.capture.UUID, r.nodeID)));
  }
}
