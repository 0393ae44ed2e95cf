import { Ajv, type ErrorObject, type SchemaObject } from 'ajv';
import { UsageError } from '../common/errors.js';
import { dotted, type DocPath, type YamlSource } from './yaml-source.js';

/** One problem found in a lab or scenario file, with where it is. */
export interface FileProblem {
  path: DocPath;
  message: string;
  /** Point at the key itself (unknown key) rather than at its value. */
  atKey?: boolean;
  /** Column inside the value (for query syntax errors), added to the value's column. */
  column?: number;
}

export function formatProblem(src: YamlSource, p: FileProblem): string {
  const pos = p.atKey ? src.keyPosition(p.path) : src.position(p.path);
  const col = p.column !== undefined ? `:${pos.column + p.column - 1}` : '';
  return `${src.file}:${pos.line}${col}: ${dotted(p.path)}: ${p.message}`;
}

/** Throw one UsageError listing every problem (`file:line: key: what`), or return when there is none. */
export function throwProblems(src: YamlSource, problems: FileProblem[], code: string): void {
  if (!problems.length) return;
  const lines = problems.map((p) => formatProblem(src, p));
  throw new UsageError(code, lines.length === 1 ? lines[0] : `${lines.length} problems: ${lines.join('; ')}`);
}

// verbose: errors carry the offending value and schema, so messages can quote them
const ajv = new Ajv({ allErrors: true, strict: true, verbose: true, allowUnionTypes: true });
const compiled = new WeakMap<SchemaObject, ReturnType<Ajv['compile']>>();

/** Validate the document against a JSON schema and translate ajv's errors into file/line/key problems. */
export function schemaProblems(src: YamlSource, schema: SchemaObject): FileProblem[] {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  if (validate(src.data)) return [];
  const problems: FileProblem[] = [];
  const seen = new Set<string>();
  for (const e of validate.errors ?? []) {
    const p = toProblem(e);
    if (!p) continue;
    const id = `${p.path.join('/')}|${p.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    problems.push(p);
  }
  return problems;
}

function parsePointer(ptr: string): (string | number)[] {
  if (!ptr) return [];
  return ptr
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function toProblem(e: ErrorObject): FileProblem | undefined {
  const path = parsePointer(e.instancePath);
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return { path, message: `missing required key "${String(params.missingProperty)}"` };
    case 'additionalProperties':
      return { path: [...path, String(params.additionalProperty)], message: 'unknown key', atKey: true };
    case 'enum':
      return { path, message: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    case 'type':
      return { path, message: `must be ${String(params.type).replace(',', ' or ')}` };
    case 'pattern':
      return { path, message: `${JSON.stringify(e.data)} is not valid (${e.parentSchema?.description ?? `must match ${String(params.pattern)}`})` };
    case 'minItems':
      return { path, message: `must have at least ${String(params.limit)} item(s)` };
    case 'minProperties':
      return { path, message: `must have at least ${String(params.limit)} key(s)` };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
      return { path, message: `must be ${String(params.comparison)} ${String(params.limit)}` };
    case 'anyOf':
    case 'oneOf':
      // the branch errors are reported on their own; this summary adds nothing for a reader
      return e.parentSchema?.description ? { path, message: String(e.parentSchema.description) } : undefined;
    default:
      return { path, message: e.message ?? e.keyword };
  }
}
