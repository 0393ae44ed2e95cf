import { request as httpRequest } from 'node:http';
import { SkydiveError, errorMessage } from './errors.js';
import { formatAddress, parseServiceAddress, type ServiceAddress } from './address.js';

/**
 * A small client of the analyzer REST API for the CLI and the tests: JSON in and out, the analyzer's
 * `{code, message}` errors surfaced as AnalyzerError, and an unreachable analyzer reported in one line
 * ("cannot reach analyzer at 127.0.0.1:8082: ECONNREFUSED").
 */
export class AnalyzerError extends SkydiveError {
  constructor(code: string, message: string, status: number) {
    super(code, message, status);
    this.name = 'AnalyzerError';
  }
}

export class UnreachableError extends SkydiveError {
  constructor(address: string, reason: string) {
    super('SKYDIVE_CLIENT_UNREACHABLE', `cannot reach analyzer at ${address}: ${reason}`, 503);
    this.name = 'UnreachableError';
  }
}

export interface HttpResponse {
  status: number;
  contentType: string;
  text: string;
  /** The body as received, for binary answers (pcap). */
  raw: Buffer;
}

export interface RequestOptions {
  body?: unknown;
  accept?: string;
  timeoutMs?: number;
  /** Extra request headers (e.g. X-Resource-TTL). */
  headers?: Record<string, string>;
}

export class AnalyzerClient {
  readonly address: ServiceAddress;

  constructor(
    address: string,
    private readonly auth?: { username: string; password: string },
    /** Default for requests that do not set `timeoutMs`. */
    private readonly timeoutMs = 30000,
  ) {
    const a = parseServiceAddress(address);
    if (typeof a === 'string') throw new SkydiveError('SKYDIVE_CLIENT_BAD_ADDRESS', `bad analyzer address: ${a}`, 400);
    this.address = a;
  }

  get addressText(): string {
    return formatAddress(this.address);
  }

  /** Any request; resolves whatever the status (the caller decides), rejects only when the analyzer is unreachable. */
  request(method: string, path: string, opts: RequestOptions = {}): Promise<HttpResponse> {
    const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    const headers: Record<string, string> = { Accept: opts.accept ?? 'application/json', ...opts.headers };
    if (payload) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    if (this.auth?.username) headers.Authorization = 'Basic ' + Buffer.from(`${this.auth.username}:${this.auth.password}`).toString('base64');
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: this.address.host, port: this.address.port, method, path, headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text: raw.toString('utf8'), raw });
        });
        res.on('error', (err) => reject(new UnreachableError(this.addressText, errorMessage(err))));
      });
      req.setTimeout(opts.timeoutMs ?? this.timeoutMs, () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', (err: NodeJS.ErrnoException) => reject(new UnreachableError(this.addressText, err.code ?? err.message)));
      if (payload) req.write(payload);
      req.end();
    });
  }

  /** A JSON request; a non-2xx answer becomes an AnalyzerError with the analyzer's code and message. */
  async json<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.request(method, path, { body });
    return parseAnswer<T>(res);
  }

  /** POST /api/topology; `undefined` for an empty query (204). */
  query<T = unknown>(gremlin: string): Promise<T> {
    return this.json<T>('POST', '/api/topology', { GremlinQuery: gremlin });
  }
}

export function parseAnswer<T>(res: HttpResponse): T {
  if (res.status < 200 || res.status >= 300) throw errorFromResponse(res);
  if (res.status === 204 || res.text === '') return undefined as T;
  try {
    return JSON.parse(res.text) as T;
  } catch {
    throw new AnalyzerError('SKYDIVE_CLIENT_BAD_ANSWER', `the analyzer answered something that is not JSON: ${res.text.slice(0, 200)}`, 502);
  }
}

export function errorFromResponse(res: HttpResponse): AnalyzerError {
  try {
    const b = JSON.parse(res.text) as { code?: unknown; message?: unknown };
    if (typeof b.message === 'string') return new AnalyzerError(typeof b.code === 'string' ? b.code : `HTTP_${res.status}`, b.message, res.status);
  } catch {
    /* not JSON: use the text */
  }
  return new AnalyzerError(`HTTP_${res.status}`, res.text.trim().split('\n')[0] || `HTTP ${res.status}`, res.status);
}
