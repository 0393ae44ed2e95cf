import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { load as loadYaml } from 'js-yaml';
import { SkydiveError, UsageError, errorMessage } from '../../common/errors.js';
import { parseGoDuration } from '../../gremlin/history.js';

/**
 * The REST shape shared by /api/capture and /api/injectpacket (reference §3): POST creates (201, echoes the
 * resource with its UUID; JSON or YAML body; optional `X-Resource-TTL` Go duration), GET lists as `{id: resource}`,
 * GET/DELETE one by id, PATCH is refused (these resources are not updatable). Resources live in memory.
 */

export interface ResourceHandlers<R extends { UUID: string }> {
  /** Resource name in messages and error codes ('capture', 'packet injection'). */
  name: string;
  code: string;
  /** Validate and normalise a body: throw UsageError (400), or SkydiveError with another status. */
  create(body: Record<string, unknown>): Promise<R> | R;
  /** Side effects once stored (start it); a thrown error removes the resource and answers the error. */
  created?(r: R): Promise<void> | void;
  deleted?(r: R): Promise<void> | void;
  /** Fields computed at read time (e.g. Count). */
  view?(r: R): R;
}

export class ResourceStore<R extends { UUID: string }> {
  private readonly items = new Map<string, R>();
  private readonly ttlTimers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly h: ResourceHandlers<R>) {}

  list(): R[] {
    return [...this.items.values()];
  }

  get(id: string): R | undefined {
    return this.items.get(id);
  }

  async add(body: unknown, ttlMs?: number): Promise<R> {
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new UsageError(`SKYDIVE_${this.h.code}_INVALID`, `the ${this.h.name} must be a JSON (or YAML) object`);
    const r = await this.h.create(body as Record<string, unknown>);
    if (!r.UUID) r.UUID = randomUUID();
    if (this.items.has(r.UUID)) throw new SkydiveError(`SKYDIVE_${this.h.code}_DUPLICATE`, `a ${this.h.name} with UUID ${r.UUID} already exists`, 409);
    this.items.set(r.UUID, r);
    try {
      await this.h.created?.(r);
    } catch (err) {
      this.items.delete(r.UUID);
      throw err;
    }
    if (ttlMs !== undefined) this.expireAfter(r.UUID, ttlMs);
    return r;
  }

  /** Forgets the resource after `ms` (as if deleted). */
  expireAfter(id: string, ms: number): void {
    clearTimeout(this.ttlTimers.get(id));
    const t = setTimeout(() => void this.remove(id).catch(() => undefined), ms);
    t.unref();
    this.ttlTimers.set(id, t);
  }

  async remove(id: string): Promise<R | undefined> {
    const r = this.items.get(id);
    if (!r) return undefined;
    this.items.delete(id);
    clearTimeout(this.ttlTimers.get(id));
    this.ttlTimers.delete(id);
    await this.h.deleted?.(r);
    return r;
  }

  async clear(): Promise<void> {
    for (const id of [...this.items.keys()]) await this.remove(id).catch(() => undefined);
  }

  view(r: R): R {
    return this.h.view ? this.h.view(r) : r;
  }

  register(app: FastifyInstance, path: string): void {
    ensureYamlParser(app);
    app.get(path, async () => Object.fromEntries(this.list().map((r) => [r.UUID, this.view(r)])));
    app.post(path, async (req: FastifyRequest, reply: FastifyReply) => {
      const r = await this.add(req.body, ttlOf(req));
      return reply.status(201).send(this.view(r));
    });
    app.get<{ Params: { id: string } }>(`${path}/:id`, async (req) => {
      const r = this.get(req.params.id);
      if (!r) throw this.notFound(req.params.id);
      return this.view(r);
    });
    app.delete<{ Params: { id: string } }>(`${path}/:id`, async (req) => {
      const r = await this.remove(req.params.id);
      if (!r) throw this.notFound(req.params.id);
      return this.view(r);
    });
    app.patch<{ Params: { id: string } }>(`${path}/:id`, async (req) => {
      if (!this.get(req.params.id)) throw this.notFound(req.params.id);
      throw new UsageError(`SKYDIVE_${this.h.code}_NOT_UPDATABLE`, `a ${this.h.name} cannot be updated: delete it and create a new one`);
    });
  }

  private notFound(id: string): SkydiveError {
    return new SkydiveError(`SKYDIVE_${this.h.code}_NOT_FOUND`, `no ${this.h.name} with id ${id}`, 404);
  }
}

function ttlOf(req: FastifyRequest): number | undefined {
  const h = req.headers['x-resource-ttl'];
  const v = Array.isArray(h) ? h[0] : h;
  if (!v) return undefined;
  const ms = parseGoDuration(v);
  if (ms === undefined || ms <= 0) throw new UsageError('SKYDIVE_API_BAD_TTL', `invalid X-Resource-TTL '${v}': expected a Go duration such as 30s or 5m`);
  return ms;
}

function ensureYamlParser(app: FastifyInstance): void {
  for (const type of ['application/yaml', 'application/x-yaml', 'text/yaml']) {
    if (app.hasContentTypeParser(type)) continue;
    app.addContentTypeParser(type, { parseAs: 'string' }, (_req, body, done) => {
      try {
        done(null, loadYaml(body as string));
      } catch (err) {
        done(new UsageError('SKYDIVE_API_BAD_YAML', `invalid YAML body: ${errorMessage(err).split('\n')[0]}`), undefined);
      }
    });
  }
}
