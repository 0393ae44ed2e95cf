import { describeArg, type GremlinArg } from '../ast.js';
import { GremlinArgumentError } from '../errors.js';
import { compileKeyValues, type Filter } from '../predicates.js';

/** Argument checkers shared by step definitions; each throws GremlinArgumentError pointing at the bad argument. */

export function noArgs(step: string) {
  return (args: readonly GremlinArg[]): undefined => {
    if (args.length) throw new GremlinArgumentError(`${step}() takes no argument`, args[0]);
    return undefined;
  };
}

export function stringArg(a: GremlinArg, step: string, what = 'a key'): string {
  if (a.type !== 'string') throw new GremlinArgumentError(`${step} expects ${what} (a quoted string), got ${describeArg(a)}`, a);
  return a.value;
}

/** Between min and max string arguments (keys, labels). */
export function stringArgs(args: readonly GremlinArg[], step: string, min: number, max: number, what = 'key'): string[] {
  if (args.length < min || args.length > max) {
    const count = min === max ? `exactly ${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
    throw new GremlinArgumentError(`${step}() expects ${count} ${what}${max === 1 && min === 1 ? '' : 's'} (quoted strings), got ${args.length}`, args[max] ?? args[0]);
  }
  return args.map((a) => stringArg(a, `${step}()`, `a ${what}`));
}

export function nonNegativeInt(a: GremlinArg | undefined, step: string, what: string): number {
  if (!a || a.type !== 'number' || !Number.isInteger(a.value) || a.value < 0) {
    throw new GremlinArgumentError(`${step}() expects ${what} as a non-negative integer${a ? `, got ${describeArg(a)}` : ''}`, a);
  }
  return a.value;
}

/** Optional key/value filter (Out('Type', 'veth'), OutE('RelationType', 'layer2')...): undefined when no argument. */
export function optionalFilter(args: readonly GremlinArg[], step: string): Filter | undefined {
  return args.length ? compileKeyValues(args, 'and', `${step}()`) : undefined;
}
