/**
 * Attribute schemas of the AI-gateway policies whose behaviour lands in later releases (token
 * limits, semantic cache, token metrics, loggers). They are parsed and validated
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
const int = (o: Partial<AttrSpec> = {}): AttrSpec => ({ kind: 'int', min: 0, ...o });
const bool = (o: Partial<AttrSpec> = {}): AttrSpec => ({ kind: 'bool', ...o });


const dimension = { name: str({ required: true }), value: str({ expr: true }) };

export const DEFERRED: readonly DeferredSpec[] = [
  {
    names: ['llm-emit-token-metric', 'azure-openai-emit-token-metric'],
    sections: ['inbound'],
    attrs: { namespace: str() },
    children: { dimension },
    arrives: 'token metrics',
  },
  {
    names: ['log-to-eventhub'],
    sections: ['inbound', 'backend', 'outbound', 'on-error'],
    attrs: { 'logger-id': str({ required: true, ref: 'logger' }), 'partition-id': str(), 'partition-key': str({ expr: true }) },
    text: true,
    arrives: 'usage loggers',
  },
  {
    names: ['validate-content'],
    sections: ['inbound', 'outbound', 'on-error'],
    attrs: {
      'unspecified-content-type-action': { kind: { oneOf: ['ignore', 'prevent', 'detect'] }, required: true },
      'max-size': int({ required: true, min: 0 }),
      'size-exceeded-action': { kind: { oneOf: ['ignore', 'prevent', 'detect'] }, required: true },
      'errors-variable-name': str(),
    },
    children: { content: { type: str(), 'validate-as': str(), 'schema-id': str(), 'schema-ref': str(), action: str(), 'allow-additional-properties': bool() } },
    arrives: 'content validation',
  },
];
