/**
 * Reads APIM policy XML into a {@link PolicyElement} tree with exact source positions.
 *
 * APIM documents are not well-formed XML: policy expressions are written raw, with `"`, `<`, `>`
 * and `&&` unescaped (`condition="@(ctx.Body.As<JObject>()["x"] != null)"`). No XML library accepts
 * that, so this is a small hand-written reader: ordinary XML rules everywhere, except that an
 * attribute value or element text starting with `@(` or `@{` is read by C# rules up to its
 * balanced closing delimiter (see `xml-expression.ts`).
 * @module
 */
import { Buffer } from 'node:buffer';
import { PolicyDocError, type PolicyElement, type PolicyValue } from './element.ts';
import { scanExpression, type ScanResult } from './xml-expression.ts';
import {
  MAX_DEPTH,
  MAX_DOC_BYTES,
  decodeExpression,
  entityAt,
  isXmlSpace,
  locatorFor,
  normalizeNewlines,
  skipSpace,
  trimXmlSpace,
  type Locate,
} from './xml-source.ts';

/** The sections of a `<policies>` document, also accepted bare at the root. */
export const SECTION_NAMES: ReadonlySet<string> = new Set(['inbound', 'backend', 'outbound', 'on-error']);

export interface XmlReadOptions {
  /**
   * Maps offsets in `text` to positions in the file the user wrote, when `text` is not that file
   * verbatim (after named-value substitution). Defaults to positions in `text` itself.
   */
  readonly locate?: Locate;
}

/**
 * Parses a policy document: a `<policies>` or `<fragment>` root, or a bare sequence of sections
 * (`<inbound>…</inbound><outbound>…</outbound>`), which is wrapped in a synthetic `policies`
 * element positioned at the first section.
 * @throws PolicyDocError at the offending line:col for any malformed or over-limit document.
 * @example
 * ```ts
 * const root = parsePolicyXml('<policies><inbound><base /></inbound></policies>', 'api.xml');
 * root.children[0]?.name; // 'inbound'
 * ```
 */
export function parsePolicyXml(text: string, file: string, options: XmlReadOptions = {}): PolicyElement {
  const locate = options.locate ?? locatorFor(text, file);
  const roots: PolicyElement[] = [];
  const checkRoot = (name: string, offset: number): void => {
    const first = roots[0];
    if (first === undefined) {
      if (name === 'policies' || name === 'fragment' || SECTION_NAMES.has(name)) return;
      throw new PolicyDocError(
        `the document root must be <policies>, <fragment>, or a sequence of <inbound>/<backend>/<outbound>/<on-error> sections, not <${name}>`,
        locate(offset),
      );
    }
    if (!SECTION_NAMES.has(first.name)) {
      throw new PolicyDocError(`only one root element is allowed: <${name}> follows <${first.name}>`, locate(offset));
    }
    if (!SECTION_NAMES.has(name)) {
      throw new PolicyDocError(
        `a document of bare sections may hold only <inbound>, <backend>, <outbound> and <on-error>, not <${name}>`,
        locate(offset),
      );
    }
  };
  new XmlParser(text, locate, checkRoot).parseInto(roots);
  const first = roots[0];
  if (first === undefined) {
    throw new PolicyDocError('the document has no root element (expected <policies> or <fragment>)', locate(0));
  }
  if (!SECTION_NAMES.has(first.name)) return first;
  return { name: 'policies', attrs: new Map(), children: roots, text: null, pos: first.pos };
}

/**
 * Parses XML with APIM's expression rules but no rule on the root: every top-level element, in
 * order. For documentation snippets (e.g. a lone `<retry>`) and tools; policies use
 * {@link parsePolicyXml}.
 */
export function parseXmlElements(text: string, file: string, options: XmlReadOptions = {}): PolicyElement[] {
  const roots: PolicyElement[] = [];
  new XmlParser(text, options.locate ?? locatorFor(text, file), () => undefined).parseInto(roots);
  return roots;
}

