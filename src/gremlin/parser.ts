import type { GremlinArg, GremlinStep, Keyword, PredicateArg } from './ast.js';
import { editDistance } from '../common/edit-distance.js';
import { GremlinArgumentError, GremlinSyntaxError } from './errors.js';
import { Lexer, type Token } from './lexer.js';
import { checkPredicate, PREDICATE_NAMES, predicateName } from './predicates.js';
import type { StepRegistry } from './registry.js';

/**
 * Recursive-descent parser of the grammar of the original:
 *   query := 'G' ( '.' step )*
 *   step  := NAME '(' [param (','? param)*] ')' | 'G'
 *   param := STRING | NUMBER | TRUE | FALSE | ASC | DESC | NOW | FOREVER | PREDICATE '(' params ')'
 * Names and keywords are case-insensitive; commas are optional separators.
 */

const KEYWORDS: Record<string, Keyword | boolean> = { TRUE: true, FALSE: false, ASC: 'ASC', DESC: 'DESC', NOW: 'NOW', FOREVER: 'FOREVER' };

/** Steps of the original served by the analyzer only (flow/metric storage): a clearer message than "unknown". */
const ANALYZER_STEPS = ['Flows', 'Hops', 'CaptureNode', 'Node', 'Nodes', 'Metrics', 'Aggregates', 'RawPackets', 'BPF', 'Sockets', 'NextHop', 'Group', 'MoreThan', 'Workflow'];

export function parseSteps(source: string, registry: StepRegistry): GremlinStep[] {
  return new Parser(source, registry).parse();
}

class Parser {
  private readonly lex: Lexer;

  constructor(
    private readonly source: string,
    private readonly registry: StepRegistry,
  ) {
    this.lex = new Lexer(source);
  }

  parse(): GremlinStep[] {
    const first = this.lex.next();
    if (first.type !== 'ident' || first.value.toUpperCase() !== 'G') {
      throw this.error(first, "expected 'G': a query starts with G, e.g. G.V().Has('Name', 'eth0')");
    }
    const steps: GremlinStep[] = [];
    for (;;) {
      const t = this.lex.next();
      if (t.type === 'eof') return steps;
      if (t.type !== 'dot') {
        throw this.error(t, steps.length === 0 ? "expected '.' and a step after G, e.g. G.V()" : "expected '.' and a next step, or the end of the query");
      }
      steps.push(this.parseStep());
    }
  }

  private parseStep(): GremlinStep {
    const t = this.lex.next();
    if (t.type !== 'ident') throw this.error(t, `expected a step name after '.' (one of ${this.registry.stepNames().join(', ')})`);
    if (t.value.toUpperCase() === 'G') return { name: 'G', written: t.value, offset: t.offset, args: [] };
    const name = this.registry.canonicalName(t.value);
    if (!name) throw this.error(t, this.unknownStep(t.value));
    const open = this.lex.next();
    if (open.type !== 'lparen') throw this.error(open, `expected '(' after the step name ${name}`);
    const { args } = this.parseArgs(name, open);
    return { name, written: t.value, offset: t.offset, args };
  }

  /**
   * Arguments up to and including the closing parenthesis (`end`: offset after it). `depth` counts enclosing
   * predicates: only Metadata(...) holds predicates, so deeper nesting is refused before it can exhaust the stack.
   */
  private parseArgs(owner: string, open: Token, depth = 0): { args: GremlinArg[]; end: number } {
    const args: GremlinArg[] = [];
    for (;;) {
      const t = this.lex.next();
      if (t.type === 'rparen') return { args, end: t.offset + 1 };
      if (t.type === 'comma') continue;
      if (t.type === 'eof') throw this.error(t, `expected ')' to close ${owner}( opened at column ${open.offset + 1}`);
      args.push(this.parseValue(t, owner, depth));
    }
  }

  private parseValue(t: Token, owner: string, depth: number): GremlinArg {
    switch (t.type) {
      case 'string':
        return { type: 'string', value: t.value, offset: t.offset, text: t.text };
      case 'number': {
        const n = Number(t.value);
        if (!/^-?[0-9.]+$/.test(t.value) || !Number.isFinite(n)) throw this.error(t, `malformed number '${t.value}' (a number is digits with an optional '.', e.g. 1500 or 0.5)`);
        return { type: 'number', value: n, offset: t.offset, text: t.text };
      }
      case 'ident': {
        const kw = KEYWORDS[t.value.toUpperCase()];
        if (typeof kw === 'boolean') return { type: 'boolean', value: kw, offset: t.offset, text: t.text };
        if (kw !== undefined) return { type: 'keyword', value: kw, offset: t.offset, text: t.text };
        const pred = predicateName(t.value);
        if (pred) {
          if (depth >= 2) throw this.error(t, `${owner}(...) takes plain values, not the predicate ${pred}(...)`);
          return this.parsePredicate(t, pred, depth + 1);
        }
        const step = this.registry.canonicalName(t.value);
        const hint = step ? `${step} is a step: chain it with '.' after the closing ')'` : `'${t.value}' is not a value`;
        throw this.error(t, `${hint}; expected a value: a 'string', a number, true, false, or a predicate (${PREDICATE_NAMES.join(', ')})`);
      }
      default:
        throw this.error(t, `expected an argument of ${owner}(...) or ')'`);
    }
  }

  private parsePredicate(t: Token, name: PredicateArg['name'], depth: number): PredicateArg {
    const open = this.lex.next();
    if (open.type !== 'lparen') throw this.error(open, `expected '(' after the predicate ${name}`);
    const { args, end } = this.parseArgs(name, open, depth);
    const p: PredicateArg = { type: 'predicate', name, args, offset: t.offset, text: this.source.slice(t.offset, end) };
    try {
      checkPredicate(p);
    } catch (err) {
      throw argumentError(this.source, err, p);
    }
    return p;
  }

  private unknownStep(written: string): string {
    const known = this.registry.stepNames();
    const analyzer = ANALYZER_STEPS.find((s) => s.toUpperCase() === written.toUpperCase());
    if (analyzer) {
      return `the step ${analyzer}() is not available here: flow, metric and workflow steps are served by the analyzer's API`;
    }
    if (predicateName(written)) {
      return `${predicateName(written)} is a predicate, not a step: use it as a value, e.g. Has('MTU', Gt(1400)) or Has('Name', Within('a', 'b'))`;
    }
    const close = suggestions(written, known);
    const mean = close.length ? `did you mean ${close.join(' or ')}? ` : '';
    return `unknown step '${written}': ${mean}expected a step name (one of ${known.join(', ')})`;
  }

  private error(t: Token, detail: string): GremlinSyntaxError {
    return new GremlinSyntaxError(this.source, t.offset, t.text, detail);
  }
}

/** Turn a GremlinArgumentError (or any error) from an argument check into a positioned syntax error. */
export function argumentError(source: string, err: unknown, fallback: { offset: number; text: string }): Error {
  if (err instanceof GremlinArgumentError) {
    const at = err.at ?? fallback;
    return new GremlinSyntaxError(source, at.offset, at.text, err.message);
  }
  return err as Error;
}

/** Names within edit distance 2 or sharing a prefix, best first. */
export function suggestions(written: string, known: readonly string[]): string[] {
  const w = written.toLowerCase();
  return known
    .map((k) => ({ k, d: editDistance(w, k.toLowerCase()) }))
    .filter(({ k, d }) => d <= 2 || (w.length >= 3 && k.toLowerCase().startsWith(w)))
    .sort((a, b) => a.d - b.d)
    .slice(0, 3)
    .map(({ k }) => k);
}
