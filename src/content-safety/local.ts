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
import { findPii, redactPii, type PiiType } from './pii.ts';

export type PiiAction = 'redact' | 'block' | 'off';

export interface LocalEngineConfig {
  readonly pii: { readonly types: readonly PiiType[]; readonly action: PiiAction };
  readonly blocklists: Readonly<Record<string, readonly string[]>>;
}

export class LocalEngine implements Engine {
  readonly piiAction: PiiAction;
  readonly #piiTypes: ReadonlySet<PiiType>;
  readonly #blocklists: ReadonlyMap<string, Blocklist>;

  constructor(cfg: LocalEngineConfig) {
    this.piiAction = cfg.pii.action;
    this.#piiTypes = new Set(cfg.pii.types);
    this.#blocklists = new Map(Object.entries(cfg.blocklists).map(([name, terms]) => [name, new Blocklist(name, terms)]));
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
      const found = findPii(p.text, this.#piiTypes);
      if (found.length === 0) continue;
      count += found.length;
      p.replace(redactPii(p.text, found));
    }
    return count;
  }

  checkPrompt(pieces: readonly TextPiece[], rules: Rules): Promise<Finding | null> {
    return Promise.resolve(this.checkPromptNow(pieces, rules));
  }

  /** `checkPrompt` without the promise: the engine runs in process and never waits. */
  checkPromptNow(pieces: readonly TextPiece[], rules: Rules): Finding | null {
    for (const p of pieces) {
      const f = this.#checkText(p.text, rules, rules.shieldPrompt && !p.trusted, p.user);
      if (f !== null) return f;
    }
    return null;
  }

  checkOutput(text: string, rules: Rules): Promise<Finding | null> {
    return Promise.resolve(this.#checkText(text, rules, false, false));
  }

  #checkText(text: string, rules: Rules, shield: boolean, user: boolean): Finding | null {
    if (rules.blocklists.length > 0) {
      const folded = foldText(text);
      for (const name of rules.blocklists) if (this.#blocklists.get(name)?.matches(folded) === true) return { kind: 'blocklist', blocklist: name };
    }
    if (shield && detectInjection(text) !== undefined) return { kind: 'attack', source: user ? 'user prompt' : 'documents' };
    if (this.piiAction === 'block') {
      const first = findPii(text, this.#piiTypes)[0];
      if (first !== undefined) return { kind: 'pii', type: first.type };
    }
    return null;
  }
}
