import type { Graph, Node } from '../graph/graph.js';
import type { GremlinArg, GremlinStep } from './ast.js';
import type { HistoryProvider, TimeContext } from './history.js';
import type { TopologyView } from './view.js';

/**
 * The step registry: which steps exist, on which kinds of values each applies, what it produces. Core steps are
 * registered like extension steps (flows, metrics...), so the parser, the static checks and the evaluator know
 * nothing about individual steps.
 */

/** What a query runs against; `registry` selects the steps available (default: core + topology extensions). */
export interface GremlinContext {
  graph: Graph;
  history?: HistoryProvider;
  now?: () => number;
  /** Extension data bag (e.g. the analyzer's flow table client, read by flow steps). */
  ext?: Record<string, unknown>;
  registry?: StepRegistry;
}

/**
 * A kind of item that collection steps (Has, HasEither, HasKey, HasNot, Dedup, Count, Range, Limit, Sort, Values,
 * ValueMap, Keys, Sum, As/Select) work on generically: nodes, edges, and extension kinds such as flows.
 */
export interface ItemKind<T = any> {
  /** Kind name used to register handlers ('nodes', 'edges', 'flows'). */
  readonly name: string;
  /** How error messages name such a result, e.g. 'nodes (from V())'. */
  readonly label: string;
  /** Value at a key ('Metadata path', '@ID'...); undefined when absent. */
  getField(item: T, key: string): unknown;
  /** Keys listed by Keys(). */
  keys(item: T): string[];
  /** Identity for Dedup() without keys. */
  identity(item: T): unknown;
  toJSON(item: T): unknown;
  /** Key used by Sort() without a key. */
  readonly defaultSortKey: string;
}

export interface GraphValue {
  type: 'graph';
  view: TopologyView;
}
export interface CollectionValue<T = any> {
  type: 'collection';
  of: ItemKind<T>;
  items: T[];
}
export interface PathsValue {
  type: 'paths';
  paths: Node[][];
}
/** Count, Sum, Values, ValueMap, Keys...: a plain JSON value. */
export interface ScalarValue {
  type: 'value';
  value: unknown;
  /** JSON is null instead of [] when the list is empty (Values, ValueMap, Keys, as the original). */
  nullWhenEmpty?: boolean;
}
export type TraversalValue = GraphValue | CollectionValue | PathsValue | ScalarValue;

/** Kind names of the built-in value types; collections use their ItemKind name. */
export const GRAPH = 'graph';
export const PATHS = 'paths';
export const VALUE = 'value';
/** Handler input key matching any collection kind (nodes, edges, flows...). */
export const ANY_COLLECTION = '*';
/** Handler output when the kind is known only at run time: static checks stop there. */
export const DYNAMIC = '?';
/** Handler output: same kind as the input. */
export const SAME = 'same';

export function kindOf(v: TraversalValue): string {
  return v.type === 'collection' ? v.of.name : v.type;
}

/** Per-query evaluation state, shared by the steps of one query. */
export interface EvalState {
  readonly ctx: GremlinContext;
  /** Graph the traversal currently runs on (changes with Context and SubGraph). */
  view: TopologyView;
  /** Set by Context/At. */
  time?: TimeContext;
  /** Results saved by As(). */
  readonly saved: Map<string, CollectionValue>;
  /** ms since epoch (ctx.now or Date.now). */
  now(): number;
}

export interface StepCall<C> {
  step: GremlinStep;
  /** What the handler's compile() returned (undefined without compile). */
  args: C;
  state: EvalState;
  /** Steps after this one: an extension may fold some of them (Has, Sort, Limit...) into a backend query. */
  following: readonly GremlinStep[];
  /** Tell the evaluator that this step already did the first `n` following steps. */
  skip(n: number): void;
}

export type OutputKind = string | ((inputKind: string, step: GremlinStep, labels: Map<string, string>) => string);

export interface StepHandler<C = any> {
  /** Output kind name, SAME, DYNAMIC, or a function of the input kind (used for parse-time checks). */
  output: OutputKind;
  /**
   * Check and prepare the arguments at parse time (throw GremlinArgumentError for a bad one). Overrides the
   * step-level compile for this input kind.
   */
  compile?(args: readonly GremlinArg[], step: GremlinStep): C;
  exec(input: TraversalValue, call: StepCall<C>): TraversalValue | Promise<TraversalValue>;
}

