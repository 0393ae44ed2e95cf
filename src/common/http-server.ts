import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { SkydiveError, errorMessage } from './errors.js';

/**
 * The fastify instance shared by the analyzer and the agent APIs: bodies validated by JSON schema (no type
 * coercion: a number where a string is expected is a 400), and every error answered as JSON `{code, message}`
 * with a stable code and the right status, never an HTML page or a stack trace.
 */
export interface ApiError {
  code: string;
  message: string;
}

export function createHttpServer(log: Logger, opts: { bodyLimit?: number } = {}): FastifyInstance {
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: opts.bodyLimit ?? 16 * 1024 * 1024,
    ajv: { customOptions: { coerceTypes: false, allErrors: false, removeAdditional: false } },
    forceCloseConnections: true,
  });

  // bodies are JSON only: anything else is a 415 instead of a confusing schema error on a string
  app.removeContentTypeParser('text/plain');

  app.setErrorHandler((err: FastifyError | SkydiveError | Error, req, reply) => {
    const { status, body } = toApiError(err);
    if (status >= 500) log.error({ err: errorMessage(err), url: req.url, method: req.method }, 'request failed');
    else log.debug({ err: body.message, url: req.url, status }, 'bad request');
    void reply.status(status).type('application/json').send(body);
  });

  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send({ code: 'SKYDIVE_API_NOT_FOUND', message: `no such endpoint: ${req.method} ${req.url.split('?')[0]}` } satisfies ApiError);
  });
  return app;
}

export function toApiError(err: unknown): { status: number; body: ApiError } {
  if (err instanceof SkydiveError) return { status: err.statusCode, body: { code: err.code, message: err.message } };
  const e = err as FastifyError & { validation?: unknown };
  if (e && e.validation) {
    return { status: 400, body: { code: 'SKYDIVE_API_BAD_REQUEST', message: `invalid request: ${e.message}` } };
  }
  const status = typeof e?.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 400 && status < 500) {
    const code =
      status === 415 ? 'SKYDIVE_API_UNSUPPORTED_MEDIA_TYPE' : status === 413 ? 'SKYDIVE_API_BODY_TOO_LARGE' : status === 404 ? 'SKYDIVE_API_NOT_FOUND' : 'SKYDIVE_API_BAD_REQUEST';
    const what = e instanceof SyntaxError || e?.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ? `invalid JSON body: ${e.message}` : e.message;
    return { status, body: { code, message: what } };
  }
  return { status: 500, body: { code: 'SKYDIVE_INTERNAL', message: `internal error: ${errorMessage(err)}` } };
}

/** Throw as a handler to answer 404 with a code. */
export function notFound(code: string, message: string): SkydiveError {
  return new SkydiveError(code, message, 404);
}

export function conflict(code: string, message: string): SkydiveError {
  return new SkydiveError(code, message, 409);
}
