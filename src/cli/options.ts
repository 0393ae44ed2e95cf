import { InvalidArgumentError } from 'commander';

/** Argument parsers for commander options: a bad value becomes a one-line usage error (exit code 2). */
export function choice<T extends string>(values: readonly T[]): (v: string) => T {
  return (v: string) => {
    const found = values.find((x) => x.toLowerCase() === v.toLowerCase());
    if (!found) throw new InvalidArgumentError(`expected one of ${values.join(', ')}`);
    return found;
  };
}

export function positiveInt(v: string): number {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError('expected a non-negative integer');
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('integer too large');
  return n;
}

export function collect(value: string, previous: string[] = []): string[] {
  return previous.concat([value]);
}
