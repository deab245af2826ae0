/**
 * Attribute schemas of the AI-gateway policies whose behaviour lands in later releases (content
 * safety, content validation). They are parsed and validated
 * now, so a document that uses them loads (and a typo in one is a load error today, not later).
 * @module
 */
import type { PolicySection } from '../../core/pipeline.ts';

export type AttrKind = 'string' | 'int' | 'bool' | 'number' | { readonly oneOf: readonly string[] };

export interface AttrSpec {
  readonly kind: AttrKind;
  readonly required?: boolean;
  /** Policy expressions allowed (`@(...)`). */
  readonly expr?: boolean;
  readonly min?: number;
  readonly max?: number;
  /** Must name a configured backend / logger. */
  readonly ref?: 'backend' | 'logger';
}

export interface DeferredSpec {
  readonly names: readonly string[];
  readonly sections: readonly PolicySection[];
  readonly attrs: Readonly<Record<string, AttrSpec>>;
  /** Allowed child elements and their attributes (children of children are not checked). */
  readonly children?: Readonly<Record<string, Readonly<Record<string, AttrSpec>>>>;
  readonly text?: boolean;
  /** What the notice says will enforce it. */
  readonly arrives: string;
}

const str = (o: Partial<AttrSpec> = {}): AttrSpec => ({ kind: 'string', ...o });
const bool = (o: Partial<AttrSpec> = {}): AttrSpec => ({ kind: 'bool', ...o });


export const DEFERRED: readonly DeferredSpec[] = [
  {
    names: ['llm-content-safety'],
    sections: ['inbound'],
    attrs: { 'backend-id': str({ required: true, ref: 'backend' }), 'shield-prompt': bool(), 'enforce-on-completions': bool() },
    children: { categories: { 'output-type': { kind: { oneOf: ['FourSeverityLevels', 'EightSeverityLevels'] } } }, blocklists: {} },
    arrives: 'content safety',
  },
];
