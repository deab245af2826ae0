/**
 * @module
 * `GET|PUT /_sim/fault`: the standing fault over HTTP, so someone driving the demo with curl can
 * make one backend fail and watch the gateway fail over, without writing a test. The server
 * checks the key first (a simulator that requires a key requires it here too, otherwise anyone
 * who can reach a backend could break it); this module only reads and switches the fault.
 */
import { SimulatorHttpError, invalidParam } from './errors.ts';
import { sendJson } from './exchange.ts';
import type { Exchange } from './exchange.ts';
import { SimulatorFaultError, parseStandingFault } from './standing-fault.ts';
import type { FaultSwitch } from './standing-fault.ts';

export const FAULT_CONTROL_PATH = '/_sim/fault';

const PUT_FIELDS = new Set(['fail', 'retryAfterSeconds', 'latencyMs', 'rate']);

export function isFaultControlPath(path: string): boolean {
  return path === FAULT_CONTROL_PATH || path === `${FAULT_CONTROL_PATH}/`;
}

function readPutBody(parsed: { ok: true; value: unknown } | { ok: false }): Record<string, unknown> {
  if (!parsed.ok || typeof parsed.value !== 'object' || parsed.value === null || Array.isArray(parsed.value)) {
    throw new SimulatorHttpError(
      400,
      'The body must be a JSON object such as {"fail":"429","retryAfterSeconds":5} or {"fail":null}.',
      { code: 'invalid_json' },
    );
  }
  const body = parsed.value as Record<string, unknown>;
  // Strict, like the config schema: a misspelt field would otherwise be ignored without a word.
  for (const key of Object.keys(body)) {
    if (!PUT_FIELDS.has(key)) {
      throw invalidParam(key, `Unknown field '${key}'; expected ${[...PUT_FIELDS].join(', ')}`);
    }
  }
  if (!Object.hasOwn(body, 'fail')) {
    throw invalidParam('fail', "Field 'fail' is required: an x-sim-fail value such as \"429\", or null to clear");
  }
  return body;
}

/**
 * Answers a request to `/_sim/fault`: GET shows the standing fault, PUT replaces it and shows the
 * result. Both answer the `StandingFaultView` JSON.
 */
export function handleFaultControl(
  exchange: Exchange,
  faults: FaultSwitch,
  parsed: { ok: true; value: unknown } | { ok: false },
): Promise<void> {
  const method = exchange.req.method ?? 'GET';
  if (method === 'PUT') {
    const body = readPutBody(parsed);
    try {
      faults.set(parseStandingFault(body.fail, body));
    } catch (error) {
      if (error instanceof SimulatorFaultError) throw invalidParam(error.param, error.message);
      throw error;
    }
  } else if (method !== 'GET') {
    throw new SimulatorHttpError(405, `Method ${method} is not allowed on ${FAULT_CONTROL_PATH}; use GET or PUT`, {
      code: null,
      headers: { allow: 'GET, PUT' },
    });
  }
  return sendJson(exchange, 200, faults.view(), { kind: 'none' });
}
