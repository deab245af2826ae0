/**
 * The `exists-action` + `<value>` shape shared by set-header, set-query-parameter and the
 * set-header inside send-request. In YAML a single `value` attribute may stand for one `<value>`.
 * @module
 */
import { ElementReader } from '../../policy-docs/reader.ts';
import type { Dyn } from '../../policy-docs/values.ts';

export type ExistsAction = 'override' | 'skip' | 'append' | 'delete';

export interface ValueList {
  readonly action: ExistsAction;
  readonly values: readonly Dyn<string>[];
}

export function readValueList(r: ElementReader): ValueList {
  const action = r.oneOf('exists-action', ['override', 'skip', 'append', 'delete'] as const, 'override') ?? 'override';
  const values: Dyn<string>[] = [];
  const attrValue = r.string('value');
  if (attrValue !== undefined) values.push(attrValue);
  for (const child of r.children(['value'])) {
    const v = new ElementReader(child);
    v.children([]);
    v.done();
    values.push(v.text() ?? (() => ''));
  }
  if (action !== 'delete' && values.length === 0) throw r.fail(null, 'needs a <value> (or exists-action="delete")');
  return { action, values };
}
