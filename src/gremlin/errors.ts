import { UsageError } from '../common/errors.js';

/**
 * A query that cannot be parsed or whose steps/arguments do not fit together. The message always names where
 * (column, and line when the query spans several) and near which token it failed, and what was expected there.
 */
export class GremlinSyntaxError extends UsageError {
  /** 1-based column on `line`. */
  readonly column: number;
  /** 1-based line (1 for single-line queries). */
  readonly line: number;
  /** 0-based offset in the query. */
  readonly offset: number;
  /** The offending token text, or '' at the end of the query. */
  readonly near: string;
  /** What was wrong or expected, without the position prefix. */
  readonly detail: string;

  constructor(query: string, offset: number, near: string, detail: string) {
    const { line, column } = lineColumn(query, offset);
    const where = query.includes('\n') ? `line ${line}, column ${column}` : `column ${column}`;
    // a string token already carries its quotes
    const nearText = near === '' ? 'the end of the query' : /^['"]/.test(near) ? near : `'${near}'`;
    super('SKYDIVE_GREMLIN_SYNTAX', `Gremlin syntax error at ${where} near ${nearText}: ${detail}`);
    this.name = 'GremlinSyntaxError';
    this.column = column;
    this.line = line;
    this.offset = offset;
    this.near = near;
    this.detail = detail;
  }
}

/** A well-formed query that cannot be evaluated: unknown node id, no history backend, bad value at run time... */
export class GremlinError extends UsageError {
  constructor(message: string, code = 'SKYDIVE_GREMLIN_EVAL') {
    super(code, message);
    this.name = 'GremlinError';
  }
}

/**
 * Thrown by argument checkers (step and predicate definitions) with the offending argument; the parser turns it into
 * a GremlinSyntaxError positioned on that argument (or on the step when `at` is absent).
 */
export class GremlinArgumentError extends Error {
  constructor(
    message: string,
    readonly at?: { offset: number; text: string },
  ) {
    super(message);
    this.name = 'GremlinArgumentError';
  }
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
