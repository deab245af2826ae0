/**
 * @module
 * Azure AI Language PII detection, simulated: `POST /language/:analyze-text?api-version=…` with
 * `kind: "PiiEntityRecognition"` (the synchronous API that APIM PII-anonymisation policies call,
 * e.g. the AI Hub Gateway accelerator's `pii-anonymization` fragment), deterministic so that such
 * documents run offline.
 *
 * Entities are what the gateway's local engine finds (src/content-safety/pii.ts: e-mail, phone,
 * card with Luhn, IBAN with mod-97, IP), under the service's category names, each with confidence
 * 0.8; names, addresses and the service's other categories are not recognised. `redactedText`
 * follows `parameters.redactionPolicy`: `CharacterMask` (default; `redactionCharacter`, default
 * `*`), `EntityMask` (`[Email]`) or `NoMask`. `parameters.piiCategories` narrows the categories.
 * Limits as the service's: at most 5 documents (more: 400 `InvalidDocumentBatch`); a document over
 * 5,120 characters is a per-document `InvalidDocument` error.
 */
import { findPii, type PiiType } from '../content-safety/pii.ts';

export const LANGUAGE_PATH = '/language/:analyze-text';
const MAX_DOCUMENTS = 5;
const MAX_DOCUMENT_CHARS = 5120;
const MODEL_VERSION = '2023-09-01';

/** The service's category for each kind of data the local engine finds. */
const CATEGORY: Readonly<Record<PiiType, string>> = {
  email: 'Email',
  phone: 'PhoneNumber',
  card: 'CreditCardNumber',
  iban: 'InternationalBankingAccountNumber',
  ip: 'IPAddress',
};
const TYPE_OF = new Map(Object.entries(CATEGORY).map(([t, c]) => [c, t as PiiType]));

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

const bad = (code: string, message: string): Answer => ({ status: 400, body: { error: { code: 'InvalidRequest', message, innererror: { code, message } } } });
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The answer to `POST /language/:analyze-text` (`body` is the parsed JSON, undefined when it was not JSON). */
export function answerLanguage(query: URLSearchParams, body: unknown): Answer {
  if (!query.has('api-version')) return { status: 404, body: { error: { code: '404', message: 'Resource not found' } } };
  if (!isRecord(body)) return bad('InvalidRequestBodyFormat', 'The request body is not a JSON object.');
  if (body['kind'] !== 'PiiEntityRecognition') return bad('InvalidParameterValue', `The simulator implements kind PiiEntityRecognition only, not ${JSON.stringify(body['kind'])}.`);
  const docs = isRecord(body['analysisInput']) ? body['analysisInput']['documents'] : undefined;
  if (!Array.isArray(docs) || docs.length === 0) return bad('InvalidDocumentBatch', 'analysisInput.documents must be a non-empty array.');
  if (docs.length > MAX_DOCUMENTS) return bad('InvalidDocumentBatch', `Batch request contains too many records. Max ${MAX_DOCUMENTS} records are permitted.`);
  const params = isRecord(body['parameters']) ? body['parameters'] : {};
  const policy = isRecord(params['redactionPolicy']) ? params['redactionPolicy'] : {};
  const kind = typeof policy['policyKind'] === 'string' ? policy['policyKind'] : 'CharacterMask';
  if (kind !== 'CharacterMask' && kind !== 'EntityMask' && kind !== 'NoMask') return bad('InvalidParameterValue', `Unknown redactionPolicy.policyKind ${kind}.`);
  const maskChar = typeof policy['redactionCharacter'] === 'string' && policy['redactionCharacter'] !== '' ? policy['redactionCharacter'].charAt(0) : '*';
  const wanted = Array.isArray(params['piiCategories']) ? params['piiCategories'].map((c) => TYPE_OF.get(String(c))).filter((t) => t !== undefined) : Object.keys(CATEGORY);
  const types = new Set(wanted as PiiType[]);
  const documents: unknown[] = [];
  const errors: unknown[] = [];
  for (const d of docs) {
    const id = isRecord(d) && typeof d['id'] === 'string' ? d['id'] : '';
    const text = isRecord(d) ? d['text'] : undefined;
    if (id === '' || typeof text !== 'string') {
      errors.push({ id, error: { code: 'InvalidArgument', message: 'Every document needs an id and a text.', innererror: { code: 'InvalidDocument', message: 'Document text is empty or missing.' } } });
      continue;
    }
    if (text.length > MAX_DOCUMENT_CHARS) {
      errors.push({ id, error: { code: 'InvalidArgument', message: 'Invalid document in request.', innererror: { code: 'InvalidDocument', message: `A document within the request was too large to be processed. Limit document size to: ${MAX_DOCUMENT_CHARS} text elements.` } } });
      continue;
    }
    const found = findPii(text, types);
    let redacted = '';
    let at = 0;
    for (const m of found) {
      const mask = kind === 'NoMask' ? text.slice(m.start, m.end) : kind === 'EntityMask' ? `[${CATEGORY[m.type]}]` : maskChar.repeat(m.end - m.start);
      redacted += text.slice(at, m.start) + mask;
      at = m.end;
    }
    redacted += text.slice(at);
    const entities = found.map((m) => ({ text: text.slice(m.start, m.end), category: CATEGORY[m.type], offset: m.start, length: m.end - m.start, confidenceScore: 0.8 }));
    documents.push({ id, redactedText: redacted, entities, warnings: [] });
  }
  return { status: 200, body: { kind: 'PiiEntityRecognitionResults', results: { documents, errors, modelVersion: MODEL_VERSION } } };
}
