import { lookupPath } from '../../graph/graph.js';
import type { GremlinArg } from '../ast.js';
import { nodes, NODES } from '../elements.js';
import { GremlinArgumentError, GremlinError } from '../errors.js';
import { compileKeyValues, exists, termFilter, type Filter } from '../predicates.js';
import {
  ANY_COLLECTION,
  PATHS,
  SAME,
  VALUE,
  type CollectionValue,
  type ItemKind,
  type PathsValue,
  type ScalarValue,
  type StepRegistry,
  type TraversalValue,
} from '../registry.js';
import { noArgs, nonNegativeInt, stringArg, stringArgs } from './args.js';

/**
 * Steps working on any collection kind through its ItemKind (nodes, edges, extension kinds such as flows): filters,
 * Dedup, Count, Range/Limit, Sort, Values/ValueMap/Keys/Sum, As/Select. Some also apply to values and paths.
 */

export function registerCollectionSteps(r: StepRegistry): void {
  const filterStep = (name: string, compile: (args: readonly GremlinArg[]) => Filter) =>
    r.defineStep<Filter>({
      name,
      compile,
      on: {
        [ANY_COLLECTION]: {
          output: SAME,
          exec(input, { args }) {
            const c = input as CollectionValue;
            const of = c.of;
            const get = (item: unknown, key: string) => of.getField(item, key);
            return { ...c, items: c.items.filter((it) => args.match(it, get)) };
          },
        },
      },
    });
  filterStep('Has', (args) => {
    if (!args.length) throw new GremlinArgumentError("Has() expects a key, or key/value pairs, e.g. Has('Type', 'veth')");
    return compileKeyValues(args, 'and', 'Has()');
  });
  filterStep('HasEither', (args) => {
    if (args.length < 2) throw new GremlinArgumentError("HasEither() expects key/value pairs (any may match), e.g. HasEither('Type', 'veth', 'Type', 'tun')", args[0]);
    return compileKeyValues(args, 'or', 'HasEither()', false);
  });
  filterStep('HasKey', (args) => termFilter(stringArgs(args, 'HasKey', 1, 1)[0], exists));
  filterStep('HasNot', (args) => termFilter(stringArgs(args, 'HasNot', 1, 1)[0], (v) => !exists(v)));

  // Has on a list of maps (ValueMap results, extension values)
  r.addHandler<Filter>('Has', VALUE, {
    output: VALUE,
    exec(input, { args }) {
      const list = valueList(input as ScalarValue, 'Has');
      const maps = list.filter((v) => v !== null && typeof v === 'object' && !Array.isArray(v));
      return { type: 'value', value: maps.filter((m) => args.match(m, lookupPath)), nullWhenEmpty: true };
    },
  });

  r.defineStep<string[]>({
    name: 'Dedup',
    compile: (args) => stringArgs(args, 'Dedup', 0, Infinity),
    on: {
      [ANY_COLLECTION]: {
        output: SAME,
        exec: (input, { args }) => dedupCollection(input as CollectionValue, args),
      },
      [PATHS]: {
        output: NODES.name,
        exec: (input, { args }) => dedupCollection(nodes((input as PathsValue).paths.flat()), args),
      },
      [VALUE]: {
        output: VALUE,
        exec(input) {
          const seen = new Set<string>();
          const out = valueList(input as ScalarValue, 'Dedup').filter((v) => {
            const h = stableKey(v);
            if (seen.has(h)) return false;
            seen.add(h);
            return true;
          });
          return { type: 'value', value: out, nullWhenEmpty: (input as ScalarValue).nullWhenEmpty };
        },
      },
    },
  });

  r.defineStep({
    name: 'Count',
    compile: noArgs('Count'),
    on: {
      [ANY_COLLECTION]: { output: VALUE, exec: (input) => scalar((input as CollectionValue).items.length) },
      [PATHS]: { output: VALUE, exec: (input) => scalar((input as PathsValue).paths.length) },
      [VALUE]: { output: VALUE, exec: (input) => scalar(valueList(input as ScalarValue, 'Count').length) },
    },
  });

  r.defineStep<[number, number]>({
    name: 'Range',
    compile(args) {
      if (args.length !== 2) throw new GremlinArgumentError(`Range() expects 2 integers (from, to), got ${args.length} argument(s)`, args[2]);
      return [nonNegativeInt(args[0], 'Range', 'from'), nonNegativeInt(args[1], 'Range', 'to')];
    },
    on: { [ANY_COLLECTION]: { output: SAME, exec: (input, { args }) => slice(input as CollectionValue, args[0], args[1]) } },
  });
  r.defineStep<number>({
    name: 'Limit',
    compile(args) {
      if (args.length !== 1) throw new GremlinArgumentError(`Limit() expects 1 integer, got ${args.length} argument(s)`, args[1]);
      return nonNegativeInt(args[0], 'Limit', 'the number of results');
    },
    on: { [ANY_COLLECTION]: { output: SAME, exec: (input, { args }) => slice(input as CollectionValue, 0, args) } },
  });

  r.defineStep<SortArgs>({
    name: 'Sort',
    compile: compileSort,
    on: {
      [ANY_COLLECTION]: {
        output: SAME,
        exec(input, { args }) {
          const c = input as CollectionValue;
          return { ...c, items: sortItems(c.items, c.of, args.key ?? c.of.defaultSortKey, args.desc) };
        },
      },
    },
  });

  r.defineStep<string>({
    name: 'Values',
    compile: (args) => stringArgs(args, 'Values', 1, 1)[0],
    on: {
      [ANY_COLLECTION]: {
        output: VALUE,
        exec(input, { args }) {
          const c = input as CollectionValue;
          const out: unknown[] = [];
          for (const it of c.items) {
            const v = c.of.getField(it, args);
            if (v === undefined || isEmptyContainer(v)) continue;
            out.push(v);
          }
          return { type: 'value', value: out, nullWhenEmpty: true };
        },
      },
    },
  });

  r.defineStep<string[]>({
    name: 'ValueMap',
    compile: (args) => stringArgs(args, 'ValueMap', 1, Infinity),
    on: {
      [ANY_COLLECTION]: {
        output: VALUE,
        exec(input, { args }) {
          const c = input as CollectionValue;
          const out: Record<string, unknown>[] = [];
          for (const it of c.items) {
            const m: Record<string, unknown> = {};
            let found = false;
            for (const k of args) {
              const v = c.of.getField(it, k);
              if (v !== undefined) {
                m[k] = v;
                found = true;
              }
            }
            if (found) out.push(m);
          }
          return { type: 'value', value: out, nullWhenEmpty: true };
        },
      },
    },
  });

  r.defineStep({
    name: 'Keys',
    compile: noArgs('Keys'),
    on: {
      [ANY_COLLECTION]: {
        output: VALUE,
        exec(input) {
          const c = input as CollectionValue;
          const keys = new Set<string>();
          for (const it of c.items) for (const k of c.of.keys(it)) keys.add(k);
          return { type: 'value', value: [...keys], nullWhenEmpty: true };
        },
      },
    },
  });

  r.defineStep<string>({
    name: 'Sum',
    compile: (args) => stringArgs(args, 'Sum', 1, 1)[0],
    on: {
      [ANY_COLLECTION]: {
        output: VALUE,
        exec(input, { args }) {
          const c = input as CollectionValue;
          let sum = 0;
          for (const it of c.items) {
            const v = c.of.getField(it, args);
            if (v === undefined || v === null) continue;
            if (typeof v !== 'number') {
              throw new GremlinError(`Sum('${args}'): a value is ${Array.isArray(v) ? 'a list' : `the ${typeof v} ${JSON.stringify(v)}`}, not a number`);
            }
            sum += v;
          }
          return scalar(sum);
        },
      },
    },
  });

  r.defineStep<string>({
    name: 'As',
    compile: (args) => stringArgs(args, 'As', 1, 1, 'label')[0],
    on: {
      [ANY_COLLECTION]: {
        output(input, step, labels) {
          labels.set(stringArg(step.args[0], 'As()', 'a label'), input);
          return input;
        },
        exec(input, { args, state }) {
          state.saved.set(args, input as CollectionValue);
          return input;
        },
      },
    },
  });

  r.defineStep<string[]>({
    name: 'Select',
    compile: (args) => stringArgs(args, 'Select', 1, Infinity, 'label'),
    on: {
      [ANY_COLLECTION]: {
        output(_input, step, labels) {
          let kind: string | undefined;
          for (const a of step.args) {
            const k = labels.get(stringArg(a, 'Select()', 'a label'));
            if (!k) throw new GremlinArgumentError(`Select('${a.text.slice(1, -1)}'): no As() step saved this label before`, a);
            if (kind && k !== kind) throw new GremlinArgumentError('Select() cannot mix labels saved from different kinds of results', a);
            kind = k;
          }
          return kind!;
        },
        exec(_input, { args, state }) {
          let out: CollectionValue | undefined;
          for (const label of args) {
            const saved = state.saved.get(label);
            if (!saved) throw new GremlinError(`Select('${label}'): no As('${label}') step saved results before`);
            if (out && out.of !== saved.of) throw new GremlinError('Select() cannot mix labels saved from different kinds of results');
            out = out ? { ...out, items: [...out.items, ...saved.items] } : { ...saved, items: [...saved.items] };
          }
          return out!;
        },
      },
    },
  });
}