export interface StepDefinition<C = any> {
  /** Canonical spelling ('HasEither'); the parser is case-insensitive. */
  name: string;
  /** Other names of the same step ('At' for Context). */
  aliases?: string[];
  /** Argument check shared by all the handlers without their own compile. */
  compile?(args: readonly GremlinArg[], step: GremlinStep): C;
  /** Handlers by input kind name (GRAPH, PATHS, VALUE, an ItemKind name, or ANY_COLLECTION). */
  on: Record<string, StepHandler<C>>;
}

interface Entry {
  name: string;
  /** Name and aliases as spelled in the definition. */
  spellings: string[];
  compile?: (args: readonly GremlinArg[], step: GremlinStep) => unknown;
  handlers: Map<string, StepHandler>;
}

export class StepRegistry {
  private readonly entries = new Map<string, Entry>();
  private readonly kinds = new Map<string, ItemKind>();

  /** A registry starting with a copy of `parent`'s steps and kinds (later changes to either stay separate). */
  constructor(parent?: StepRegistry) {
    if (!parent) return;
    for (const k of parent.kinds.values()) this.kinds.set(k.name, k);
    const copies = new Map<Entry, Entry>();
    for (const [key, e] of parent.entries) {
      let copy = copies.get(e);
      if (!copy) copies.set(e, (copy = { ...e, handlers: new Map(e.handlers) }));
      this.entries.set(key, copy);
    }
  }

  defineKind(kind: ItemKind): void {
    if ([GRAPH, PATHS, VALUE, ANY_COLLECTION, DYNAMIC, SAME].includes(kind.name)) throw new Error(`reserved kind name '${kind.name}'`);
    this.kinds.set(kind.name, kind);
  }

  kind(name: string): ItemKind | undefined {
    return this.kinds.get(name);
  }

  defineStep<C>(def: StepDefinition<C>): void {
    const spellings = [def.name, ...(def.aliases ?? [])];
    for (const n of spellings) {
      if (this.entries.has(n.toUpperCase())) throw new Error(`Gremlin step '${n}' is already defined`);
    }
    const entry: Entry = { name: def.name, spellings, compile: def.compile, handlers: new Map(Object.entries(def.on)) };
    for (const n of spellings) this.entries.set(n.toUpperCase(), entry);
  }

  /** Make an existing step (e.g. Has, Count, Out) accept a new input kind (e.g. 'flows'). */
  addHandler<C>(stepName: string, inputKind: string, handler: StepHandler<C>): void {
    const e = this.entries.get(stepName.toUpperCase());
    if (!e) throw new Error(`Gremlin step '${stepName}' is not defined`);
    e.handlers.set(inputKind, handler);
  }

  /** Canonical name of a step, whatever the case, or undefined. */
  canonicalName(written: string): string | undefined {
    return this.entries.get(written.toUpperCase())?.name;
  }

  /** The handler of a step for a value kind: an exact one, else the any-collection one for collections. */
  handler(stepName: string, kind: string): { handler: StepHandler; compile?: Entry['compile'] } | undefined {
    const e = this.entries.get(stepName.toUpperCase());
    if (!e) return undefined;
    const h = e.handlers.get(kind) ?? (this.kinds.has(kind) ? e.handlers.get(ANY_COLLECTION) : undefined);
    return h ? { handler: h, compile: h.compile ?? e.compile } : undefined;
  }

  /** Input kinds a step accepts (for error messages). */
  inputKinds(stepName: string): string[] {
    return [...(this.entries.get(stepName.toUpperCase())?.handlers.keys() ?? [])];
  }

  /** Canonical names of all steps (aliases included), sorted. */
  stepNames(): string[] {
    const names = new Set<string>();
    for (const e of this.entries.values()) for (const n of e.spellings) names.add(n);
    return [...names].sort((a, b) => a.localeCompare(b));
  }

  /** How messages name a value kind. */
  describeKind(kind: string): string {
    switch (kind) {
      case GRAPH:
        return 'the graph (G)';
      case PATHS:
        return 'paths (from ShortestPathTo)';
      case VALUE:
        return 'a value (from Count, Sum, Values, ValueMap or Keys)';
      case ANY_COLLECTION:
        return 'any element list';
      default:
        return this.kinds.get(kind)?.label ?? kind;
    }
  }
}
