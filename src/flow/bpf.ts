import { createRequire } from 'node:module';
import { SkydiveError, UsageError } from '../common/errors.js';
import { NATIVE_ADDON as ADDON } from '../common/project-root.js';

/**
 * BPF filters compiled by libpcap (native/skydive_native.c) and run on raw packet bytes in place, as the
 * original applies its capture BPF to each packet before flow processing.
 *
 * Two engines run the same compiled program. 'js' (the default) translates libpcap's instructions into a
 * JavaScript function once: 20-85 ns per packet against 270-500 ns for a native call per packet
 * (docs/benchmarks.md). 'native' runs libpcap's own bpf_filter through the addon; it is the reference the
 * translation is tested against, and the fallback for an instruction the translation does not know.
 */

interface NativeBinding {
  bpfCompile(expr: string, linkType: number, snaplen: number): object;
  bpfMatch(handle: object, buf: Uint8Array, offset: number, caplen: number, wireLen: number): boolean;
  bpfProgram(expr: string, linkType: number, snaplen: number): Uint32Array;
}

let binding: NativeBinding | undefined;

function native(): NativeBinding {
  if (!binding) {
    try {
      binding = createRequire(import.meta.url)(ADDON) as NativeBinding;
    } catch (err) {
      throw new SkydiveError(
        'SKYDIVE_NATIVE_MISSING',
        `the libpcap addon ${ADDON} cannot be loaded (run \`make build\`): ${(err as Error).message.split('\n')[0]}`,
        500,
      );
    }
  }
  return binding;
}

/** LINKTYPE_* values (file headers) that differ from the DLT_* values libpcap compiles for. */
const LINKTYPE_TO_DLT: Record<number, number> = { 100: 11, 101: 12 };

export type BPFEngine = 'js' | 'native';

export interface BPFFilter {
  readonly expression: string;
  readonly linkType: number;
  readonly engine: BPFEngine;
  /** True when the packet bytes buf[offset, offset+caplen) pass the filter. */
  matches(buf: Uint8Array, offset: number, caplen: number, wireLen: number): boolean;
}

type Program = (b: Uint8Array, o: number, caplen: number, wirelen: number) => number;

/** Compiles a tcpdump-style expression for packets of `linkType` (LINKTYPE_*); throws a UsageError when invalid. */
export function compileBPF(expr: string, linkType: number, snaplen = 262144, engine: BPFEngine = 'js'): BPFFilter {
  const n = native();
  const dlt = LINKTYPE_TO_DLT[linkType] ?? linkType;
  const invalid = (err: unknown) => new UsageError('SKYDIVE_BPF_INVALID', `invalid BPF filter '${expr}': ${(err as Error).message}`);
  const nativeFilter = (): BPFFilter => {
    let handle: object;
    try {
      handle = n.bpfCompile(expr, dlt, snaplen);
    } catch (err) {
      throw invalid(err);
    }
    return { expression: expr, linkType, engine: 'native', matches: (buf, offset, caplen, wireLen) => n.bpfMatch(handle, buf, offset, caplen, wireLen) };
  };
  if (engine === 'native') return nativeFilter();
  let insns: Uint32Array;
  try {
    insns = n.bpfProgram(expr, dlt, snaplen);
  } catch (err) {
    throw invalid(err);
  }
  let run: Program;
  try {
    run = translateBPF(insns);
  } catch {
    // an instruction the translation does not know (a newer libpcap): libpcap's interpreter still runs it
    return nativeFilter();
  }
  return {
    expression: expr,
    linkType,
    engine,
    matches(buf, offset, caplen, wireLen) {
      if (offset < 0 || offset + caplen > buf.length) throw new RangeError('BPF match: offset/caplen outside the buffer');
      return run(buf, offset, caplen, wireLen) !== 0;
    },
  };
}

// classic BPF opcode fields (pcap/bpf.h)
const CLASS = 0x07;
const [LD, LDX, ST, STX, ALU, JMP, RET, MISC] = [0, 1, 2, 3, 4, 5, 6, 7];
const SIZE = 0x18;
const [W, H, B] = [0x00, 0x08, 0x10];
const MODE = 0xe0;
const [IMM, ABS, IND, MEM, LEN, MSH] = [0x00, 0x20, 0x40, 0x60, 0x80, 0xa0];
const OP = 0xf0;
const SRC_X = 0x08;
const MEMWORDS = 16;

function load(size: number, at: string, k: number): string {
  // an out-of-bounds load rejects the packet, as bpf_filter does
  const bytes = size === W ? 4 : size === H ? 2 : 1;
  const check = at === '' ? `if (caplen < ${k + bytes}) return 0;` : `i = X + ${k}; if (i + ${bytes} > caplen) return 0;`;
  const idx = (d: number) => (at === '' ? `b[o + ${k + d}]` : `b[o + i + ${d}]`);
  const value = size === W ? `((${idx(0)} << 24) | (${idx(1)} << 16) | (${idx(2)} << 8) | ${idx(3)}) >>> 0` : size === H ? `(${idx(0)} << 8) | ${idx(1)}` : idx(0);
  if (size !== W && size !== H && size !== B) throw new Error(`bad load size ${size}`);
  return `${check} A = ${value};`;
}