const NAME = /[\p{L}_:][\p{L}\p{N}\p{M}_:.-]*/uy;

interface Builder {
  readonly name: string;
  readonly start: number;
  readonly attrs: Map<string, PolicyValue>;
  readonly children: PolicyElement[];
  text: string;
  /** Offset of the text's first non-whitespace character, -1 while it is all whitespace. */
  textStart: number;
}

class XmlParser {
  readonly #text: string;
  readonly #locate: Locate;
  readonly #checkRoot: (name: string, offset: number) => void;
  #i = 0;

  constructor(text: string, locate: Locate, checkRoot: (name: string, offset: number) => void) {
    this.#text = text;
    this.#locate = locate;
    this.#checkRoot = checkRoot;
  }

  #fail(message: string, offset: number): never {
    throw new PolicyDocError(message, this.#locate(offset));
  }

  parseInto(roots: PolicyElement[]): void {
    const text = this.#text;
    if (text.length > MAX_DOC_BYTES || Buffer.byteLength(text, 'utf8') > MAX_DOC_BYTES) {
      this.#fail(`the policy document is larger than ${MAX_DOC_BYTES} bytes`, 0);
    }
    if (text.charCodeAt(0) === 0xfeff) this.#i = 1;
    this.#i = skipSpace(text, this.#i);
    if (text.startsWith('<?xml', this.#i) && (isXmlSpace(text[this.#i + 5]) || text.startsWith('?>', this.#i + 5))) {
      const end = text.indexOf('?>', this.#i);
      if (end < 0) this.#fail('the <?xml ...?> declaration is never closed', this.#i);
      this.#i = end + 2;
    }
    for (;;) {
      const i = skipSpace(text, this.#i);
      this.#i = i;
      if (i >= text.length) return;
      if (text[i] !== '<') this.#fail('text outside the root element is not allowed', i);
      if (this.#skipComment()) continue;
      if (text.startsWith('</', i)) this.#fail(`closing tag </${this.#nameAt(i + 2) ?? ''}> has no matching opening tag`, i);
      roots.push(this.#element(1));
    }
  }

  /** Skips a comment at the cursor; false when there is none. */
  #skipComment(): boolean {
    const text = this.#text;
    const i = this.#i;
    if (!text.startsWith('<!--', i)) return false;
    const end = text.indexOf('-->', i + 4);
    if (end < 0) this.#fail('comment is never closed (missing -->)', i);
    this.#i = end + 3;
    return true;
  }

  #nameAt(i: number): string | undefined {
    NAME.lastIndex = i;
    return NAME.exec(this.#text)?.[0];
  }

  /** Parses the element whose `<` is at the cursor. */
  #element(depth: number): PolicyElement {
    const text = this.#text;
    const start = this.#i;
    this.#checkMarkup(start);
    const name = this.#nameAt(start + 1);
    if (name === undefined) this.#fail(`expected an element name after '<' (write &lt; for a literal '<')`, start);
    if (depth > MAX_DEPTH) this.#fail(`<${name}> is nested deeper than ${MAX_DEPTH} elements`, start);
    if (depth === 1) this.#checkRoot(name, start);
    const b: Builder = { name, start, attrs: new Map(), children: [], text: '', textStart: -1 };
    this.#i = start + 1 + name.length;

    // Attributes, up to `>` or `/>`.
    for (;;) {
      const before = this.#i;
      const i = skipSpace(text, before);
      this.#i = i;
      if (i >= text.length) this.#fail(`start tag <${name}> is never closed (missing '>')`, start);
      if (text.startsWith('/>', i)) {
        this.#i = i + 2;
        return this.#finish(b);
      }
      if (text[i] === '>') {
        this.#i = i + 1;
        break;
      }
      const attr = this.#nameAt(i);
      if (attr === undefined) {
        if (text[i] === '<') this.#fail(`start tag <${name}> is not closed before the next '<' (missing '>')`, i);
        this.#fail(`unexpected '${text[i] ?? ''}' in start tag <${name}>`, i);
      }
      if (i === before) this.#fail(`attribute '${attr}' of <${name}> must be separated from what precedes it by whitespace`, i);
      if (b.attrs.has(attr)) this.#fail(`duplicate attribute '${attr}' on <${name}>`, i);
      const eq = skipSpace(text, i + attr.length);
      if (text[eq] !== '=') this.#fail(`attribute '${attr}' of <${name}> has no value (expected '=')`, eq);
      const q = skipSpace(text, eq + 1);
      const quote = text[q];
      if (quote !== '"' && quote !== "'") this.#fail(`the value of attribute '${attr}' of <${name}> must be quoted`, q);
      b.attrs.set(attr, this.#attrValue(name, attr, q + 1, quote));
    }

    // Content, up to the matching end tag.
    for (;;) {
      const i = this.#i;
      if (i >= text.length) this.#fail(`element <${name}> is never closed (missing </${name}>)`, start);
      if (text[i] !== '<') {
        this.#textRun(b);
        continue;
      }
      if (text.startsWith('</', i)) {
        const close = this.#nameAt(i + 2);
        if (close === undefined) this.#fail(`expected an element name after '</'`, i);
        if (close !== name) {
          const open = this.#locate(start);
          this.#fail(`closing tag </${close}> does not match <${name}> opened at ${open.line}:${open.col}`, i);
        }
        const gt = skipSpace(text, i + 2 + close.length);
        if (text[gt] !== '>') this.#fail(`expected '>' to end the closing tag </${close}>`, gt);
        this.#i = gt + 1;
        return this.#finish(b);
      }
      if (this.#skipComment()) continue;
      if (text.startsWith('<![CDATA[', i)) {
        const end = text.indexOf(']]>', i + 9);
        if (end < 0) this.#fail(`CDATA section in <${name}> is never closed (missing ]]>)`, i);
        const body = text.slice(i + 9, end);
        const nonSpace = skipSpace(body, 0);
        this.#appendText(b, normalizeNewlines(body), nonSpace < body.length ? i + 9 + nonSpace : -1);
        this.#i = end + 3;
        continue;
      }
      b.children.push(this.#element(depth + 1));
    }
  }

  /** Rejects markup that is not an element where an element is expected. */
  #checkMarkup(i: number): void {
    const text = this.#text;
    if (text.startsWith('<![CDATA[', i)) this.#fail('CDATA is only allowed inside an element', i);
    if (text.startsWith('<!DOCTYPE', i)) this.#fail('DOCTYPE declarations are not supported in policy documents', i);
    if (text.startsWith('<!', i)) this.#fail(`unexpected '<!' (comments are written <!-- ... -->)`, i);
    if (text.startsWith('<?', i)) this.#fail('processing instructions are not supported (an <?xml ...?> declaration may only open the document)', i);
  }

  #finish(b: Builder): PolicyElement {
    const value = trimXmlSpace(b.text);
    return {
      name: b.name,
      attrs: b.attrs,
      children: b.children,
      text: value === '' || b.textStart < 0 ? null : { value, pos: this.#locate(b.textStart) },
      pos: this.#locate(b.start),
    };
  }

  #appendText(b: Builder, piece: string, firstNonSpace: number): void {
    b.text += piece;
    if (b.textStart < 0 && firstNonSpace >= 0) b.textStart = firstNonSpace;
  }

  /** Character data from the cursor up to the next `<`, or a whole `@(...)`/`@{...}` expression. */
  #textRun(b: Builder): void {
    const text = this.#text;
    let i = this.#i;
    if (b.textStart < 0) {
      const j = skipSpace(text, i);
      if (text[j] === '@' && (text[j + 1] === '(' || text[j + 1] === '{')) {
        const r = scanExpression(text, j);
        if (!r.ok) this.#fail(this.#unclosed(`element <${b.name}>`, r), j);
        this.#appendText(b, decodeExpression(text.slice(j, r.end)), j);
        const k = skipSpace(text, r.end);
        if (k < text.length && !text.startsWith('</', k)) {
          this.#fail(`only whitespace may follow the expression in <${b.name}> before </${b.name}>`, k);
        }
        this.#i = k;
        return;
      }
    }
    const end = text.indexOf('<', i);
    const stop = end < 0 ? text.length : end;
    // Searched within the run only: a document-wide search per run would be quadratic.
    const run = text.slice(i, stop);
    while (i < stop) {
      const amp = run.indexOf('&', i - this.#i);
      const segEnd = amp < 0 ? stop : this.#i + amp;
      if (segEnd > i) {
        const ns = skipSpace(text, i);
        this.#appendText(b, normalizeNewlines(text.slice(i, segEnd)), ns < segEnd ? ns : -1);
        i = segEnd;
      }
      if (i < stop) {
        const e = entityAt(text, i);
        if (e.kind === 'bad') this.#fail(`${e.message} in <${b.name}>`, i);
        if (e.kind === 'none') this.#fail(`'&' in the text of <${b.name}> must be written &amp;`, i);
        this.#appendText(b, e.char, isXmlSpace(e.char) ? -1 : i);
        i += e.length;
      }
    }
    this.#i = stop;
  }

  /** Reads an attribute value whose first character is at `from`; leaves the cursor past the closing quote. */
  #attrValue(el: string, attr: string, from: number, quote: string): PolicyValue {
    const text = this.#text;
    if (text[from] === '@' && (text[from + 1] === '(' || text[from + 1] === '{')) {
      const r = scanExpression(text, from);
      if (!r.ok) this.#fail(this.#unclosed(`attribute '${attr}' of <${el}>`, r), from);
      if (text[r.end] !== quote) {
        this.#fail(`attribute '${attr}' of <${el}>: expected the closing ${quote} right after the expression`, r.end);
      }
      this.#i = r.end + 1;
      return { value: decodeExpression(text.slice(from, r.end)), pos: this.#locate(from) };
    }
    let value = '';
    let i = from;
    let seg = from;
    for (;;) {
      if (i >= text.length) this.#fail(`the value of attribute '${attr}' of <${el}> is never closed (missing ${quote})`, from - 1);
      const c = text[i];
      if (c === quote) break;
      if (c === '<') this.#fail(`'<' in the value of attribute '${attr}' of <${el}> (write &lt;, or close the quote opened before)`, i);
      if (c === '&') {
        const e = entityAt(text, i);
        if (e.kind === 'bad') this.#fail(`${e.message} in attribute '${attr}' of <${el}>`, i);
        if (e.kind === 'none') this.#fail(`'&' in attribute '${attr}' of <${el}> must be written &amp;`, i);
        value += normalizeNewlines(text.slice(seg, i)) + e.char;
        i += e.length;
        seg = i;
        continue;
      }
      i++;
    }
    value += normalizeNewlines(text.slice(seg, i));
    this.#i = i + 1;
    return { value, pos: this.#locate(from) };
  }

  /** The message for an expression that never closes, pointing inside it when a literal is the cause. */
  #unclosed(where: string, r: Extract<ScanResult, { ok: false }>): string {
    const at = this.#locate(r.at);
    switch (r.open) {
      case 'expression':
        return `the expression in ${where} is never closed (missing '${r.missing}' for the '${this.#text[r.at] === '@' ? this.#text.slice(r.at, r.at + 2) : '{'}' at ${at.line}:${at.col})`;
      case 'string':
        return `the expression in ${where} is never closed: the string literal at ${at.line}:${at.col} is not terminated`;
      case 'char':
        return `the expression in ${where} is never closed: the character literal at ${at.line}:${at.col} is not terminated`;
      case 'comment':
        return `the expression in ${where} is never closed: the comment at ${at.line}:${at.col} is not terminated`;
    }
  }
}
