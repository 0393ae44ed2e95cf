import { describeArg, isScalar, type GremlinArg, type PredicateArg, type PredicateName, type ScalarArg } from './ast.js';
import { GremlinArgumentError } from './errors.js';

/**
 * Predicates of the dialect (values of Has/HasEither/V/Out... filters) and their compilation into tests.
 * Matching rules, as in the original: a list-valued field matches if ANY element matches; types are strict
 * ('1500' does not match 1500); numeric predicates only match numbers.
 */

export const PREDICATE_NAMES: readonly PredicateName[] = [
  'Ne',
  'Nee',
  'Lt',
  'Gt',
  'Lte',
  'Gte',
  'Inside',
  'Outside',
  'Between',
  'Within',
  'Without',
  'Regex',
  'Ipv4Range',
  'Metadata',
];

const BY_UPPER = new Map(PREDICATE_NAMES.map((n) => [n.toUpperCase(), n]));

export function predicateName(written: string): PredicateName | undefined {
  return BY_UPPER.get(written.toUpperCase());
}

/** Parse-time check of a predicate's arguments; throws GremlinArgumentError pointing at the bad argument. */
export function checkPredicate(p: PredicateArg): void {
  const { name, args } = p;
  const at = (a: GremlinArg) => ({ offset: a.offset, text: a.text });
  const arity = (n: number, what: string) => {
    if (args.length !== n) {
      throw new GremlinArgumentError(`${name} expects ${what}, got ${args.length} argument${args.length === 1 ? '' : 's'}`, at(p));
    }
  };
  for (const a of args) {
    if (a.type === 'predicate' && name !== 'Metadata') {
      throw new GremlinArgumentError(`${name}(...) takes plain values, not the predicate ${a.name}(...)`, at(a));
    }
    if (a.type === 'keyword') {
      throw new GremlinArgumentError(`${a.value} is not a value for ${name}(...)`, at(a));
    }
  }
  switch (name) {
    case 'Ne':
    case 'Nee':
      arity(1, 'exactly 1 value');
      return;
    case 'Lt':
    case 'Gt':
    case 'Lte':
    case 'Gte':
      arity(1, 'exactly 1 number');
      numberOf(args[0], name);
      return;
    case 'Inside':
    case 'Outside':
    case 'Between':
      arity(2, 'exactly 2 numbers (from, to)');
      numberOf(args[0], name);
      numberOf(args[1], name);
      return;
    case 'Within':
    case 'Without':
      if (args.length === 0) throw new GremlinArgumentError(`${name} expects at least 1 value`, at(p));
      return;
    case 'Regex': {
      arity(1, "exactly 1 string, e.g. Regex('eth[0-9]+')");
      const a = args[0];
      if (a.type !== 'string') throw new GremlinArgumentError(`Regex expects a string, got ${describeArg(a)}`, at(a));
      if (a.value.startsWith('^') || a.value.endsWith('$')) {
        const anchors = [a.value.startsWith('^') ? "the leading '^'" : '', a.value.endsWith('$') ? "the trailing '$'" : ''].filter(Boolean);
        throw new GremlinArgumentError(
          `Regex patterns are always anchored (the whole value must match): remove ${anchors.join(' and ')} from '${a.value}'`,
          at(a),
        );
      }
      try {
        new RegExp(a.value);
      } catch (err) {
        throw new GremlinArgumentError(`invalid regular expression '${a.value}': ${(err as Error).message}`, at(a));
      }
      return;
    }
    case 'Ipv4Range': {
      arity(1, "exactly 1 CIDR string, e.g. Ipv4Range('10.0.0.0/24')");
      const a = args[0];
      if (a.type !== 'string' || !parseCidr(a.value)) {
        throw new GremlinArgumentError(`Ipv4Range expects an IPv4 CIDR such as '10.0.0.0/24', got ${describeArg(a)}`, at(a));
      }
      return;
    }
    case 'Metadata':
      if (args.length === 0 || args.length % 2 !== 0) {
        throw new GremlinArgumentError(`Metadata expects key/value pairs, e.g. Metadata('Name', 'eth0'), got ${args.length} argument(s)`, at(p));
      }
      for (let i = 0; i < args.length; i += 2) {
        const k = args[i];
        if (k.type !== 'string') throw new GremlinArgumentError(`a Metadata key must be a string, got ${describeArg(k)}`, at(k));
        const v = args[i + 1];
        if (v.type === 'predicate' && v.name === 'Metadata') {
          throw new GremlinArgumentError('Metadata(...) cannot be nested', at(v));
        }
      }
      return;
  }
}

