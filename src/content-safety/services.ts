/**
 * What `llm-content-safety` policies share, built once per configuration: the defaults of the
 * `contentSafety` section and its local engines.
 * @module
 */
import type { ContentSafetyConfig } from '../config/content-safety.ts';
import { LocalEngine } from './local.ts';

export interface ContentSafetyServices {
  readonly timeoutMs: number;
  readonly failMode: 'open' | 'closed';
  readonly engines: ReadonlyMap<string, LocalEngine>;
}

export function createContentSafety(cfg: ContentSafetyConfig): ContentSafetyServices {
  return {
    timeoutMs: cfg.timeoutMs,
    failMode: cfg.failMode,
    engines: new Map(Object.entries(cfg.engines).map(([id, e]) => [id, new LocalEngine(e)])),
  };
}
