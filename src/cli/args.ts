/**
 * Command-line parsing shared by the `tollgate` commands: every command takes `--help`/`-h`, and
 * every usage mistake (unknown option, missing value, bad flag value) exits 2, as README's CLI
 * section says, instead of surfacing as a runtime failure (1).
 * @module
 */
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';

/** A command line that cannot be run as written: exit status 2, with the usage. */
export class UsageError extends Error {}

/** `--help` was given: the usage is printed and the command exits 0 without doing anything. */
export class HelpRequested extends Error {}

/** `parseArgs` (strict, no positionals) plus `--help`; throws UsageError or HelpRequested. */
export function parseCommandArgs<T extends ParseArgsOptionsConfig>(args: string[], options: T): ReturnType<typeof parseArgs<{ args: string[]; options: T; strict: true }>>['values'] {
  const withHelp = { ...options, help: { type: 'boolean', short: 'h' } } satisfies ParseArgsOptionsConfig;
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ args, options: withHelp, strict: true }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values['help'] === true) throw new HelpRequested('help');
  return values as ReturnType<typeof parseArgs<{ args: string[]; options: T; strict: true }>>['values'];
}
