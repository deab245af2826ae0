/**
 * Collecting load problems instead of stopping at the first, so `tollgate validate` (and a refused
 * start) lists every mistake of a document in one run. Compiling is synchronous, so the active
 * collector is a module-level slot set for the duration of {@link collectProblems}; code that can
 * carry on past a problem (an unknown attribute, an expression that does not compile, a bad child
 * element) calls {@link report}, which throws as before when nobody collects.
 * @module
 */
import { PolicyDocError } from './element.ts';

let sink: Map<string, PolicyDocError> | null = null;

/** Records `err` when problems are being collected (the same problem once), else throws it. */
export function report(err: PolicyDocError): void {
  if (sink === null) throw err;
  const key = err.formatted;
  if (!sink.has(key)) sink.set(key, err);
}

/** True inside {@link collectProblems}: a caller may then continue past a problem it reported. */
export function collecting(): boolean {
  return sink !== null;
}

/**
 * Runs `fn`, collecting every problem it reports; a PolicyDocError it throws is one more problem.
 * Nested calls share the outer collection. Problems come back in the order found.
 */
export function collectProblems<T>(fn: () => T): { value: T | undefined; problems: PolicyDocError[] } {
  if (sink !== null) return { value: fn(), problems: [] };
  const mine = new Map<string, PolicyDocError>();
  sink = mine;
  let value: T | undefined;
  try {
    value = fn();
  } catch (err) {
    if (!(err instanceof PolicyDocError)) throw err;
    if (!mine.has(err.formatted)) mine.set(err.formatted, err);
  } finally {
    sink = null;
  }
  return { value, problems: [...mine.values()] };
}

/** A document with several problems: `message` and `pos` are the first one's, `problems` all of them. */
export class PolicyDocErrors extends PolicyDocError {
  readonly problems: readonly PolicyDocError[];

  constructor(problems: readonly PolicyDocError[]) {
    const first = problems[0] as PolicyDocError;
    super(first.message, first.pos);
    this.problems = problems;
  }
}

/** Every problem an error stands for (one, or a {@link PolicyDocErrors}' list). */
export function problemsOf(err: PolicyDocError): readonly PolicyDocError[] {
  return err instanceof PolicyDocErrors ? err.problems : [err];
}
