/**
 * Redaction of secret named values, as a property of the value rather than of the call site.
 *
 * Every secret a configuration declares is registered here when the configuration is loaded
 * (`Secrets.add`), and every sink that prints (the pino logger at every level, client error bodies,
 * the admin listener's `/status` and `/metrics`, `tollgate validate` and the CLI's last-resort error
 * line) passes its text through {@link redactSecrets}. A registered value is recognised in every
 * form printing can give it:
 *
 * - as configured, and XML-decoded (a value holding `&amp;` is read as `&` when substituted into a
 *   policy document);
 * - with any of its characters percent-encoded (`%2F` or `%2f`, `+` for a space), XML-escaped
 *   (`&amp;`, `&quot;`, `&#34;`, `&#x22;`), or JSON-escaped once or twice (`\"`, `\\\"`, `\u0022`):
 *   each character may take any of these forms independently, so mixtures (a JSON log line quoting
 *   an XML excerpt) are covered;
 * - base64 (standard and URL-safe), at any of the three byte alignments, so a secret inside a
 *   longer base64 text (a Basic credential `user:secret`) is found too.
 *
 * The registry is process-wide on purpose: loggers and printers are created in many places (tests
 * inject their own), and a secret must be scrubbed from all of them, including lines an old
 * configuration still writes while it drains after a reload.
 *
 * Characters that no encoder changes (letters, digits, `-._~`) are never matched in an encoded
 * form: a secret whose every letter was written as `&#97;` is not recognised. Transformations that
 * are not encodings (a substring, upper case, a hash) cannot be recognised either; messages about
 * values computed at run time therefore do not quote them (see docs/security.md).
 * @module
 */

const REPLACEMENT = '[REDACTED]';
/** Bounds the registry (a process that reloads forever with fresh secrets); oldest go first. */
const MAX_SECRETS = 4096;
/** Beyond this length a secret is matched in its whole-string forms only (no per-character pattern). */
const MAX_PATTERN_LENGTH = 2048;
/** Shortest base64 fragment searched for: shorter ones would match ordinary text. */
const MIN_BASE64_FRAGMENT = 6;

interface Matcher {
  readonly length: number;
  /** Substrings every encoded form contains; when the text has none of them, the regex is skipped. */
  readonly anchors: readonly string[];
  readonly pattern: RegExp;
}

interface Compiled {
  /** Longest secret first. */
  readonly matchers: readonly Matcher[];
  /**
   * Every non-empty anchor of every secret in one alternation: one regex scan rules out text that
   * holds no secret (~10x faster than an `includes` per anchor with 32 secrets), or null when a
   * secret has no anchor and every text must be checked.
   */
  readonly prefilter: RegExp | null;
}

/** A set of secret values and the patterns that find them. */
export class Redactor {
  readonly #values = new Set<string>();
  #compiledCache: Compiled | null = null;

