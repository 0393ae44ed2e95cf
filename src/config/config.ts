/**
 * Configuration: the original's keys (reference topology-and-api.md §4.1), read from YAML files (--conf), with
 * SKYDIVE_<KEY> environment overrides. This file fixes the access API (`get` by dotted key with the built-in
 * default); loading and validation live in loader.ts.
 */
export type ConfigValues = Record<string, unknown>;

export class Config {
  constructor(private readonly values: ConfigValues = {}, private readonly defaults: ConfigValues = {}) {}

  /** Value at a dotted key ('agent.topology.netlink.metrics_update'), else the built-in default, else `fallback`. */
  get<T = unknown>(key: string, fallback?: T): T {
    const v = lookup(this.values, key);
    if (v !== undefined) return v as T;
    const d = lookup(this.defaults, key);
    if (d !== undefined) return d as T;
    return fallback as T;
  }

  has(key: string): boolean {
    return lookup(this.values, key) !== undefined;
  }

  /** The merged tree (defaults overlaid by values), e.g. for GET /api/config. */
  all(): ConfigValues {
    return merge(structuredClone(this.defaults), this.values);
  }
}

/** Keys may be nested maps or dotted top-level keys ('analyzer.topology.fabric' as one key), as in the original's YAML. */
export function lookup(tree: ConfigValues, key: string): unknown {
  if (key in tree) return tree[key];
  const parts = key.split('.');
  for (let i = parts.length - 1; i > 0; i--) {
    const head = parts.slice(0, i).join('.');
    const sub = tree[head];
    if (sub !== null && typeof sub === 'object' && !Array.isArray(sub)) {
      const v = lookup(sub as ConfigValues, parts.slice(i).join('.'));
      if (v !== undefined) return v;
    }
  }
  return undefined;
}

export function merge(into: ConfigValues, from: ConfigValues): ConfigValues {
  for (const [k, v] of Object.entries(from)) {
    const cur = into[k];
    if (v && typeof v === 'object' && !Array.isArray(v) && cur && typeof cur === 'object' && !Array.isArray(cur)) {
      merge(cur as ConfigValues, v as ConfigValues);
    } else into[k] = v;
  }
  return into;
}
