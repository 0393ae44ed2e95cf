import { readFileSync } from 'node:fs';
import { EVENT_ID, YAMLException, constructFromEvents, getScalarValue, parseEvents, type Event } from 'js-yaml';
import { UsageError } from '../common/errors.js';

/** 1-based line and column in a source file. */
export interface SourcePosition {
  line: number;
  column: number;
}

/** A path into a YAML document: mapping keys and sequence indexes (`['hosts', 1, 'address']`). */
export type DocPath = ReadonlyArray<string | number>;

/**
 * A parsed YAML file that remembers where every value and mapping key came from, so that validation errors can
 * name the file, the line and the key (`lab.yaml:12: hosts[1].address: must match format "ipv4"`).
 */
export class YamlSource {
  private readonly lineStarts: number[];

  constructor(
    readonly file: string,
    readonly text: string,
    readonly data: unknown,
    private readonly valueOffsets: Map<string, number>,
    private readonly keyOffsets: Map<string, number>,
  ) {
    this.lineStarts = [0];
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
  }

  /** Where the value at `path` starts; falls back to its closest ancestor that has a position. */
  position(path: DocPath): SourcePosition {
    for (let n = path.length; n >= 0; n--) {
      const off = this.valueOffsets.get(pointer(path.slice(0, n)));
      if (off !== undefined && off >= 0) return this.offsetToPosition(off);
    }
    return { line: 1, column: 1 };
  }

  /** Where the mapping key that ends `path` is written (for unknown or misspelled keys); else the value. */
  keyPosition(path: DocPath): SourcePosition {
    const off = this.keyOffsets.get(pointer(path));
    return off !== undefined ? this.offsetToPosition(off) : this.position(path);
  }

  /** `file:line` prefix for messages about the value at `path`. */
  where(path: DocPath, key = false): string {
    const p = key ? this.keyPosition(path) : this.position(path);
    return `${this.file}:${p.line}`;
  }

  private offsetToPosition(offset: number): SourcePosition {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.lineStarts[lo] + 1 };
  }
}

/** JSON-pointer form of a path, the same form ajv reports in `instancePath`. */
export function pointer(path: DocPath): string {
  return path.map((s) => '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

/** Human form of a path: `hosts[1].address`. */
export function dotted(path: DocPath): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out ? `.${seg}` : seg;
  return out || '(top level)';
}

type Frame = { kind: 'map'; path: (string | number)[]; key: string | undefined } | { kind: 'seq'; path: (string | number)[]; index: number } | { kind: 'doc'; path: [] };

/** Parse `text` (one YAML document) keeping the source offset of every value and key. */
export function parseYamlSource(file: string, text: string, errorCode: string): YamlSource {
  let events: Event[];
  let docs: unknown[];
  try {
    events = parseEvents(text, { filename: file });
    docs = constructFromEvents(events, { source: text, filename: file });
  } catch (err) {
    if (err instanceof YAMLException) {
      const mark = (err as YAMLException & { mark?: { line: number; column: number } }).mark;
      const line = mark ? mark.line + 1 : 1;
      throw new UsageError(errorCode, `${file}:${line}: YAML syntax error: ${err.reason}`);
    }
    throw err;
  }
  if (docs.length > 1) throw new UsageError(errorCode, `${file}: expected one YAML document, found ${docs.length}`);

  const valueOffsets = new Map<string, number>();
  const keyOffsets = new Map<string, number>();
  const stack: Frame[] = [];
  const childPath = (): (string | number)[] | undefined => {
    const top = stack[stack.length - 1];
    if (!top) return undefined;
    if (top.kind === 'doc') return [];
    if (top.kind === 'seq') return [...top.path, top.index];
    return top.key === undefined ? undefined : [...top.path, top.key];
  };
  const valueDone = (): void => {
    const top = stack[stack.length - 1];
    if (top?.kind === 'seq') top.index++;
    else if (top?.kind === 'map') top.key = undefined;
  };
  for (const ev of events) {
    switch (ev.type) {
      case EVENT_ID.DOCUMENT:
        stack.push({ kind: 'doc', path: [] });
        break;
      case EVENT_ID.MAPPING:
      case EVENT_ID.SEQUENCE: {
        const path = childPath() ?? [];
        valueOffsets.set(pointer(path), ev.start);
        stack.push(ev.type === EVENT_ID.MAPPING ? { kind: 'map', path, key: undefined } : { kind: 'seq', path, index: 0 });
        break;
      }
      case EVENT_ID.SCALAR: {
        const top = stack[stack.length - 1];
        if (top?.kind === 'map' && top.key === undefined) {
          top.key = getScalarValue(text, ev);
          keyOffsets.set(pointer([...top.path, top.key]), ev.valueStart);
        } else {
          const path = childPath();
          if (path) valueOffsets.set(pointer(path), ev.valueStart);
          valueDone();
        }
        break;
      }
      case EVENT_ID.ALIAS:
        valueDone();
        break;
      case EVENT_ID.POP:
        stack.pop();
        valueDone();
        break;
    }
  }
  return new YamlSource(file, text, docs[0] ?? null, valueOffsets, keyOffsets);
}

export function readYamlSource(file: string, errorCode: string, displayName = file): YamlSource {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(errorCode, `cannot read ${displayName}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseYamlSource(displayName, text, errorCode);
}
