import { SkydiveError } from '../common/errors.js';

export const API_FAILED = 'SKYDIVE_LAB_API_FAILED';

export interface AgentStatus {
  IsConnected?: boolean;
  [k: string]: unknown;
}

export interface AnalyzerStatus {
  Agents?: Record<string, AgentStatus>;
  [k: string]: unknown;
}

/** Fields of the original's Capture resource that scenarios set. */
export interface CaptureRequest {
  GremlinQuery: string;
  Type?: string;
  BPFFilter?: string;
  Name?: string;
  Description?: string;
}

/** Fields of the original's PacketInjection resource that scenarios set. */
export interface InjectionRequest {
  Src: string;
  Dst?: string;
  Type: string;
  Count?: number;
  Interval?: number;
  ICMPID?: number;
  Payload?: string;
  SrcIP?: string;
  DstIP?: string;
  SrcMAC?: string;
  DstMAC?: string;
  SrcPort?: number;
  DstPort?: number;
  Mode?: string;
  TTL?: number;
}

/** An HTTP error answer of the analyzer (e.g. 400 with the Gremlin error text). */
export class ApiError extends SkydiveError {
  constructor(readonly status: number, message: string) {
    super(API_FAILED, message, status >= 400 && status < 500 ? 400 : 502);
  }
}

/** REST client of the analyzer as the lab and its scenarios use it (original's paths and JSON shapes). */
export class AnalyzerClient {
  constructor(readonly address: string, private readonly timeoutMs = 10000) {}

  get baseURL(): string {
    return `http://${this.address}`;
  }

  private async request(method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
    let res: Response;
    try {
      res = await fetch(this.baseURL + path, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new SkydiveError(API_FAILED, `analyzer ${this.address} unreachable (${method} ${path}: ${cause})`, 503);
    }
    return { status: res.status, text: await res.text() };
  }

  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const r = await this.request(method, path, body);
    if (r.status >= 400) throw new ApiError(r.status, `${method} ${path}: HTTP ${r.status}: ${r.text.trim().slice(0, 500)}`);
    return (r.text ? JSON.parse(r.text) : null) as T;
  }

  /** POST /api/topology {"GremlinQuery": q}: nodes, edges, flows, or a number (Count). */
  topology(gremlin: string): Promise<unknown> {
    return this.json('POST', '/api/topology', { GremlinQuery: gremlin });
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

  async delete(resource: string, uuid: string): Promise<void> {
    const r = await this.request('DELETE', `/api/${resource}/${encodeURIComponent(uuid)}`);
    if (r.status >= 400 && r.status !== 404) throw new ApiError(r.status, `DELETE /api/${resource}/${uuid}: HTTP ${r.status}: ${r.text.trim()}`);
  }
}

/** Names of the agents that /api/status shows connected. */
export function connectedAgents(status: AnalyzerStatus): string[] {
  return Object.entries(status.Agents ?? {})
    .filter(([, s]) => s.IsConnected !== false)
    .map(([name]) => name);
}
