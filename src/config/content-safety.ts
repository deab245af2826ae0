/**
 * The `contentSafety:` section: defaults of the `llm-content-safety` policy (timeout, fail mode)
 * and the built-in local engines a policy can name in `backend-id` instead of an Azure AI Content
 * Safety backend (docs/content-safety.md).
 * @module
 */
import { z } from 'zod';
import { PII_TYPES } from '../content-safety/pii.ts';

export const localEngineSchema = z.strictObject({
  /** The only engine type today: in-process heuristics, no network call. */
  type: z.literal('local'),
  /** Personal data found in prompts: `redact` (the backend gets placeholders), `block` (403), `off`. */
  pii: z
    .strictObject({
      action: z.enum(['redact', 'block', 'off']).default('redact'),
      types: z.array(z.enum(PII_TYPES)).min(1).default([...PII_TYPES]),
    })
    .default({ action: 'redact', types: [...PII_TYPES] }),
  /** Blocklists the policy's `<blocklists><id>` name: terms matched as whole words, case and look-alikes folded. */
  blocklists: z.record(z.string().min(1), z.array(z.string().min(1).max(200)).max(10_000)).default({}),
  /**
   * Prompt texts remembered with what the engine found in them, up to this many characters in all
   * (about 2 bytes each; the redacted and folded forms count, and 64 per entry); 0 turns it off. A system
   * prompt and a conversation's earlier turns, re-sent with every request, are scanned once.
   */
  memoChars: z.number().int().min(0).max(64_000_000).default(1_000_000),
});

export const contentSafetySchema = z
  .strictObject({
    /** Each content-safety call (analyze, shieldPrompt); longer is the service being down. */
    timeoutMs: z.number().int().positive().max(60_000).default(3000),
    /** The service down (timeout, 5xx, circuit open): `closed` refuses the request (503), `open` lets it through unchecked. A policy's `fail-mode` wins. */
    failMode: z.enum(['open', 'closed']).default('closed'),
    /** Local engines by id; an id must not also be a backend's. */
    engines: z.record(z.string().min(1), localEngineSchema).default({}),
  })
  .default({ timeoutMs: 3000, failMode: 'closed', engines: {} });

export type ContentSafetyConfig = z.output<typeof contentSafetySchema>;
