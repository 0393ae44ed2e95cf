import { GremlinSyntaxError, createCoreRegistry, parseGremlin, type StepRegistry } from '../../gremlin/index.js';
import { registerFlowSteps } from '../../analyzer/flows/flow-steps.js';

/** The analyzer's dialect: core steps plus the flow steps (Flows, Hops, RawPackets...), so scenarios are checked whole. */
let analyzerDialect: StepRegistry | undefined;

function dialect(): StepRegistry {
  if (!analyzerDialect) {
    analyzerDialect = createCoreRegistry();
    registerFlowSteps(analyzerDialect);
  }
  return analyzerDialect;
}

/** The syntax error of a scenario's Gremlin query (message and 1-based column in the query), if any. */
export function gremlinProblem(query: string): { message: string; column: number } | undefined {
  try {
    parseGremlin(query, dialect());
    return undefined;
  } catch (err) {
    if (!(err instanceof GremlinSyntaxError)) throw err;
    return { message: err.message, column: err.column };
  }
}