/** Numeric argument of a predicate; numeric strings are accepted as the original cast them ('10' = 10). */
function numberOf(a: GremlinArg, pred: string): number {
  if (a.type === 'number') return a.value;
  if (a.type === 'string' && a.value.trim() !== '' && Number.isFinite(Number(a.value))) return Number(a.value);
  throw new GremlinArgumentError(`${pred} compares numbers: expected a number, got ${describeArg(a)}`, { offset: a.offset, text: a.text });
}

// ---- compilation

export type ValueTest = (v: unknown) => boolean;
export type FieldGetter<T> = (item: T, key: string) => unknown;

interface Term {
  key: string;
  test: ValueTest;
}

/** A compiled filter (AND/OR of key tests), applicable to any item kind given its field getter. */
export class Filter {
  constructor(
    private readonly terms: readonly Term[],
    private readonly op: 'and' | 'or',
  ) {}

  match<T>(item: T, get: FieldGetter<T>): boolean {
    const terms = this.terms;
    if (this.op === 'and') {
      for (let i = 0; i < terms.length; i++) if (!terms[i].test(get(item, terms[i].key))) return false;
      return true;
    }
    for (let i = 0; i < terms.length; i++) if (terms[i].test(get(item, terms[i].key))) return true;
    return terms.length === 0;
  }
}

/**
 * Compile key/value arguments: `k` alone = key exists; `k, v, k2, v2...` = tests. Errors (odd count, non-string
 * key, keyword value) point at the offending argument.
 */
export function compileKeyValues(args: readonly GremlinArg[], op: 'and' | 'or', stepName: string, allowSingleKey = true): Filter {
  if (args.length === 1 && allowSingleKey) {
    const k = args[0];
    if (k.type !== 'string') throw new GremlinArgumentError(`${stepName} expects a key (string), got ${describeArg(k)}`, k);
    if (k.value === '') throw new GremlinArgumentError(`${stepName}: a key cannot be empty`, k);
    return new Filter([{ key: k.value, test: exists }], op);
  }
  if (args.length % 2 !== 0) {
    const last = args[args.length - 1];
    throw new GremlinArgumentError(
      `${stepName} expects key/value pairs: ${last.type === 'string' ? `the key '${last.value}'` : 'the last key'} has no value`,
      last,
    );
  }
  const terms: Term[] = [];
  for (let i = 0; i < args.length; i += 2) {
    const k = args[i];
    if (k.type !== 'string') throw new GremlinArgumentError(`${stepName} expects a key (string) here, got ${describeArg(k)}`, k);
    if (k.value === '') throw new GremlinArgumentError(`${stepName}: a key cannot be empty`, k);
    terms.push({ key: k.value, test: compileValueTest(args[i + 1], stepName) });
  }
  return new Filter(terms, op);
}

/** The test for one value argument: equality for plain values, the predicate otherwise. */
export function compileValueTest(a: GremlinArg, stepName: string): ValueTest {
  if (isScalar(a)) {
    const want = a.value;
    return (v) => anyElement(v, (e) => e === want);
  }
  if (a.type === 'keyword') {
    const where = a.value === 'ASC' || a.value === 'DESC' ? 'Sort()' : 'Context() / At()';
    throw new GremlinArgumentError(`${a.value} is only valid in ${where}, not as a value of ${stepName}`, a);
  }
  return compilePredicate(a, stepName);
}

