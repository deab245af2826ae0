/**
 * @module
 * Errors the simulator answers with, always rendered in OpenAI's error shape
 * `{"error":{"message","type","code","param"}}` so clients and the gateway parse them as they
 * would a real backend's.
 */

export interface OpenAiErrorBody {
  error: { message: string; type: string; code: string | null; param: string | null };
}

export interface SimulatorErrorInit {
  type?: string;
  code?: string | null;
  param?: string | null;
  headers?: Record<string, string>;
}

/** Thrown by request handlers; the server renders it with its status and extra headers. */
export class SimulatorHttpError extends Error {
  readonly status: number;
  readonly type: string;
  readonly code: string | null;
  readonly param: string | null;
  readonly headers: Record<string, string>;

  constructor(status: number, message: string, init: SimulatorErrorInit = {}) {
    super(message);
    this.name = 'SimulatorHttpError';
    this.status = status;
    this.type = init.type ?? defaultErrorType(status);
    this.code = init.code === undefined ? String(status) : init.code;
    this.param = init.param ?? null;
    this.headers = init.headers ?? {};
  }

  toBody(): OpenAiErrorBody {
    return { error: { message: this.message, type: this.type, code: this.code, param: this.param } };
  }
}

function defaultErrorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 429) return 'rate_limit_exceeded';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/** A 400 about one request field, the most common error a client sees. */
export function invalidParam(param: string, message: string): SimulatorHttpError {
  return new SimulatorHttpError(400, message, { param, code: 'invalid_value' });
}
