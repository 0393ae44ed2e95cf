import type { Graph } from '../graph/graph.js';
import { describeArg, type GremlinArg } from './ast.js';
import { GremlinArgumentError } from './errors.js';
import type { GraphRevisions } from './view.js';

/** [start, last] in ms since epoch, both inclusive, as the original's TimeSlice. */
export interface TimeSlice {
  start: number;
  last: number;
}

/**
 * Topology history, implemented by a storage backend that keeps revisions (the original's Elasticsearch/OrientDB
 * backends). `Context(t)` asks `graphAt(t)`; `Context(t, d)` asks `revisions({start: t - d, last: t})`.
 */
export interface HistoryProvider {
  /** The graph as it was at `at` (ms): per element, its highest revision alive at that time. */
  graphAt(at: number): Promise<Graph>;
  /**
   * Every revision of every element alive at some time of the slice, i.e. with CreatedAt ≤ last, UpdatedAt ≤ last,
   * DeletedAt null or ≥ start and ArchivedAt null or ≥ start, sorted by UpdatedAt.
   */
  revisions(slice: TimeSlice): Promise<GraphRevisions>;
}

/** The time context of a query after Context/At (exposed to extension steps, e.g. flows in the same slice). */
export interface TimeContext {
  slice: TimeSlice;
  /** true for Context(t): a point in time (slice.start === slice.last). */
  point: boolean;
}

export type TimeSpec = { kind: 'now' } | { kind: 'absolute'; ms: number } | { kind: 'relative'; offsetMs: number };
export type DurationSpec = { kind: 'forever' } | { kind: 'span'; ms: number };

const TIME_HELP =
  "an RFC1123 date ('Mon, 02 Jan 2006 15:04:05 MST'), a duration relative to now ('-5m', '-1h30m'), a Unix time in seconds or milliseconds, or NOW";

export function parseTimeArg(a: GremlinArg): TimeSpec {
  if (a.type === 'keyword' && a.value === 'NOW') return { kind: 'now' };
  if (a.type === 'number') {
    if (!Number.isInteger(a.value) || a.value < 0) throw new GremlinArgumentError(`Context time must be ${TIME_HELP}, got ${a.text}`, a);
    return { kind: 'absolute', ms: a.value > 2147483647 ? a.value : a.value * 1000 };
  }
  if (a.type === 'string') {
    if (a.value.toUpperCase() === 'NOW') return { kind: 'now' };
    const date = parseRFC1123(a.value);
    if (date !== undefined) return { kind: 'absolute', ms: date };
    const d = parseGoDuration(a.value);
    if (d !== undefined) return { kind: 'relative', offsetMs: d };
  }
  throw new GremlinArgumentError(`Context time must be ${TIME_HELP}, got ${describeArg(a)}`, a);
}

export function parseDurationArg(a: GremlinArg): DurationSpec {
  if (a.type === 'keyword' && a.value === 'FOREVER') return { kind: 'forever' };
  let ms: number | undefined;
  if (a.type === 'number' && Number.isInteger(a.value)) ms = a.value * 1000;
  else if (a.type === 'string') ms = parseGoDuration(a.value);
  if (ms === undefined || ms < 0) {
    throw new GremlinArgumentError(
      `Context duration must be a positive duration ('5m', '1h'), a number of seconds, or FOREVER, got ${describeArg(a)}`,
      a,
    );
  }
  return { kind: 'span', ms };
}

export function resolveTime(t: TimeSpec, now: number): number {
  switch (t.kind) {
    case 'now':
      return now;
    case 'absolute':
      return t.ms;
    case 'relative':
      return now + t.offsetMs;
  }
}

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000 };

/** Go's time.ParseDuration ('-5m', '1h30m', '1.5s', '300ms'), in ms; undefined if malformed. */
export function parseGoDuration(s: string): number | undefined {
  const m = /^([-+]?)(.*)$/.exec(s)!;
  const body = m[2];
  if (body === '0') return 0;
  if (body === '') return undefined;
  const re = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < body.length) {
    re.lastIndex = pos;
    const part = re.exec(body);
    if (!part) return undefined;
    total += Number(part[1]) * UNIT_MS[part[2]];
    pos = re.lastIndex;
  }
  return m[1] === '-' ? -total : total;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const ZONES: Record<string, number> = { UTC: 0, GMT: 0, UT: 0, EST: -5, EDT: -4, CST: -6, CDT: -5, MST: -7, MDT: -6, PST: -8, PDT: -7, CET: 1, CEST: 2 };

/**
 * RFC1123 ('Mon, 02 Jan 2006 15:04:05 MST') or RFC1123Z (numeric zone), in ms. As Go does, an unknown zone
 * abbreviation is taken as UTC.
 */
export function parseRFC1123(s: string): number | undefined {
  const m = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) ([A-Z]{2,5}|[+-]\d{4})$/.exec(s);
  if (!m) return undefined;
  const month = MONTHS.indexOf(m[3]);
  if (month < 0) return undefined;
  let offsetMin = 0;
  const zone = m[8];
  if (zone.startsWith('+') || zone.startsWith('-')) {
    const sign = zone.startsWith('-') ? -1 : 1;
    offsetMin = sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5)));
  } else {
    offsetMin = (ZONES[zone] ?? 0) * 60;
  }
  const utc = Date.UTC(Number(m[4]), month, Number(m[2]), Number(m[5]), Number(m[6]), Number(m[7]));
  return utc - offsetMin * 60000;
}
