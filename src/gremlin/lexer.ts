import { GremlinSyntaxError } from './errors.js';

/**
 * Tokens of the original dialect: identifiers, strings quoted with ' or " (a string ends at the next quote of
 * either kind, no escapes, as in the original), numbers (digits and '.'; we also accept a leading '-'), and
 * the punctuation . ( ) ,
 */
export type TokenType = 'ident' | 'string' | 'number' | 'dot' | 'lparen' | 'rparen' | 'comma' | 'eof';

export interface Token {
  type: TokenType;
  /** Identifier / string content / number text. */
  value: string;
  offset: number;
  /** Source text of the token (with quotes for strings). */
  text: string;
}

export class Lexer {
  private pos = 0;
  private peeked: Token | undefined;

  constructor(readonly source: string) {}

  peek(): Token {
    if (!this.peeked) this.peeked = this.scan();
    return this.peeked;
  }

  next(): Token {
    const t = this.peek();
    this.peeked = undefined;
    return t;
  }

  private scan(): Token {
    const s = this.source;
    let i = this.pos;
    while (i < s.length && isSpace(s.charCodeAt(i))) i++;
    if (i >= s.length) {
      this.pos = i;
      return { type: 'eof', value: '', offset: i, text: '' };
    }
    const c = s[i];
    const start = i;
    const punct = PUNCT[c];
    if (punct) {
      this.pos = i + 1;
      return { type: punct, value: c, offset: start, text: c };
    }
    if (c === "'" || c === '"') {
      i++;
      while (i < s.length && s[i] !== "'" && s[i] !== '"') i++;
      if (i >= s.length) {
        throw new GremlinSyntaxError(s, start, s.slice(start, start + 20), `unterminated string: add the closing quote (${c})`);
      }
      this.pos = i + 1;
      return { type: 'string', value: s.slice(start + 1, i), offset: start, text: s.slice(start, i + 1) };
    }
    if (isDigit(s.charCodeAt(i)) || (c === '-' && i + 1 < s.length && isDigit(s.charCodeAt(i + 1)))) {
      i++;
      while (i < s.length && (isDigit(s.charCodeAt(i)) || s[i] === '.')) i++;
      // a letter glued to digits (12ab) is not a number nor an identifier
      while (i < s.length && isIdentChar(s.charCodeAt(i))) i++;
      const text = s.slice(start, i);
      this.pos = i;
      return { type: 'number', value: text, offset: start, text };
    }
    if (c === '-') {
      throw new GremlinSyntaxError(s, start, c, "a '-' must start a negative number such as -5");
    }
    if (isLetter(s.charCodeAt(i))) {
      i++;
      while (i < s.length && isIdentChar(s.charCodeAt(i))) i++;
      const text = s.slice(start, i);
      this.pos = i;
      return { type: 'ident', value: text, offset: start, text };
    }
    throw new GremlinSyntaxError(s, start, c, `unexpected character '${c}' (strings must be quoted with ' or ")`);
  }
}

const PUNCT: Record<string, TokenType | undefined> = { '.': 'dot', '(': 'lparen', ')': 'rparen', ',': 'comma' };

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}
function isIdentChar(c: number): boolean {
  return isLetter(c) || isDigit(c) || c === 95;
}
