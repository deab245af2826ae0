/**
 * Helpers shared by the policy-document reader tests: the seeds' XML blocks, a position-free view
 * of an element tree, and an assertion on a PolicyDocError's position.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { PolicyDocError, type PolicyElement } from '../../src/policy-docs/element.ts';

const SEEDS = new URL('../fixtures/seeds/', import.meta.url);

/** Every ```xml block of every seed document, with where it came from. */
export function seedBlocks(): { file: string; index: number; xml: string }[] {
  const out: { file: string; index: number; xml: string }[] = [];
  for (const file of readdirSync(SEEDS).filter((f) => f.endsWith('.txt')).sort()) {
    const text = readFileSync(new URL(file, SEEDS), 'utf8');
    let index = 0;
    for (const m of text.matchAll(/```xml\r?\n([\s\S]*?)```/g)) out.push({ file, index: index++, xml: m[1]! });
  }
  return out;
}

/** The one seed block containing `text`. */
export function seedBlock(containing: string): string {
  const found = seedBlocks().filter((b) => b.xml.includes(containing));
  assert.equal(found.length, 1, `expected one seed block containing ${containing}`);
  return found[0]!.xml;
}

/** The tree without positions, for comparing documents written differently. */
export function shape(el: PolicyElement): unknown {
  return {
    name: el.name,
    attrs: Object.fromEntries([...el.attrs].map(([k, v]) => [k, v.value])),
    text: el.text?.value ?? null,
    children: el.children.map(shape),
  };
}

/** `fn` throws a PolicyDocError at line:col whose message matches. */
export function throwsAt(fn: () => unknown, line: number, col: number, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof PolicyDocError, `expected a PolicyDocError, got ${String(err)}`);
    assert.deepEqual({ line: err.pos.line, col: err.pos.col }, { line, col }, err.formatted);
    assert.match(err.message, message);
    return true;
  });
}
