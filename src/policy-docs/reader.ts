/**
 * Reads one policy element's attributes and children against its schema: required attributes,
 * allowed values, expression or constant, and no attribute or child the policy does not define
 * (a typo is a load error naming it, never silently ignored).
 * @module
 */
import { PolicyDocError, type PolicyElement, type PolicyValue } from './element.ts';
import { report } from './problems.ts';
import { asBool, asInt, asString, asAny, constant, type Dyn } from './values.ts';
import { asElement, closest, didYouMean } from '../util/did-you-mean.ts';

export class ElementReader {
  readonly el: PolicyElement;
  readonly #used = new Set<string>();

  constructor(el: PolicyElement) {
    this.el = el;
  }

  #what(name: string): string {
    return `<${this.el.name}> attribute "${name}"`;
  }

  /** The raw attribute, marking it as known. */
  raw(name: string): PolicyValue | undefined {
    this.#used.add(name);
    return this.el.attrs.get(name);
  }

  required(name: string): PolicyValue {
    const v = this.raw(name);
    if (v === undefined) {
      // A misspelt required attribute reads better as the misspelling than as a missing attribute.
      const typo = [...this.el.attrs].find(([n]) => !this.#used.has(n) && closest(n, [name]) === name);
      if (typo !== undefined) throw new PolicyDocError(`<${this.el.name}> has no attribute "${typo[0]}"; did you mean "${name}"?`, typo[1].pos);
      throw new PolicyDocError(`<${this.el.name}> needs the attribute "${name}"`, this.el.pos);
    }
    return v;
  }

  string(name: string, required: true): Dyn<string>;
  string(name: string, required?: false, fallback?: string): Dyn<string> | undefined;
  string(name: string, required = false, fallback?: string): Dyn<string> | undefined {
    const v = required ? this.required(name) : this.raw(name);
    if (v === undefined) return fallback === undefined ? undefined : constant(fallback);
    return asString(v, this.#what(name));
  }

  any(name: string, required = false): Dyn<unknown> | undefined {
    const v = required ? this.required(name) : this.raw(name);
    return v === undefined ? undefined : asAny(v, this.#what(name));
  }

  int(name: string, opts: { min: number; max: number; required?: boolean; fallback?: number }): Dyn<number> | undefined {
    const v = opts.required === true ? this.required(name) : this.raw(name);
    if (v === undefined) return opts.fallback === undefined ? undefined : constant(opts.fallback);
    return asInt(v, this.#what(name), opts.min, opts.max);
  }

  bool(name: string, fallback?: boolean, required = false): Dyn<boolean> | undefined {
    const v = required ? this.required(name) : this.raw(name);
    if (v === undefined) return fallback === undefined ? undefined : constant(fallback);
    return asBool(v, this.#what(name));
  }

  /** A constant attribute restricted to `values` (case-insensitive, as APIM accepts). */
  oneOf<T extends string>(name: string, values: readonly T[], fallback?: T, required = false): T | undefined {
    const v = required ? this.required(name) : this.raw(name);
    if (v === undefined) return fallback;
    const found = values.find((x) => x.toLowerCase() === v.value.trim().toLowerCase());
    if (found !== undefined) return found;
    report(new PolicyDocError(`${this.#what(name)} must be one of ${values.join(', ')}, got "${v.value}"${didYouMean(v.value.trim(), values)}`, v.pos));
    // Only reached while collecting problems: carry on with a valid value so later problems are found too.
    return fallback ?? values[0];
  }

  /** A constant (no expressions allowed) attribute. */
  literal(name: string, required = false): string | undefined {
    const v = required ? this.required(name) : this.raw(name);
    if (v === undefined) return undefined;
    if (/^\s*@[({]/.test(v.value)) report(new PolicyDocError(`${this.#what(name)} does not accept policy expressions`, v.pos));
    return v.value;
  }

  /** Text content as a value (constant or expression), or undefined. */
  text(): Dyn<string> | undefined {
    const t = this.el.text;
    return t === null ? undefined : asString(t, `<${this.el.name}> text`);
  }

  /** Children, checking every child's name is allowed (a disallowed one is reported and left out). */
  children(allowed: readonly string[]): readonly PolicyElement[] {
    let bad = false;
    for (const c of this.el.children) {
      if (!allowed.includes(c.name)) {
        bad = true;
        report(
          new PolicyDocError(
            allowed.length === 0
              ? `<${this.el.name}> takes no child elements, found <${c.name}>`
              : `<${this.el.name}> does not take <${c.name}>${didYouMean(c.name, allowed, asElement)}; allowed: ${allowed.map((a) => `<${a}>`).join(', ')}`,
            c.pos,
          ),
        );
      }
    }
    return bad ? this.el.children.filter((c) => allowed.includes(c.name)) : this.el.children;
  }

  noText(): void {
    if (this.el.text !== null) throw new PolicyDocError(`<${this.el.name}> takes no text`, this.el.text.pos);
  }

  /** A load error about attribute `attr` (at its position), or about the element when null. */
  fail(attr: string | null, message: string): PolicyDocError {
    const pos = (attr === null ? undefined : this.el.attrs.get(attr)?.pos) ?? this.el.pos;
    return new PolicyDocError(attr === null ? `<${this.el.name}> ${message}` : `<${this.el.name}> attribute "${attr}" ${message}`, pos);
  }

  /** Every attribute present must have been read by the policy's schema; each one that was not is reported. */
  done(): void {
    for (const [name, v] of this.el.attrs) {
      if (!this.#used.has(name)) report(new PolicyDocError(`<${this.el.name}> has no attribute "${name}"${didYouMean(name, this.#used)}`, v.pos));
    }
  }
}
