/** Parsed form of a Gremlin query: the steps after the leading G, each with its arguments and source position. */

export type Keyword = 'ASC' | 'DESC' | 'NOW' | 'FOREVER';

export type PredicateName =
  | 'Ne'
  | 'Nee'
  | 'Lt'
  | 'Gt'
  | 'Lte'
  | 'Gte'
  | 'Inside'
  | 'Outside'
  | 'Between'
  | 'Within'
  | 'Without'
  | 'Regex'
  | 'Ipv4Range'
  | 'Metadata';

interface ArgBase {
  /** 0-based offset of the argument in the query. */
  offset: number;
  /** Source text of the argument (for error messages). */
  text: string;
}
export interface StringArg extends ArgBase {
  type: 'string';
  value: string;
}
export interface NumberArg extends ArgBase {
  type: 'number';
  value: number;
}
export interface BooleanArg extends ArgBase {
  type: 'boolean';
  value: boolean;
}
export interface KeywordArg extends ArgBase {
  type: 'keyword';
  value: Keyword;
}
export interface PredicateArg extends ArgBase {
  type: 'predicate';
  name: PredicateName;
  args: GremlinArg[];
}
export type GremlinArg = StringArg | NumberArg | BooleanArg | KeywordArg | PredicateArg;
/** Arguments that are plain values (what Has compares with, what Within lists). */
export type ScalarArg = StringArg | NumberArg | BooleanArg;

export interface GremlinStep {
  /** Canonical name as registered ('HasEither'), whatever the case written; 'G' for a `.G` reset. */
  name: string;
  /** Name as written in the query. */
  written: string;
  /** 0-based offset of the step name. */
  offset: number;
  args: GremlinArg[];
}

export interface GremlinQuery {
  readonly source: string;
  readonly steps: readonly GremlinStep[];
}

export function isScalar(a: GremlinArg): a is ScalarArg {
  return a.type === 'string' || a.type === 'number' || a.type === 'boolean';
}

export function describeArg(a: GremlinArg): string {
  switch (a.type) {
    case 'string':
      return `string '${a.value}'`;
    case 'number':
      return `number ${a.text}`;
    case 'boolean':
      return a.value ? 'true' : 'false';
    case 'keyword':
      return a.value;
    case 'predicate':
      return `predicate ${a.name}(...)`;
  }
}
