/**
 * The Gremlin dialect of Skydive: parse, check and run queries over a topology Graph, shape results as the
 * original's JSON. Extension steps (flows, metrics...) plug in through a StepRegistry (see docs/gremlin.md).
 */
export { parseGremlin, executeGremlin, resultToJSON, resultGraph, type GremlinResult } from './evaluator.js';
export { GremlinSyntaxError, GremlinError, GremlinArgumentError } from './errors.js';
export type { GremlinQuery, GremlinStep, GremlinArg, PredicateArg, ScalarArg, Keyword, PredicateName } from './ast.js';
export {
  StepRegistry,
  kindOf,
  GRAPH,
  PATHS,
  VALUE,
  ANY_COLLECTION,
  DYNAMIC,
  SAME,
  type GremlinContext,
  type ItemKind,
  type StepDefinition,
  type StepHandler,
  type StepCall,
  type EvalState,
  type OutputKind,
  type TraversalValue,
  type GraphValue,
  type CollectionValue,
  type PathsValue,
  type ScalarValue,
} from './registry.js';
export { defaultRegistry, createCoreRegistry } from './core.js';
export { NODES, EDGES, nodes, edges } from './elements.js';
export type { HistoryProvider, TimeSlice, TimeContext } from './history.js';
export { GraphView, RevisionsView, type TopologyView, type GraphRevisions } from './view.js';
export { Filter, compileKeyValues, compileValueTest, compileMetadata, anyElement, type ValueTest, type FieldGetter } from './predicates.js';
