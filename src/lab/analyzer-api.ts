import { AnalyzerClient as RestClient, errorFromResponse } from '../common/http-client.js';
import type { Capture } from '../probes/capture/capture-resource.js';
import type { PacketInjection } from '../injector/injection-resource.js';

export interface AgentStatus {
  IsConnected?: boolean;
  [k: string]: unknown;
}

export interface AnalyzerStatus {
  Agents?: Record<string, AgentStatus>;
  [k: string]: unknown;
}

/** What a scenario sends to POST /api/capture and POST /api/injectpacket: the API's own resources, less the UUID. */
export type CaptureRequest = Omit<Capture, 'UUID' | 'Count'>;
export type InjectionRequest = Omit<PacketInjection, 'UUID'>;

/** REST client of the analyzer as the lab and its scenarios use it (original's paths and JSON shapes). */
export class AnalyzerClient extends RestClient {
  constructor(address: string, timeoutMs = 10000) {
    super(address, undefined, timeoutMs);
  }

  /** POST /api/topology {"GremlinQuery": q}: nodes, edges, flows, or a number (Count). */
  topology(gremlin: string): Promise<unknown> {
    return this.query(gremlin);
  }

  status(): Promise<AnalyzerStatus> {
    return this.json('GET', '/api/status');
  }

  /** Whether this analyzer serves a REST resource (`capture`, `injectpacket`): its list answers 200. */
  async serves(resource: string): Promise<boolean> {
    try {
      return (await this.request('GET', `/api/${resource}`)).status === 200;
    } catch {
      return false;
    }
  }

  createCapture(c: CaptureRequest): Promise<{ UUID: string }> {
    return this.json('POST', '/api/capture', c);
  }

  createInjection(i: InjectionRequest): Promise<{ UUID: string }> {
    return this.json('POST', '/api/injectpacket', i);
  }

  /** DELETE a resource; one that is already gone (404) is fine. */
  async delete(resource: string, uuid: string): Promise<void> {
    const res = await this.request('DELETE', `/api/${resource}/${encodeURIComponent(uuid)}`);
    if (res.status >= 400 && res.status !== 404) throw errorFromResponse(res);
  }
}

/** Names of the agents that /api/status shows connected. */
export function connectedAgents(status: AnalyzerStatus): string[] {
  return Object.entries(status.Agents ?? {})
    .filter(([, s]) => s.IsConnected !== false)
    .map(([name]) => name);
}
