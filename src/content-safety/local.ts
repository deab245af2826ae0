/**
 * The built-in local engine, for gateways without Azure AI Content Safety: prompt-injection
 * heuristics (what `shield-prompt="true"` asks for), blocklists defined in the configuration, and
 * personal data (e-mail, phone, card, IBAN, IP), which a policy can block or redact. It runs in
 * process, with no network call: a check costs microseconds (docs/content-safety.md has numbers).
 * It does not classify harm categories (Hate, SelfHarm, Sexual, Violence): a policy that asks for
 * categories must name an Azure AI Content Safety backend (a load error says so).
 * @module
 */
import { Blocklist, type Engine, type Finding, type Rules, type TextPiece } from './engine.ts';
import { detectInjection } from './injection.ts';
import { foldText } from './normalise.ts';
import { ScanMemo, type Scan } from './memo.ts';
import { findPii, redactPii, type PiiMatch, type PiiType } from './pii.ts';

export type PiiAction = 'redact' | 'block' | 'off';

export interface LocalEngineConfig {
  readonly pii: { readonly types: readonly PiiType[]; readonly action: PiiAction };
  readonly blocklists: Readonly<Record<string, readonly string[]>>;
  /** Characters of prompt text remembered with what was found in it (./memo.ts); 0: none. */
  readonly memoChars: number;
}

export class LocalEngine implements Engine {
  readonly piiAction: PiiAction;
  readonly #piiTypes: ReadonlySet<PiiType>;
  readonly #blocklists: ReadonlyMap<string, Blocklist>;
  /** Prompt texts seen before: a conversation's system prompt and earlier turns come back with every request. */
  readonly memo: ScanMemo;

  constructor(cfg: LocalEngineConfig) {
    this.piiAction = cfg.pii.action;
    this.#piiTypes = new Set(cfg.pii.types);
    this.#blocklists = new Map(Object.entries(cfg.blocklists).map(([name, terms]) => [name, new Blocklist(name, terms)]));
    this.memo = new ScanMemo(cfg.memoChars);
  }

  hasBlocklist(name: string): boolean {
    return this.#blocklists.has(name);
  }

  /**
   * Replaces personal data in each piece (through `replace`); returns how many values were
   * redacted. Only with `pii.action: redact`.
   */
  redact(pieces: ReadonlyArray<{ readonly text: string; replace(text: string): void }>): number {
    if (this.piiAction !== 'redact') return 0;
    let count = 0;
    for (const p of pieces) {
      const text = p.text;
      const e = this.memo.entry(text);
      const found = this.#pii(text, e);
      if (found.length === 0) continue;
      count += found.length;
      p.replace(e === null ? redactPii(text, found) : this.#redacted(text, e, found));
    }
    return count;
  }

  /** The redacted form kept in the memo entry: the check that follows looks up the same string. */
  #redacted(text: string, e: Scan, found: readonly PiiMatch[]): string {
    if (e.redacted === undefined) {
      e.redacted = redactPii(text, found);
      this.memo.hold(e, e.redacted.length);
    }
    return e.redacted;
  }

  checkPrompt(pieces: readonly TextPiece[], rules: Rules): Promise<Finding | null> {
    return Promise.resolve(this.checkPromptNow(pieces, rules));
  }

  /** `checkPrompt` without the promise: the engine runs in process and never waits. */
  checkPromptNow(pieces: readonly TextPiece[], rules: Rules): Finding | null {
    const blocking = rules.blocklists.length > 0 || this.piiAction === 'block';
    for (const p of pieces) {
      const shield = rules.shieldPrompt && !p.trusted;
      // A piece no check reads (a system message when only shield-prompt is asked) is not looked up.
      if (!shield && !blocking) continue;
      const f = this.#checkText(p.text, rules, shield, p.user, this.memo.entry(p.text));
      if (f !== null) return f;
    }
    return null;
  }

  checkOutput(text: string, rules: Rules): Promise<Finding | null> {
    // A completion's text is new every time: not remembered.
    return Promise.resolve(this.#checkText(text, rules, false, false, null));
  }

  /**
   * The checks of one text; what they find is remembered in `e` (the text's memo entry, or null),
   * so the same text is folded, searched for attacks and for personal data once.
   */
  #checkText(text: string, rules: Rules, shield: boolean, user: boolean, e: Scan | null): Finding | null {
    if (rules.blocklists.length > 0) {
      const folded = e === null ? foldText(text) : this.#folded(text, e);
      for (const name of rules.blocklists) if (this.#blocklists.get(name)?.matches(folded) === true) return { kind: 'blocklist', blocklist: name };
    }
    if (shield && (e === null ? detectInjection(text) !== undefined : (e.attack ??= detectInjection(text) !== undefined))) {
      return { kind: 'attack', source: user ? 'user prompt' : 'documents' };
    }
    if (this.piiAction === 'block') {
      const first = this.#pii(text, e)[0];
      if (first !== undefined) return { kind: 'pii', type: first.type };
    }
    return null;
  }

  /** The text's personal data, found once per memo entry. */
  #pii(text: string, e: Scan | null): readonly PiiMatch[] {
    return e === null ? findPii(text, this.#piiTypes) : (e.pii ??= findPii(text, this.#piiTypes));
  }

  #folded(text: string, e: Scan): string {
    if (e.folded === undefined) {
      e.folded = foldText(text);
      this.memo.hold(e, e.folded.length);
    }
    return e.folded;
  }
}