function alu(op: number, src: string): string {
  switch (op) {
    case 0x00:
      return `A = (A + ${src}) >>> 0;`;
    case 0x10:
      return `A = (A - ${src}) >>> 0;`;
    case 0x20:
      return `A = Math.imul(A, ${src}) >>> 0;`;
    case 0x30:
      return `if (${src} === 0) return 0; A = Math.floor(A / ${src}) >>> 0;`;
    case 0x90:
      return `if (${src} === 0) return 0; A = (A % ${src}) >>> 0;`;
    case 0x40:
      return `A = (A | ${src}) >>> 0;`;
    case 0x50:
      return `A = (A & ${src}) >>> 0;`;
    case 0xa0:
      return `A = (A ^ ${src}) >>> 0;`;
    case 0x60:
      return `A = (A << ${src}) >>> 0;`;
    case 0x70:
      return `A = A >>> ${src};`;
    case 0x80:
      return `A = (-A) >>> 0;`;
  }
  throw new Error(`unknown ALU operation 0x${op.toString(16)}`);
}

/**
 * Translates a classic BPF program ([code, jt, jf, k] per instruction) into a function with the semantics of
 * libpcap's bpf_filter. Classic BPF only jumps forward, so every jump target t becomes a labelled block that
 * encloses the code before t: `break Lt` is the jump, and the function is straight-line code without a
 * dispatch loop. The generated source contains only numbers taken from the program.
 */
export function translateBPF(insns: Uint32Array): Program {
  const n = insns.length / 4;
  if (n === 0 || !Number.isInteger(n)) throw new Error('empty BPF program');
  const mem = new Set<number>();
  const targets = new Set<number>();
  const bodies: string[] = [];
  const jump = (i: number, off: number) => {
    const t = i + 1 + off;
    if (t >= n) throw new Error(`jump out of the program at ${i}`);
    if (off > 0) targets.add(t);
    return t;
  };
  for (let i = 0; i < n; i++) {
    const [code, jt, jf, k] = [insns[4 * i], insns[4 * i + 1], insns[4 * i + 2], insns[4 * i + 3]];
    const src = code & SRC_X ? 'X' : String(k);
    const memSlot = () => {
      if (k >= MEMWORDS) throw new Error(`scratch memory index ${k} out of range`);
      mem.add(k);
      return `m${k}`;
    };
    let body: string;
    switch (code & CLASS) {
      case LD:
        switch (code & MODE) {
          case IMM:
            body = `A = ${k};`;
            break;
          case ABS:
            body = load(code & SIZE, '', k);
            break;
          case IND:
            body = load(code & SIZE, 'X', k);
            break;
          case MEM:
            body = `A = ${memSlot()};`;
            break;
          case LEN:
            body = 'A = wirelen;';
            break;
          default:
            throw new Error(`unknown load mode in 0x${code.toString(16)}`);
        }
        break;
      case LDX:
        switch (code & MODE) {
          case IMM:
            body = `X = ${k};`;
            break;
          case MEM:
            body = `X = ${memSlot()};`;
            break;
          case LEN:
            body = 'X = wirelen;';
            break;
          case MSH:
            body = `if (caplen <= ${k}) return 0; X = (b[o + ${k}] & 0xf) << 2;`;
            break;
          default:
            throw new Error(`unknown ldx mode in 0x${code.toString(16)}`);
        }
        break;
      case ST:
        body = `${memSlot()} = A;`;
        break;
      case STX:
        body = `${memSlot()} = X;`;
        break;
      case ALU:
        body = alu(code & OP, src);
        break;
      case JMP: {
        const op = code & OP;
        if (op === 0x00) {
          body = `break L${jump(i, k)};`;
          break;
        }
        const cond = op === 0x10 ? `A === ${src}` : op === 0x20 ? `A > ${src}` : op === 0x30 ? `A >= ${src}` : op === 0x40 ? `(A & ${src}) !== 0` : '';
        if (!cond) throw new Error(`unknown jump 0x${code.toString(16)}`);
        const t = jump(i, jt);
        const f = jump(i, jf);
        if (t === f) body = t === i + 1 ? '' : `break L${t};`;
        else if (t === i + 1) body = `if (!(${cond})) break L${f};`;
        else body = `if (${cond}) break L${t};` + (f === i + 1 ? '' : ` break L${f};`);
        break;
      }
      case RET:
        if ((code & 0x18) === 0x10) body = 'return A;';
        else if ((code & 0x18) === 0x00) body = `return ${k};`;
        else throw new Error(`unknown return 0x${code.toString(16)}`);
        break;
      case MISC:
        if ((code & 0xf8) === 0x80) body = 'A = X;';
        else if ((code & 0xf8) === 0x00) body = 'X = A;';
        else throw new Error(`unknown misc instruction 0x${code.toString(16)}`);
        break;
      default:
        throw new Error(`unknown instruction 0x${code.toString(16)}`);
    }
    bodies.push(body);
  }
  const lines = [`let A = 0, X = 0, i = 0${[...mem].map((m) => `, m${m} = 0`).join('')};`];
  // outermost block = farthest target; each block closes right before its target instruction
  for (const t of [...targets].sort((a, b) => b - a)) lines.push(`L${t}: {`);
  bodies.forEach((body, i) => {
    if (targets.has(i)) lines.push('}');
    lines.push(body);
  });
  lines.push('return 0;');
  return new Function('b', 'o', 'caplen', 'wirelen', lines.join('\n')) as Program;
}