function compilePredicate(p: PredicateArg, stepName: string): ValueTest {
  const args = p.args;
  switch (p.name) {
    case 'Ne': {
      const eq = scalarEquals(args[0]);
      return (v) => v !== undefined && v !== null && !anyElement(v, eq);
    }
    case 'Nee': {
      const eq = scalarEquals(args[0]);
      return (v) => !anyElement(v, eq);
    }
    case 'Lt': {
      const n = numberOf(args[0], p.name);
      return (v) => anyElement(v, (e) => typeof e === 'number' && e < n);
    }
    case 'Gt': {
      const n = numberOf(args[0], p.name);
      return (v) => anyElement(v, (e) => typeof e === 'number' && e > n);
    }
    case 'Lte': {
      const n = numberOf(args[0], p.name);
      return (v) => anyElement(v, (e) => typeof e === 'number' && e <= n);
    }
    case 'Gte': {
      const n = numberOf(args[0], p.name);
      return (v) => anyElement(v, (e) => typeof e === 'number' && e >= n);
    }
    case 'Inside': {
      const [a, b] = [numberOf(args[0], p.name), numberOf(args[1], p.name)];
      return (v) => anyElement(v, (e) => typeof e === 'number' && e > a && e < b);
    }
    case 'Outside': {
      const [a, b] = [numberOf(args[0], p.name), numberOf(args[1], p.name)];
      return (v) => anyElement(v, (e) => typeof e === 'number' && (e < a || e > b));
    }
    case 'Between': {
      const [a, b] = [numberOf(args[0], p.name), numberOf(args[1], p.name)];
      return (v) => anyElement(v, (e) => typeof e === 'number' && e >= a && e < b);
    }
    case 'Within': {
      const set = scalarSet(args);
      return (v) => anyElement(v, (e) => set.has(e));
    }
    case 'Without': {
      const set = scalarSet(args);
      return (v) => !anyElement(v, (e) => set.has(e));
    }
    case 'Regex': {
      const re = new RegExp(`^(?:${(args[0] as ScalarArg).value})$`);
      return (v) => anyElement(v, (e) => typeof e === 'string' && re.test(e));
    }
    case 'Ipv4Range': {
      const cidr = parseCidr((args[0] as ScalarArg).value as string)!;
      return (v) =>
        anyElement(v, (e) => {
          if (typeof e !== 'string') return false;
          const ip = parseIPv4(e, true);
          return ip >= 0 && (ip & cidr.mask) >>> 0 === cidr.base;
        });
    }
    case 'Metadata':
      throw new GremlinArgumentError(`Metadata(...) is only valid as an argument of ShortestPathTo, not as a value of ${stepName}`, p);
  }
}

/** A filter with a single key test. */
export function termFilter(key: string, test: ValueTest): Filter {
  return new Filter([{ key, test }], 'and');
}

/** key = value (any element of a list value). */
export function equalsFilter(key: string, value: string | number | boolean): Filter {
  return termFilter(key, (v) => anyElement(v, (e) => e === value));
}

/** Compile a Metadata(k, v, ...) argument into an AND filter. */
export function compileMetadata(a: GremlinArg, stepName: string, what: string): Filter {
  if (a.type !== 'predicate' || a.name !== 'Metadata') {
    throw new GremlinArgumentError(`${stepName} expects ${what} written Metadata('Key', value, ...), got ${describeArg(a)}`, a);
  }
  return compileKeyValues(a.args, 'and', 'Metadata', false);
}

function scalarEquals(a: GremlinArg): (e: unknown) => boolean {
  if (!isScalar(a)) throw new GremlinArgumentError(`expected a plain value, got ${describeArg(a)}`, a);
  const want = a.value;
  return (e) => e === want;
}

function scalarSet(args: readonly GremlinArg[]): Set<unknown> {
  const set = new Set<unknown>();
  for (const a of args) {
    if (!isScalar(a)) throw new GremlinArgumentError(`expected a plain value, got ${describeArg(a)}`, a);
    set.add(a.value);
  }
  return set;
}

export function exists(v: unknown): boolean {
  return v !== undefined && v !== null;
}

/** Apply a test to a value, or to each element of a list value (any must pass). */
export function anyElement(v: unknown, test: (e: unknown) => boolean): boolean {
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (test(v[i])) return true;
    return false;
  }
  return test(v);
}

// ---- IPv4 without allocation: the IPV4 lists of 100k interfaces are scanned by Ipv4Range

/** IPv4 dotted quad (optionally followed by /len when allowPrefix) as an unsigned int, or -1. */
export function parseIPv4(s: string, allowPrefix: boolean): number {
  let ip = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  let i = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      ip = ip * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c === 47 && allowPrefix) {
      break;
    } else return -1;
  }
  if (digits === 0 || dots !== 3) return -1;
  return ip * 256 + part;
}

export function parseCidr(s: string): { base: number; mask: number } | undefined {
  const slash = s.indexOf('/');
  const ip = parseIPv4(slash < 0 ? s : s.slice(0, slash), false);
  if (ip < 0) return undefined;
  let len = 32;
  if (slash >= 0) {
    const t = s.slice(slash + 1);
    if (!/^\d{1,2}$/.test(t)) return undefined;
    len = Number(t);
    if (len > 32) return undefined;
  }
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  return { base: (ip & mask) >>> 0, mask };
}
