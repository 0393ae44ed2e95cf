import { EDGES, NODES } from './elements.js';
import { StepRegistry } from './registry.js';
import { registerCollectionSteps } from './steps/collection.js';
import { registerGraphSteps } from './steps/graph-steps.js';
import { registerNavigationSteps } from './steps/navigation.js';

/** A registry with the core steps of the original (graffiti traversal) plus Descendants, Ascendants and Neighbors. */
export function createCoreRegistry(): StepRegistry {
  const r = new StepRegistry();
  r.defineKind(NODES);
  r.defineKind(EDGES);
  registerGraphSteps(r);
  registerNavigationSteps(r);
  registerCollectionSteps(r);
  return r;
}

/**
 * Used when a query is parsed or run without a registry (agents). A service adding steps (the analyzer's flow
 * steps) makes its own: `const r = new StepRegistry(defaultRegistry)`, so that agents never see them.
 */
export const defaultRegistry: StepRegistry = createCoreRegistry();
