/**
 * Encrypted tokens (JWE, compact form) for `validate-jwt` and `validate-azure-ad-token`:
 * `<decryption-keys><key id="k1">base64 symmetric key</key></decryption-keys>` as APIM writes them.
 * The token is decrypted with `jose` (direct or AES key wrap; PBES2 is refused, as its iteration
 * count is the sender's choice), and what it holds is then checked as any other token: a nested
 * signed JWT (sign-then-encrypt, as Entra and most issuers do) is verified with the signing keys;
 * a bare claims set counts as unsigned (refused unless `require-signed-tokens="false"`).
 * @module
 */
import { compactDecrypt, decodeProtectedHeader } from 'jose';
import type { PolicyElement } from '../../policy-docs/element.ts';
import { ElementReader } from '../../policy-docs/reader.ts';

export interface DecryptionKey {
  readonly id: string | undefined;
  readonly key: Uint8Array;
}

/** At most this many keys are tried on a token without a matching `kid`. */
const MAX_KEYS = 16;

const KEY_MANAGEMENT = ['dir', 'A128KW', 'A192KW', 'A256KW', 'A128GCMKW', 'A192GCMKW', 'A256GCMKW'];
const CONTENT_ENCRYPTION = ['A128GCM', 'A192GCM', 'A256GCM', 'A128CBC-HS256', 'A192CBC-HS384', 'A256CBC-HS512'];

/** Reads `<decryption-keys>`; `certificate-id` keys are load errors (no certificate store). */
export function readDecryptionKeys(el: PolicyElement): DecryptionKey[] {
  const p = new ElementReader(el);
  const keys: DecryptionKey[] = [];
  for (const k of p.children(['key'])) {
    const kr = new ElementReader(k);
    const id = kr.literal('id');
    if (kr.literal('certificate-id') !== undefined) throw kr.fail('certificate-id', 'is not supported: Tollgate has no certificate store (give the key as base64 text)');
    const text = k.text?.value.trim() ?? '';
    kr.done();
    if (!/^[A-Za-z0-9+/=_-]+$/.test(text)) throw kr.fail(null, 'must hold a base64-encoded symmetric key');
    const key = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (![16, 24, 32, 48, 64].includes(key.length)) throw kr.fail(null, `holds a ${key.length}-byte key; AES keys are 16, 24 or 32 bytes (32, 48 or 64 for the CBC-HMAC encryptions)`);
    keys.push({ id, key: new Uint8Array(key) });
  }
  p.noText();
  p.done();
  if (keys.length === 0) throw p.fail(null, 'lists no <key>');
  if (keys.length > MAX_KEYS) throw p.fail(null, `lists more than ${MAX_KEYS} keys`);
  return keys;
}

/** True for a compact JWE (five parts). */
export function isEncrypted(token: string): boolean {
  return token.split('.').length === 5;
}

/**
 * The token inside a JWE: a compact JWS as it is, or a bare claims set as an unsigned JWT (so the
 * caller's `alg: none` rule applies). Throws when no key decrypts it.
 */
export async function decryptToken(token: string, keys: readonly DecryptionKey[]): Promise<string> {
  const kid = decodeProtectedHeader(token).kid;
  const byId = keys.filter((k) => k.id !== undefined && k.id === kid);
  let last: unknown = new Error('no decryption key');
  for (const k of byId.length > 0 ? byId : keys) {
    try {
      const { plaintext } = await compactDecrypt(token, k.key, { keyManagementAlgorithms: KEY_MANAGEMENT, contentEncryptionAlgorithms: CONTENT_ENCRYPTION });
      const inner = new TextDecoder().decode(plaintext).trim();
      if (/^[\w-]+\.[\w-]+\.[\w-]*$/.test(inner)) return inner;
      return `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(inner).toString('base64url')}.`;
    } catch (err) {
      last = err;
    }
  }
  throw last;
}
