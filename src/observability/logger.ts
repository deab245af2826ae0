/**
 * One structured logger (pino, JSON to stdout). Nothing logs config values: only ids, codes and
 * counts; error causes are reduced to code and message. Whatever still reaches a line (a trace
 * policy's message, an error cause quoting a URL) passes the secret redactor on its way out: every
 * line, at every level, of every logger made here.
 * @module
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';
import { redactSecrets } from '../secrets/redactor.ts';
import { ExpressionRuntimeError } from '../expressions/errors.ts';

export type { Logger };

export function createLogger(level: LevelWithSilent, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'tollgate' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // The serialized line, so a secret is found however a field quoted it (JSON-escaped included).
      hooks: { streamWrite: redactSecrets },
    },
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

/**
 * A cause as a log field: its code and message, never request/response objects or headers.
 * A policy expression's run-time error is described by its C# exception type and position only:
 * its message may quote a run-time value (`String '...' was not recognized as a valid Boolean`),
 * which may be derived from a secret in a way no redaction recognises (docs/security.md).
 */
export function describeCause(err: unknown): { code?: string; message: string } | undefined {
  if (err === undefined || err === null) return undefined;
  // Sandbox limits (StepBudgetExceeded ...) quote no value; C# exceptions (System.*) may.
  if (err instanceof ExpressionRuntimeError && err.exception.includes('.')) {
    const at = err.pos === null ? '' : ` (at ${err.pos.file}:${err.pos.line}:${err.pos.col})`;
    return { code: err.code, message: `${err.exception}${at}; the message is not logged (it may quote run-time values)` };
  }
  if (typeof err !== 'object') return { message: typeof err === 'string' ? err : 'non-error value thrown' };
  const e = err as { code?: unknown; message?: unknown; cause?: unknown };
  const code = typeof e.code === 'string' ? e.code : undefined;
  const message = typeof e.message === 'string' ? e.message : 'error';
  return code === undefined ? { message } : { code, message };
}
