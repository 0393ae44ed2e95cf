/**
 * Verdicts of scenario checks on what the analyzer answered (pure functions: the runner retries them until
 * they pass or their deadline). Results are the original's JSON: arrays of nodes ({ID, Metadata...}), of flows
 * (flat: UUID, ParentUUID, TrackingID, Application...), or a number (Count()).
 */

export interface Verdict {
  ok: boolean;
  detail: string;
  /** what was looked at (query answers, command output), for the report */
  output?: string;
}

type Item = Record<string, unknown>;

/** Value at a dotted key: element field first (`UUID`, `Network.A`), then the node's Metadata (`Name`, `Captures`). */
export function fieldOf(item: unknown, key: string): unknown {
  const walk = (v: unknown, parts: string[]): unknown => {
    for (const p of parts) {
      if (Array.isArray(v)) v = v.map((x) => (x && typeof x === 'object' ? (x as Item)[p] : undefined));
      else if (v && typeof v === 'object') v = (v as Item)[p];
      else return undefined;
    }
    return v;
  };
  const parts = key.replace(/^Metadata\./, '').split('.');
  const direct = key.startsWith('Metadata.') ? undefined : walk(item, parts);
  if (direct !== undefined) return direct;
  const meta = item && typeof item === 'object' ? (item as Item).Metadata : undefined;
  return meta === undefined ? undefined : walk(meta, parts);
}

/** Equality as Gremlin's Has: a list matches when any element does; types must agree ("1500" is not 1500). */
export function matches(actual: unknown, expected: unknown): boolean {
  if (Array.isArray(actual) && !Array.isArray(expected)) return actual.some((a) => matches(a, expected));
  return JSON.stringify(actual) === JSON.stringify(expected);
}

export function items(result: unknown): Item[] {
  if (Array.isArray(result)) return result.filter((x) => x && typeof x === 'object') as Item[];
  return [];
}

function describe(x: Item): string {
  const id = x.UUID ?? x.ID;
  const name = fieldOf(x, 'Name');
  const what = [fieldOf(x, 'LayersPath'), name !== undefined ? `Name=${String(name)}` : undefined, fieldOf(x, 'Type')].filter((v) => v !== undefined).join(' ');
  return `${String(id ?? '?')}${what ? ` (${what})` : ''}`;
}

export function countVerdict(result: unknown, spec: { count?: number; min?: number; max?: number }): Verdict {
  const n = typeof result === 'number' ? result : Array.isArray(result) && result.length === 1 && typeof result[0] === 'number' ? (result[0] as number) : Array.isArray(result) ? result.length : 0;
  let ok = true;
  let want = '';
  if (spec.count !== undefined) {
    ok = n === spec.count;
    want = `exactly ${spec.count}`;
  } else {
    const min = spec.min ?? (spec.max === undefined ? 1 : 0);
    ok = n >= min && (spec.max === undefined || n <= spec.max);
    want = spec.max === undefined ? `at least ${min}` : `between ${min} and ${spec.max}`;
  }
  return { ok, detail: `${n} result(s), expected ${want}` };
}

/** Every item must have each field at its expected value. */
export function fieldsVerdict(result: unknown, fields: Record<string, unknown>): Verdict {
  const list = items(result);
  if (!list.length) return { ok: false, detail: 'no result to compare fields with' };
  for (const it of list) {
    for (const [k, want] of Object.entries(fields)) {
      const got = fieldOf(it, k);
      if (!matches(got, want)) return { ok: false, detail: `${describe(it)}: ${k} is ${JSON.stringify(got)}, expected ${JSON.stringify(want)}` };
    }
  }
  return { ok: true, detail: `${list.length} result(s) with ${Object.entries(fields).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}` };
}

/**
 * Inner/outer flow link: every flow of `children` has a ParentUUID equal to the UUID of a flow of `parents`
 * (e.g. ICMP flows decapsulated from a GRE flow), and there is at least one child.
 */
export function flowLinkVerdict(children: unknown, parents: unknown): Verdict {
  const kids = items(children);
  const ps = items(parents);
  if (!ps.length) return { ok: false, detail: 'no parent flow' };
  if (!kids.length) return { ok: false, detail: `no child flow (${ps.length} parent flow(s))` };
  const uuids = new Set(ps.map((p) => p.UUID));
  const orphans = kids.filter((k) => !k.ParentUUID || !uuids.has(k.ParentUUID));
  if (orphans.length) {
    const o = orphans[0];
    return {
      ok: false,
      detail: `${orphans.length} of ${kids.length} child flow(s) without a parent among the ${ps.length} parent flow(s): ${describe(o)} has ParentUUID ${JSON.stringify(o.ParentUUID ?? '')}, parents are ${[...uuids].join(', ')}`,
    };
  }
  return { ok: true, detail: `${kids.length} child flow(s), each a child of one of ${ps.length} parent flow(s)` };
}

/** The same TrackingID appears in every result (one flow seen at several capture points). */
export function sameTrackingIDVerdict(results: unknown[]): Verdict {
  const sets = results.map((r) => new Set(items(r).map((f) => f.TrackingID).filter((t): t is string => typeof t === 'string' && t !== '')));
  const empty = sets.findIndex((s) => s.size === 0);
  if (empty >= 0) return { ok: false, detail: `query ${empty + 1} returned no flow with a TrackingID` };
  const common = [...sets[0]].filter((t) => sets.every((s) => s.has(t)));
  if (!common.length) return { ok: false, detail: `no TrackingID common to the ${sets.length} queries (${sets.map((s) => [...s].join('|')).join(' vs ')})` };
  return { ok: true, detail: `TrackingID ${common.join(', ')} seen by all ${sets.length} queries` };
}

/** Whether a capture (by UUID) is active on at least one node returned by its Gremlin query. */
export function captureActive(nodes: unknown, uuid: string): boolean {
  return items(nodes).some((n) => {
    const caps = fieldOf(n, 'Captures');
    return Array.isArray(caps) && caps.some((c) => c && (c as Item).ID === uuid && ((c as Item).State ?? 'active') === 'active');
  });
}