  /** Registers a secret; values shorter than 4 characters are ignored (they are refused at load). */
  add(value: string): void {
    if (value.length < 4 || this.#values.has(value)) return;
    this.#values.add(value);
    if (this.#values.size > MAX_SECRETS) {
      const oldest = this.#values.values().next().value;
      if (oldest !== undefined) this.#values.delete(oldest);
    }
    this.#compiledCache = null;
  }

  has(value: string): boolean {
    return this.#values.has(value);
  }

  get size(): number {
    return this.#values.size;
  }

  /** True when `text` holds a registered secret in any recognised form. */
  test(text: string): boolean {
    const c = this.#compiled();
    if (c.prefilter !== null && !c.prefilter.test(text)) return false;
    for (const m of c.matchers) {
      if (!m.anchors.some((a) => text.includes(a))) continue;
      m.pattern.lastIndex = 0;
      if (m.pattern.test(text)) return true;
    }
    return false;
  }

  /** `text` with every recognised form of every registered secret replaced by `[REDACTED]`. */
  redact(text: string): string {
    const c = this.#compiled();
    if (c.prefilter !== null && !c.prefilter.test(text)) return text;
    let out = text;
    for (const m of c.matchers) {
      if (!m.anchors.some((a) => out.includes(a))) continue;
      m.pattern.lastIndex = 0;
      out = out.replace(m.pattern, REPLACEMENT);
    }
    return out;
  }

  #compiled(): Compiled {
    if (this.#compiledCache !== null) return this.#compiledCache;
    // Longest first: a secret that contains a shorter one is replaced whole.
    const values = [...this.#values].sort((a, b) => b.length - a.length);
    const matchers = values.map(matcherFor);
    const anchors = matchers.flatMap((m) => m.anchors);
    const prefilter = anchors.includes('') ? null : new RegExp(anchors.map(escapeRegExp).join('|'));
    this.#compiledCache = { matchers, prefilter };
    return this.#compiledCache;
  }
}

/** The process-wide registry every loaded configuration adds its secrets to. */
export const secretRegistry = new Redactor();

/** Replaces every registered secret, in every recognised form, in `text`. */
export function redactSecrets(text: string): string {
  return secretRegistry.size === 0 ? text : secretRegistry.redact(text);
}

/** True when `text` holds a registered secret (in any recognised form). */
export function containsSecret(text: string): boolean {
  return secretRegistry.size !== 0 && secretRegistry.test(text);
}

function matcherFor(secret: string): Matcher {
  const bases = new Set([secret, xmlDecode(secret)]);
  const alternatives: string[] = [];
  const anchors = new Set<string>();
  for (const base of bases) {
    if (base.length <= MAX_PATTERN_LENGTH) {
      alternatives.push([...base].map(charPattern).join(''));
      anchors.add(anchorOf(base));
    } else {
      // Whole-string forms only: a per-character pattern of a huge value costs more than it finds.
      for (const form of [base, JSON.stringify(base).slice(1, -1), xmlEscape(base), encodeURIComponent(base)]) {
        alternatives.push(escapeRegExp(form));
        anchors.add(form.slice(0, 64));
      }
    }
    for (const fragment of base64Fragments(base)) {
      alternatives.push(escapeRegExp(fragment));
      anchors.add(fragment);
    }
  }
  // Longest alternative first, so that a form is replaced whole rather than a shorter one inside it.
  alternatives.sort((a, b) => b.length - a.length);
  return { length: secret.length, anchors: [...anchors], pattern: new RegExp(alternatives.join('|'), 'g') };
}

const UNRESERVED = /^[A-Za-z0-9._~-]$/;

/**
 * The longest run of characters no encoder changes: every encoded form contains it literally, so
 * `includes` (fast) rules most text out before the pattern runs. A secret made only of characters
 * that encoders change gets the empty anchor (always checked).
 */
function anchorOf(base: string): string {
  let best = '';
  let run = '';
  for (const c of base) {
    if (UNRESERVED.test(c)) {
      run += c;
      if (run.length > best.length) best = run;
    } else run = '';
  }
  return best;
}

const XML_NAMED: Readonly<Record<string, string>> = { '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' };
const JSON_SHORT: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', '\n': 'n', '\r': 'r', '\t': 't', '\b': 'b', '\f': 'f', '/': '/' };

/** The forms one character may take: itself, percent-encoded, an XML entity, JSON-escaped (once or twice). */
function charPattern(c: string): string {
  if (UNRESERVED.test(c)) return escapeRegExp(c);
  const forms = [escapeRegExp(c)];
  const cp = c.codePointAt(0) ?? 0;
  forms.push([...Buffer.from(c, 'utf8')].map((b) => `%${hexCI(b, 2)}`).join(''));
  if (c === ' ') forms.push('\\+');
  // The URL parser turns `\` into `/` in the path of http(s) URLs.
  if (c === '\\') forms.push('/');
  const named = XML_NAMED[c];
  if (named !== undefined) forms.push(`&${named};`, `&amp;${named};`);
  forms.push(`&#0*${cp};`, `&#[xX]0*${hexCI(cp, 1)};`);
  const units = cp > 0xffff ? [c.charCodeAt(0), c.charCodeAt(1)] : [cp];
  forms.push(units.map((u) => `\\\\u${hexCI(u, 4)}`).join(''));
  forms.push(units.map((u) => `\\\\\\\\u${hexCI(u, 4)}`).join(''));
  const short = JSON_SHORT[c];
  if (short !== undefined) {
    forms.push(`\\\\${escapeRegExp(short)}`);
    // Twice escaped: `"` → `\"` → `\\\"`, `\` → `\\` → `\\\\`, newline → `\n` → `\\n`.
    forms.push(c === '"' || c === '\\' ? `\\\\\\\\\\\\${escapeRegExp(short)}` : `\\\\\\\\${escapeRegExp(short)}`);
  }
  return `(?:${forms.join('|')})`;
}

/** `n` as hex digits, each matching either case (`%2f` and `%2F`). */
function hexCI(n: number, width: number): string {
  return [...n.toString(16).padStart(width, '0')].map((d) => (/[a-f]/.test(d) ? `[${d}${d.toUpperCase()}]` : d)).join('');
}

/**
 * The parts of the secret's base64 encoding that do not depend on what surrounds it, at each of
 * the three byte alignments it can have inside a longer encoded text, standard and URL-safe.
 */
function base64Fragments(base: string): string[] {
  const bytes = Buffer.from(base, 'utf8');
  const out = new Set<string>();
  for (let k = 0; k < 3; k++) {
    const encoded = Buffer.concat([Buffer.alloc(k), bytes]).toString('base64');
    // Character j encodes bits [6j, 6j+6): it depends only on the secret when those bits lie in
    // bytes k .. k+len-1.
    const first = Math.ceil((8 * k) / 6);
    const last = Math.floor((8 * (k + bytes.length)) / 6) - 1;
    if (last - first + 1 < MIN_BASE64_FRAGMENT) continue;
    const fragment = encoded.slice(first, last + 1);
    out.add(fragment);
    out.add(fragment.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return [...out];
}

function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&${XML_NAMED[c] ?? ''};`);
}

/** The value as an XML reader would return it (predefined and numeric entities decoded). */
export function xmlDecode(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(?:#([0-9]{1,8})|#x([0-9A-Fa-f]{1,8})|(quot|apos|lt|gt|amp));/g, (m, dec?: string, hex?: string, name?: string) => {
    if (name !== undefined) return ({ quot: '"', apos: "'", lt: '<', gt: '>', amp: '&' } as Record<string, string>)[name] ?? m;
    const cp = dec !== undefined ? Number(dec) : Number.parseInt(hex ?? '', 16);
    return cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
  });
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