function scalar(value: unknown): ScalarValue {
  return { type: 'value', value };
}

function valueList(v: ScalarValue, step: string): unknown[] {
  if (Array.isArray(v.value)) return v.value;
  throw new GremlinError(`${step}() applies to a list, not to the single value ${JSON.stringify(v.value)}`);
}

function slice(c: CollectionValue, from: number, to: number): TraversalValue {
  return { ...c, items: from < to ? c.items.slice(from, to) : [] };
}

/** By identity, or by the values of the given keys (elements having none of the keys are all kept). */
function dedupCollection(c: CollectionValue, keys: string[]): CollectionValue {
  const seen = new Set<unknown>();
  const out: unknown[] = [];
  for (const it of c.items) {
    let k: unknown;
    if (keys.length) {
      const values = keys.map((key) => c.of.getField(it, key)).filter((v) => v !== undefined);
      k = values.length ? stableKey(values) : undefined;
    } else k = c.of.identity(it);
    if (k !== undefined) {
      if (seen.has(k)) continue;
      seen.add(k);
    }
    out.push(it);
  }
  return { ...c, items: out };
}

/** JSON with sorted object keys: equal values give equal keys. */
function stableKey(v: unknown): string {
  return JSON.stringify(v, (_k, val) =>
    val !== null && typeof val === 'object' && !Array.isArray(val)
      ? Object.fromEntries(Object.keys(val).sort().map((k) => [k, (val as Record<string, unknown>)[k]]))
      : val,
  );
}

