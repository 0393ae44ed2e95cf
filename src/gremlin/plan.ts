import type { GremlinStep } from './ast.js';
import { GremlinSyntaxError } from './errors.js';
import { argumentError } from './parser.js';
import { DYNAMIC, GRAPH, SAME, VALUE, type StepHandler, type StepRegistry } from './registry.js';

/**
 * Parse-time checks of a step chain: each step must apply to what the previous one produces (Out() after E() is
 * an error, with a hint), and its arguments must fit (compiled here once). Kinds produced by extension steps that
 * are known only at run time (DYNAMIC) are checked when the query runs.
 */

export interface PlannedStep {
  step: GremlinStep;
  /** Resolved statically; absent after a DYNAMIC step (resolved at run time). */
  handler?: StepHandler;
  inputKind?: string;
  args?: unknown;
}

export function planSteps(source: string, steps: readonly GremlinStep[], registry: StepRegistry): PlannedStep[] {
  const labels = new Map<string, string>();
  let kind = GRAPH;
  const plan: PlannedStep[] = [];
  for (const step of steps) {
    if (step.name === 'G') {
      kind = GRAPH;
      plan.push({ step });
      continue;
    }
    if (kind === DYNAMIC) {
      if (!registry.canonicalName(step.name)) throw unknownStep(source, step);
      plan.push({ step });
      continue;
    }
    const { handler, args } = resolveStep(source, step, kind, registry);
    plan.push({ step, handler, inputKind: kind, args });
    try {
      kind = outputKind(handler, kind, step, labels);
    } catch (err) {
      throw argumentError(source, err, { offset: step.offset, text: step.written });
    }
  }
  return plan;
}

/** Handler and compiled arguments of a step for an input kind; positioned GremlinSyntaxError when it does not fit. */
export function resolveStep(source: string, step: GremlinStep, kind: string, registry: StepRegistry): { handler: StepHandler; args: unknown } {
  const found = registry.handler(step.name, kind);
  if (!found) {
    if (!registry.canonicalName(step.name)) throw unknownStep(source, step);
    const accepted = registry.inputKinds(step.name).map((k) => registry.describeKind(k));
    const hint = HINTS[`${step.name}@${kind}`] ?? (kind === VALUE ? `; ${step.name}() must come before the step that produced the value` : '');
    throw new GremlinSyntaxError(
      source,
      step.offset,
      step.written,
      `${step.name}() cannot follow ${registry.describeKind(kind)}: it applies to ${accepted.join(', ')}${hint}`,
    );
  }
  let args: unknown;
  try {
    args = found.compile?.(step.args, step);
  } catch (err) {
    throw argumentError(source, err, { offset: step.offset, text: step.written });
  }
  return { handler: found.handler, args };
}

function outputKind(handler: StepHandler, input: string, step: GremlinStep, labels: Map<string, string>): string {
  const out = typeof handler.output === 'function' ? handler.output(input, step, labels) : handler.output;
  return out === SAME ? input : out;
}

function unknownStep(source: string, step: GremlinStep): GremlinSyntaxError {
  return new GremlinSyntaxError(source, step.offset, step.written, `the step ${step.written}() is not available with this registry`);
}

const ON_EDGES = '; on edges use OutV() (the Child), InV() (the Parent) or BothV()';
const ON_NODES = '; on nodes use Out()/In()/Both() for nodes, OutE()/InE()/BothE() for edges';
const FROM_G = '; write it right after G (or after .G to start again from the graph)';
const HINTS: Record<string, string> = {
  'Out@edges': ON_EDGES,
  'In@edges': ON_EDGES,
  'Both@edges': ON_EDGES,
  'OutE@edges': ON_EDGES,
  'InE@edges': ON_EDGES,
  'BothE@edges': ON_EDGES,
  'OutV@nodes': ON_NODES,
  'InV@nodes': ON_NODES,
  'BothV@nodes': ON_NODES,
  'V@nodes': FROM_G,
  'V@edges': FROM_G,
  'E@nodes': FROM_G,
  'E@edges': FROM_G,
  'Context@nodes': FROM_G,
  'Context@edges': FROM_G,
};
