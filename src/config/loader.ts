import { readFileSync } from 'node:fs';
import { editDistance } from '../common/edit-distance.js';
import { load as loadYAML, YAML11_SCHEMA, YAMLException } from 'js-yaml';
import { SkydiveError, UsageError, errorMessage } from '../common/errors.js';
import { childLogger } from '../common/log.js';
import { parseServiceAddress } from '../common/address.js';
import { Config, merge, type ConfigValues } from './config.js';
import { SCHEMA, envName, isKeySpec, schemaDefaults, schemaKeys, type KeySpec, type SchemaTree } from './schema.js';

/**
 * Loads the configuration: YAML files in order (later ones override earlier ones; `-` is stdin), then SKYDIVE_*
 * environment overrides. Every value is checked against the schema; the first problem stops start-up with a
 * UsageError naming the key and where it came from. YAML 1.1 scalars (yes/no/on/off) are read as the original
 * (Go yaml) reads them.
 */
export interface LoadedConfig {
  config: Config;
  /** Keys accepted but not used by this implementation (etcd.*, ...), one message each. */
  warnings: string[];
}

export function loadConfig(files: string[], env: NodeJS.ProcessEnv = process.env): Config {
  const { config, warnings } = loadConfigDetailed(files, env);
  const log = childLogger('config');
  for (const w of warnings) log.warn(w);
  return config;
}

export function loadConfigDetailed(files: string[], env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const values: ConfigValues = {};
  const problems: Problems = [];
  const warnings: string[] = [];
  for (const file of files) {
    const source = file === '-' ? 'standard input' : file;
    const doc = parseYAML(readSource(file), source);
    const normalized = normalize(doc, SCHEMA, '', source, problems, warnings);
    merge(values, normalized);
  }
  merge(values, envOverrides(env, problems));
  if (problems.length) {
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more configuration problem${problems.length > 2 ? 's' : ''})` : '';
    throw new UsageError(problems[0].code, problems[0].message + more);
  }
  return { config: new Config(values, schemaDefaults()), warnings: [...new Set(warnings)] };
}

interface Problem {
  code: string;
  message: string;
}
type Problems = Problem[];

function readSource(file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new SkydiveError('SKYDIVE_CONFIG_READ', `cannot read configuration file ${file === '-' ? 'from standard input' : file}: ${code ?? errorMessage(err)}`, 500);
  }
}

function parseYAML(text: string, source: string): ConfigValues {
  if (text.trim() === '') return {};
  let doc: unknown;
  try {
    doc = loadYAML(text, { schema: YAML11_SCHEMA, filename: source });
  } catch (err) {
    if (err instanceof YAMLException) {
      const reason = (err as YAMLException & { reason?: string }).reason ?? err.message.split('\n')[0];
      const mark = err.mark;
      const where = mark ? `${source}:${mark.line + 1}:${mark.column + 1}` : source;
      throw new UsageError('SKYDIVE_CONFIG_YAML', `invalid YAML in ${where}: ${reason.replace(/ in "[^"]*" \(\d+:\d+\)$/, '')}`);
    }
    throw err;
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new UsageError('SKYDIVE_CONFIG_YAML', `invalid configuration in ${source}: expected a mapping of keys at the top level`);
  }
  return doc as ConfigValues;
}

/**
 * Turn a parsed document into a nested tree that follows the schema: dotted keys ('analyzer.topology.fabric' at
 * the top level) are split, every key is checked, typed values are coerced (strings of digits for ints...).
 */
function normalize(doc: ConfigValues, tree: SchemaTree, prefix: string, source: string, problems: Problems, warnings: string[]): ConfigValues {
  const out: ConfigValues = {};
  for (const [rawKey, value] of Object.entries(doc)) {
    const parts = rawKey.split('.').filter((p) => p !== '');
    if (!parts.length) {
      problems.push({ code: 'SKYDIVE_CONFIG_UNKNOWN_KEY', message: `empty configuration key under '${prefix || '(top level)'}' in ${source}` });
      continue;
    }
    placeValue(out, tree, prefix, parts, value, source, problems, warnings);
  }
  return out;
}

