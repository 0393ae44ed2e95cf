/**
 * Errors with stable codes, in the spirit of fastify's error catalogue: every error a user can meet has a
 * `code` (SKYDIVE_<AREA>_<WHAT>) that scripts and tests can match on, and an HTTP status for the API.
 */
export class SkydiveError extends Error {
  readonly code: string;
  readonly statusCode: number;
  constructor(code: string, message: string, statusCode = 500, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SkydiveError';
    this.code = code;
    this.statusCode = statusCode;
  }
}

/** A value given by a user (flag, config key, API body, query) is not acceptable: exit code 2 / HTTP 400. */
export class UsageError extends SkydiveError {
  constructor(code: string, message: string) {
    super(code, message, 400);
    this.name = 'UsageError';
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
