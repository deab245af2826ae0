/**
 * Coded gateway errors and their one renderer.
 *
 * Every error a client can see is a `GatewayError` with a stable `GW_ERR_*` code (listed in
 * docs/errors.md). Codes are the contract; messages may improve. The renderer speaks the
 * OpenAI dialect (`{"error":{message,type,code,param}}`), which both the OpenAI and Azure
 * OpenAI clients parse, and always carries the request id.
 * @module
 */
import { redactSecrets } from '../secrets/redactor.ts';

export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'server_error'
  | 'timeout_error';

interface ErrorSpec {
  readonly status: number;
  readonly type: ErrorType;
}

/** The catalogue: code → HTTP status and OpenAI error type. docs/errors.md mirrors it. */
export const ERROR_CODES = {
  GW_ERR_AUTH_MISSING_KEY: { status: 401, type: 'authentication_error' },
  GW_ERR_AUTH_INVALID_KEY: { status: 401, type: 'authentication_error' },
  GW_ERR_AUTH_KEY_NOT_IN_SCOPE: { status: 401, type: 'authentication_error' },
  GW_ERR_AUTH_SUBSCRIPTION_INACTIVE: { status: 403, type: 'permission_error' },
  GW_ERR_ADMIN_UNAUTHORIZED: { status: 401, type: 'authentication_error' },
  GW_ERR_ROUTE_NOT_FOUND: { status: 404, type: 'not_found_error' },
  GW_ERR_DEPLOYMENT_NOT_FOUND: { status: 404, type: 'not_found_error' },
  GW_ERR_METHOD_NOT_ALLOWED: { status: 405, type: 'invalid_request_error' },
  GW_ERR_INVALID_JSON: { status: 400, type: 'invalid_request_error' },
  GW_ERR_INVALID_REQUEST: { status: 400, type: 'invalid_request_error' },
  GW_ERR_INVALID_PATH: { status: 400, type: 'invalid_request_error' },
  GW_ERR_BODY_TOO_LARGE: { status: 413, type: 'invalid_request_error' },
  GW_ERR_BODY_INCOMPLETE: { status: 400, type: 'invalid_request_error' },
  GW_ERR_BACKEND_UNREACHABLE: { status: 502, type: 'server_error' },
  GW_ERR_BACKEND_BAD_RESPONSE: { status: 502, type: 'server_error' },
  GW_ERR_BACKEND_TIMEOUT: { status: 504, type: 'timeout_error' },
  GW_ERR_BACKEND_STREAM_ABORTED: { status: 502, type: 'server_error' },
  GW_ERR_STREAM_DURATION_EXCEEDED: { status: 504, type: 'timeout_error' },
  GW_ERR_BACKEND_UNAVAILABLE: { status: 503, type: 'server_error' },
  GW_ERR_BACKEND_OVERLOADED: { status: 503, type: 'server_error' },
  GW_ERR_BACKEND_NOT_CONFIGURED: { status: 500, type: 'server_error' },
  GW_ERR_BACKEND_FORBIDDEN_TARGET: { status: 500, type: 'server_error' },
  GW_ERR_RESPONSE_TOO_LARGE: { status: 502, type: 'server_error' },
  GW_ERR_SHUTTING_DOWN: { status: 503, type: 'server_error' },
  GW_ERR_POLICY_EXPRESSION: { status: 500, type: 'server_error' },
  GW_ERR_TOKEN_LIMIT: { status: 429, type: 'rate_limit_error' },
  GW_ERR_TOKEN_QUOTA: { status: 403, type: 'rate_limit_error' },
  GW_ERR_RATE_LIMIT: { status: 429, type: 'rate_limit_error' },
  GW_ERR_QUOTA: { status: 403, type: 'rate_limit_error' },
  GW_ERR_BUDGET_EXCEEDED: { status: 403, type: 'rate_limit_error' },
  GW_ERR_STATE_UNAVAILABLE: { status: 503, type: 'server_error' },
  GW_ERR_POLICY_FAILED: { status: 500, type: 'server_error' },
  GW_ERR_INVALID_HEADER_VALUE: { status: 400, type: 'invalid_request_error' },
  GW_ERR_POLICY_CHECK_HEADER: { status: 401, type: 'authentication_error' },
  GW_ERR_CONTENT_VALIDATION: { status: 400, type: 'invalid_request_error' },
  GW_ERR_IP_FORBIDDEN: { status: 403, type: 'permission_error' },
  GW_ERR_SEND_REQUEST_FAILED: { status: 502, type: 'server_error' },
  GW_ERR_SEND_REQUEST_FORBIDDEN_TARGET: { status: 500, type: 'server_error' },
  GW_ERR_BACKEND_ERROR_STATUS: { status: 502, type: 'server_error' },
  GW_ERR_BACKEND_CREDENTIALS: { status: 500, type: 'server_error' },
  GW_ERR_MANAGED_IDENTITY: { status: 500, type: 'server_error' },
  GW_ERR_AUTHORIZATION_CONTEXT: { status: 500, type: 'server_error' },
  GW_ERR_JWT_MISSING: { status: 401, type: 'authentication_error' },
  GW_ERR_JWT_INVALID: { status: 401, type: 'authentication_error' },
  GW_ERR_CONTENT_BLOCKED: { status: 403, type: 'permission_error' },
  GW_ERR_CONTENT_SAFETY_UNAVAILABLE: { status: 503, type: 'server_error' },
  GW_ERR_INTERNAL: { status: 500, type: 'server_error' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

const kGatewayError = Symbol.for('tollgate.error');

/** An error with a stable code, the status it maps to, and an optional offending parameter. */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly type: ErrorType;
  readonly param: string | null;
  /** Extra response headers the error must carry (e.g. Retry-After). */
  readonly headers: Readonly<Record<string, string>> | undefined;
  readonly [kGatewayError] = true;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { param?: string; cause?: unknown; headers?: Record<string, string>; status?: number } = {},
  ) {
    // Redacted once here, so the message is clean wherever it goes (body, logs, context.LastError).
    super(redactSecrets(message), opts.cause === undefined ? undefined : { cause: opts.cause });
    const spec = ERROR_CODES[code];
    this.name = 'GatewayError';
    this.code = code;
    this.status = opts.status ?? spec.status;
    this.type = spec.type;
    this.param = opts.param ?? null;
    this.headers = opts.headers;
  }

  /** Brand check that survives duplicate module copies (undici's `Symbol.for` trick). */
  static is(value: unknown): value is GatewayError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[kGatewayError] === true;
  }
}

/** Anything thrown becomes a GatewayError; unknown errors are internal and keep their cause for logs only. */
export function toGatewayError(err: unknown): GatewayError {
  if (GatewayError.is(err)) return err;
  return new GatewayError('GW_ERR_INTERNAL', 'The gateway failed to process the request.', { cause: err });
}

/** The OpenAI-dialect error body. The request id is repeated in the body so it survives copy-paste of logs. */
export function renderErrorBody(err: GatewayError, requestId: string): string {
  // The sink for client error bodies: a param or a message built elsewhere is scrubbed here too.
  return redactSecrets(
    JSON.stringify({
      error: { message: err.message, type: err.type, code: err.code, param: err.param, request_id: requestId },
    }),
  );
}

/** The same error as a terminal SSE event, for failures after a stream has started. */
export function renderErrorEvent(err: GatewayError, requestId: string): string {
  return `event: error\ndata: ${renderErrorBody(err, requestId)}\n\n`;
}