function placeValue(
  out: ConfigValues,
  tree: SchemaTree,
  prefix: string,
  parts: string[],
  value: unknown,
  source: string,
  problems: Problems,
  warnings: string[],
): void {
  const [head, ...rest] = parts;
  const path = prefix ? `${prefix}.${head}` : head;
  const spec = tree[head];
  if (spec === undefined) {
    const full = rest.length ? `${path}.${rest.join('.')}` : firstLeafPath(path, value);
    problems.push({ code: 'SKYDIVE_CONFIG_UNKNOWN_KEY', message: `unknown configuration key '${full}' in ${source}${suggestion(full)}` });
    return;
  }
  if (isKeySpec(spec)) {
    if (spec.ignored) warnings.push(`configuration key '${path}' in ${source} is ignored: ${spec.ignored}`);
    if (spec.type === 'open') {
      // free-form: keep the remaining dotted parts as nesting, the value as written
      const nested = rest.length ? nest(rest, value) : value;
      const cur = out[head];
      if (isMap(cur) && isMap(nested)) merge(cur, nested as ConfigValues);
      else out[head] = nested;
      return;
    }
    if (rest.length) {
      problems.push({ code: 'SKYDIVE_CONFIG_UNKNOWN_KEY', message: `unknown configuration key '${path}.${rest.join('.')}' in ${source}: '${path}' is a value, not a section${suggestion(`${path}.${rest.join('.')}`)}` });
      return;
    }
    const checked = checkValue(path, spec, value, source);
    if ('problem' in checked) problems.push(checked.problem);
    else out[head] = checked.value;
    return;
  }
  // a section of the schema
  let sub = out[head];
  if (!isMap(sub)) out[head] = sub = {};
  if (rest.length) {
    placeValue(sub as ConfigValues, spec, path, rest, value, source, problems, warnings);
    return;
  }
  if (value === null || value === undefined) return; // `agent:` with nothing under it
  if (!isMap(value)) {
    problems.push({ code: 'SKYDIVE_CONFIG_BAD_VALUE', message: `bad value for '${path}' in ${source}: expected a section (mapping of keys), got ${describe(value)}` });
    return;
  }
  merge(sub as ConfigValues, normalize(value as ConfigValues, spec, path, source, problems, warnings));
}

function checkValue(key: string, spec: KeySpec, raw: unknown, source: string): { value: unknown } | { problem: Problem } {
  const bad = (expected: string, got = describe(raw)) => ({
    problem: { code: 'SKYDIVE_CONFIG_BAD_VALUE', message: `bad value for '${key}' in ${source}: expected ${expected}, got ${got}` },
  });
  const badAddress = (why: string) => ({ problem: { code: 'SKYDIVE_CONFIG_BAD_VALUE', message: `bad value for '${key}' in ${source}: ${why}` } });
  if (raw === null || raw === undefined) return { value: spec.default };
  switch (spec.type) {
    case 'string':
      if (typeof raw === 'string') return checkEnum(key, spec, [raw], source) ?? { value: raw };
      if (typeof raw === 'number' || typeof raw === 'boolean') return checkEnum(key, spec, [String(raw)], source) ?? { value: String(raw) };
      return bad('a string');
    case 'int': {
      const n = typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : raw;
      if (typeof n !== 'number' || !Number.isInteger(n)) return bad('an integer');
      if (spec.min !== undefined && n < spec.min) return bad(`an integer >= ${spec.min}`, String(n));
      return { value: n };
    }
    case 'bool':
      if (typeof raw === 'boolean') return { value: raw };
      if (typeof raw === 'string' && /^(true|false|yes|no|on|off)$/i.test(raw)) return { value: /^(true|yes|on)$/i.test(raw) };
      return bad('true or false');
    case 'strings':
    case 'addresses': {
      const list = toList(raw, spec.separator);
      if (!list) return bad('a list of strings');
      const enumProblem = checkEnum(key, spec, list, source);
      if (enumProblem) return enumProblem;
      if (spec.checkItem) {
        for (let i = 0; i < list.length; i++) {
          const why = spec.checkItem(list[i]);
          if (why) return { problem: { code: 'SKYDIVE_CONFIG_BAD_VALUE', message: `bad value for '${key}[${i}]' in ${source}: ${why}` } };
        }
      }
      if (spec.type === 'addresses') {
        for (const a of list) {
          const parsed = parseServiceAddress(a);
          if (typeof parsed === 'string') return badAddress(parsed);
        }
      }
      return { value: list };
    }
    case 'address': {
      const parsed = parseServiceAddress(raw);
      if (typeof parsed === 'string') return badAddress(parsed);
      return { value: String(raw) };
    }
    case 'open':
      return { value: raw };
  }
}

