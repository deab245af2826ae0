/**
 * The tree every policy document becomes, whether written in APIM's XML or in YAML: elements with
 * attributes, child elements and text, each carrying its source position so that every load error
 * reads `file:line:col: message`.
 * @module
 */

export interface SourcePos {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly col: number;
}

/** An attribute value or an element's text, exactly as written (entities decoded, `{{named values}}` already substituted). */
export interface PolicyValue {
  readonly value: string;
  readonly pos: SourcePos;
  /** The named values substituted into this value, so that errors about it can name them. */
  readonly namedValues?: readonly string[];
}

export interface PolicyElement {
  /** Element name as written, e.g. `set-header`, `inbound`, `when`. */
  readonly name: string;
  readonly attrs: ReadonlyMap<string, PolicyValue>;
  readonly children: readonly PolicyElement[];
  /**
   * Text content when the element has any non-whitespace text (e.g. `<value>@(...)</value>`,
   * `<set-body>{"a":1}</set-body>`), trimmed of surrounding whitespace; otherwise null.
   */
  readonly text: PolicyValue | null;
  readonly pos: SourcePos;
}

/** A load-time problem in a policy document, at a position. */
export class PolicyDocError extends Error {
  readonly code = 'GW_ERR_POLICY_INVALID';
  readonly pos: SourcePos;

  constructor(message: string, pos: SourcePos) {
    super(message);
    this.name = 'PolicyDocError';
    this.pos = pos;
  }

  /** `file:line:col: message` */
  get formatted(): string {
    return `${this.pos.file}:${this.pos.line}:${this.pos.col}: ${this.message}`;
  }
}
