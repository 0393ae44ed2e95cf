import type { Graph } from '../graph/graph.js';
import type { GremlinQuery } from './ast.js';
import { defaultRegistry } from './core.js';
import { GremlinSyntaxError } from './errors.js';
import { parseSteps } from './parser.js';
import { planSteps, resolveStep, type PlannedStep } from './plan.js';
import { kindOf, type EvalState, type GremlinContext, type StepRegistry, type TraversalValue } from './registry.js';
import { GraphView } from './view.js';

/** The value of the last step of a query. */
export type GremlinResult = TraversalValue;

/** Checked plans of a parsed query, per registry it was checked against. */
const plans = new WeakMap<GremlinQuery, WeakMap<StepRegistry, PlannedStep[]>>();

export function parseGremlin(query: string, registry: StepRegistry = defaultRegistry): GremlinQuery {
  if (typeof query !== 'string') throw new GremlinSyntaxError('', 0, '', 'the query must be a string');
  const steps = parseSteps(query, registry);
  const q: GremlinQuery = Object.freeze({ source: query, steps });
  planFor(q, registry);
  return q;
}

function planFor(q: GremlinQuery, registry: StepRegistry): PlannedStep[] {
  let byRegistry = plans.get(q);
  if (!byRegistry) plans.set(q, (byRegistry = new WeakMap()));
  let plan = byRegistry.get(registry);
  if (!plan) byRegistry.set(registry, (plan = planSteps(q.source, q.steps, registry)));
  return plan;
}

export async function executeGremlin(query: string | GremlinQuery, ctx: GremlinContext): Promise<GremlinResult> {
  const registry = ctx.registry ?? defaultRegistry;
  const q = typeof query === 'string' ? parseGremlin(query, registry) : query;
  const plan = planFor(q, registry);
  const clock = ctx.now ?? Date.now;
  const state: EvalState = { ctx, view: new GraphView(ctx.graph), saved: new Map(), now: () => clock() };
  let value: TraversalValue = { type: 'graph', view: state.view };
  for (let i = 0; i < plan.length; i++) {
    const p = plan[i];
    if (p.step.name === 'G') {
      value = { type: 'graph', view: state.view };
      continue;
    }
    const kind = kindOf(value);
    let { handler, args } = p;
    if (!handler || p.inputKind !== kind) ({ handler, args } = resolveStep(q.source, p.step, kind, registry));
    let skipped = 0;
    value = await handler.exec(value, {
      step: p.step,
      args,
      state,
      following: q.steps.slice(i + 1),
      skip: (n) => {
        skipped = n;
      },
    });
    i += skipped;
  }
  return value;
}

/** The JSON the original's POST /api/topology returns for this result. */
export function resultToJSON(result: GremlinResult): unknown {
  switch (result.type) {
    case 'graph':
      return [result.view.toJSON()];
    case 'collection':
      return result.items.map((it) => result.of.toJSON(it));
    case 'paths':
      return result.paths.map((p) => p.map((n) => n.toJSON()));
    case 'value':
      return result.nullWhenEmpty && Array.isArray(result.value) && result.value.length === 0 ? null : result.value;
  }
}

/** The graph of a graph-valued result (G, Context, SubGraph), for DOT output and subscriber filters. */
export function resultGraph(result: GremlinResult): Graph | undefined {
  return result.type === 'graph' ? result.view.toGraph() : undefined;
}
