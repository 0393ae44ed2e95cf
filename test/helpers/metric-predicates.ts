/**
 * The original's TestFlowMetrics predicate table: for a metric of value L, each numeric predicate and whether
 * it must match. Shared by the flow-step unit test and the live capture test, which must agree on the semantics.
 */
export function numericPredicateCases(L: number): ReadonlyArray<readonly [string, boolean]> {
  return [
    [`Gt(${L - 1})`, true],
    [`Gt(${L})`, false],
    [`Gte(${L})`, true],
    [`Gte(${L + 1})`, false],
    [`Lt(${L + 1})`, true],
    [`Lt(${L})`, false],
    [`Lte(${L})`, true],
    [`Lte(${L - 1})`, false],
    [`Inside(${L - 1}, ${L + 1})`, true],
    [`Inside(${L}, ${L + 1})`, false],
    [`Between(${L}, ${L + 1})`, true],
    [`Between(${L}, ${L})`, false],
  ];
}
