/**
 * A response kept in a variable by `send-request` (APIM's `IResponse`), readable from expressions
 * as `((IResponse)context.Variables["x"]).StatusCode`, `.Headers`, `.Body.As<JObject>()`, and usable
 * by `return-response response-variable-name`.
 * @module
 */
import type { GatewayResponse } from '../../core/context.ts';

export class StoredResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string | string[]>>;
  readonly body: Buffer;

  constructor(statusCode: number, headers: Record<string, string | string[]>, body: Buffer) {
    this.statusCode = statusCode;
    this.headers = headers;
    this.body = body;
  }

  toGatewayResponse(): GatewayResponse {
    const headers = { ...this.headers };
    delete headers['content-length'];
    return { status: this.statusCode, headers, body: { kind: 'buffer', data: this.body } };
  }
}