function checkEnum(key: string, spec: KeySpec, values: string[], source: string): { problem: Problem } | undefined {
  if (!spec.values) return undefined;
  for (const v of values) {
    if (!spec.values.some((x) => x.toLowerCase() === v.toLowerCase())) {
      const hint = closest(v, spec.values);
      return {
        problem: {
          code: 'SKYDIVE_CONFIG_BAD_VALUE',
          message: `bad value for '${key}' in ${source}: unknown value '${v}'${hint ? ` (did you mean '${hint}'?)` : ''}; expected one of ${spec.values.join(', ')}`,
        },
      };
    }
  }
  return undefined;
}

/** A list of strings from a YAML list or from a scalar split on whitespace and commas (as viper does for env). */
function toList(raw: unknown, separator = /[\s,]+/): string[] | undefined {
  if (Array.isArray(raw)) {
    if (!raw.every((x) => typeof x === 'string' || typeof x === 'number')) return undefined;
    return raw.map(String);
  }
  if (typeof raw === 'string') return raw.split(separator).map((s) => s.trim()).filter((s) => s !== '');
  return undefined;
}

function envOverrides(env: NodeJS.ProcessEnv, problems: Problems): ConfigValues {
  const out: ConfigValues = {};
  for (const [key, spec] of schemaKeys()) {
    if (spec.type === 'open' || spec.ignored) continue;
    const name = envName(key);
    const text = env[name];
    if (text === undefined) continue;
    const raw = spec.type === 'strings' || spec.type === 'addresses' || spec.type === 'string' || spec.type === 'address' ? parseEnvList(text, spec) : parseScalar(text);
    const checked = checkValue(key, spec, raw, `environment variable ${name}`);
    if ('problem' in checked) problems.push(checked.problem);
    else merge(out, nest(key.split('.'), checked.value) as ConfigValues);
  }
  return out;
}

/** Strings are taken verbatim (an address like 127.0.0.1:8082 is not YAML); a `[a, b]` flow list is parsed. */
function parseEnvList(text: string, spec: KeySpec): unknown {
  if ((spec.type === 'strings' || spec.type === 'addresses') && text.trim().startsWith('[')) return parseScalar(text);
  return text;
}

function parseScalar(text: string): unknown {
  try {
    return loadYAML(text, { schema: YAML11_SCHEMA });
  } catch {
    return text;
  }
}

function nest(parts: string[], value: unknown): unknown {
  let v = value;
  for (let i = parts.length - 1; i >= 0; i--) v = { [parts[i]]: v };
  return v;
}

function isMap(x: unknown): x is ConfigValues {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (isMap(v)) return 'a section';
  if (typeof v === 'string') return `'${v}'`;
  return String(v);
}

/** For `unknown: {a: {b: 1}}` report 'unknown.a.b', the way a user wrote the leaf. */
function firstLeafPath(path: string, value: unknown): string {
  let p = path;
  let v = value;
  while (isMap(v)) {
    const keys = Object.keys(v);
    if (keys.length !== 1) break;
    p += `.${keys[0]}`;
    v = v[keys[0]];
  }
  return p;
}

const KNOWN_PATHS: string[] = (() => {
  const out = new Set<string>();
  const walk = (tree: SchemaTree, prefix: string) => {
    for (const [name, spec] of Object.entries(tree)) {
      const path = prefix ? `${prefix}.${name}` : name;
      out.add(path);
      if (!isKeySpec(spec)) walk(spec, path);
    }
  };
  walk(SCHEMA, '');
  return [...out];
})();

function suggestion(full: string): string {
  const hint = closest(full, KNOWN_PATHS);
  return hint ? ` (did you mean '${hint}'?)` : '';
}

/** The closest candidate by edit distance, if close enough to be a plausible typo. */
function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const w = word.toLowerCase();
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  const limit = Math.max(2, Math.floor(w.length / 5));
  return bestD > 0 && bestD <= limit ? best : undefined;
}