function isEmptyContainer(v: unknown): boolean {
  if (Array.isArray(v)) return v.length === 0;
  return v !== null && typeof v === 'object' && Object.keys(v).length === 0;
}

interface SortArgs {
  desc: boolean;
  key?: string;
}

/** Sort([ASC|DESC][, key]) — order and key are both optional. */
function compileSort(args: readonly GremlinArg[]): SortArgs {
  if (args.length > 2) throw new GremlinArgumentError(`Sort() expects at most an order (ASC or DESC) and a key, got ${args.length} arguments`, args[2]);
  let i = 0;
  let desc = false;
  const first = args[0];
  if (first?.type === 'keyword' && (first.value === 'ASC' || first.value === 'DESC')) {
    desc = first.value === 'DESC';
    i = 1;
  }
  if (i < args.length) {
    const a = args[i];
    if (a.type !== 'string') {
      throw new GremlinArgumentError(`Sort() expects an order (ASC or DESC) then a key (a quoted string), got ${a.text}`, a);
    }
    if (i + 1 < args.length) throw new GremlinArgumentError('Sort() takes the order first: Sort(DESC, key)', args[i + 1]);
    return { desc, key: a.value };
  }
  return { desc };
}

/** Stable sort; missing values always last; numbers before strings before other values. */
function sortItems<T>(items: T[], of: ItemKind<T>, key: string, desc: boolean): T[] {
  const decorated = items.map((item, i) => {
    let v = of.getField(item, key);
    if (Array.isArray(v)) v = v[0];
    return { item, v, i };
  });
  decorated.sort((a, b) => {
    const am = a.v === undefined || a.v === null;
    const bm = b.v === undefined || b.v === null;
    if (am || bm) return am && bm ? a.i - b.i : am ? 1 : -1;
    const c = compareValues(a.v, b.v);
    return c === 0 ? a.i - b.i : desc ? -c : c;
  });
  return decorated.map((d) => d.item);
}

function rank(v: unknown): number {
  return typeof v === 'number' ? 0 : typeof v === 'string' ? 1 : typeof v === 'boolean' ? 2 : 3;
}

function compareValues(a: unknown, b: unknown): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 0) return (a as number) - (b as number);
  if (ra === 3) return compareValues(JSON.stringify(a), JSON.stringify(b));
  return a === b ? 0 : (a as string) < (b as string) ? -1 : 1;
}
