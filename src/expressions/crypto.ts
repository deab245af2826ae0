/**
 * Hashing objects for request signing and PKCE: `SHA256.Create()` (and SHA1, SHA384, SHA512,
 * MD5), `new HMACSHA256(key)` (and HMACSHA1, HMACSHA384, HMACSHA512, HMACMD5), `ComputeHash`,
 * the static `HashData` shortcuts, `Dispose` (for `using`), and `BitConverter.ToString`. Backed by
 * node:crypto: pure computation, no keys or state outside the object. The bytes hashed are
 * charged as any argument is (metering.ts), a step per 256 bytes.
 * @module
 */
import { createHash, createHmac } from 'node:crypto';
import { int } from './args.ts';
import { CsError, argError, argNull } from './errors.ts';
import { produceChars } from './limits.ts';
import { defineStatic, defineType } from './registry.ts';
import { Host } from './values.ts';

const ALGORITHMS: Readonly<Record<string, string>> = { SHA1: 'sha1', SHA256: 'sha256', SHA384: 'sha384', SHA512: 'sha512', MD5: 'md5' };

const HASH_BITS: Readonly<Record<string, number>> = { sha1: 160, sha256: 256, sha384: 384, sha512: 512, md5: 128 };

function bytes(v: unknown, param: string): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (v === null || v === undefined) throw argNull(param);
  throw argError(`Expected a byte array for '${param}'.`);
}

export class CsHashAlgorithm extends Host {
  /** .NET's type name: SHA256, HMACSHA256... */
  readonly name: string;
  readonly algorithm: string;
  /** HMAC key; null for a plain hash. */
  readonly key: Uint8Array | null;
  hash: Uint8Array | null = null;
  disposed = false;
  constructor(name: string, algorithm: string, key: Uint8Array | null) {
    super();
    this.name = name;
    this.algorithm = algorithm;
    this.key = key;
  }
  get kind(): string {
    return 'HashAlgorithm';
  }
  override get typeName(): string {
    return `System.Security.Cryptography.${this.name}`;
  }
  override isA(n: string): boolean {
    return n === 'HashAlgorithm' || n.startsWith(this.name) || (this.key !== null && n === 'HMAC');
  }
  compute(data: Uint8Array): Uint8Array {
    if (this.disposed) throw new CsError('System.ObjectDisposedException', `Cannot access a disposed object.\nObject name: '${this.name}'.`);
    const h = this.key === null ? createHash(this.algorithm) : createHmac(this.algorithm, this.key);
    const out = new Uint8Array(h.update(data).digest());
    this.hash = out;
    return out;
  }
}

defineType<CsHashAlgorithm>('HashAlgorithm', 'System.Security.Cryptography.HashAlgorithm', {
  props: {
    Hash: (h) => h.hash,
    HashSize: (h) => HASH_BITS[h.algorithm] ?? 0,
    Key: (h) => h.key,
  },
  methods: {
    ComputeHash: [1, 3, (h, a) => {
      const data = bytes(a[0], 'buffer');
      if (a.length === 1) return h.compute(data);
      const offset = int(a, 1);
      const count = int(a, 2);
      if (offset < 0 || count < 0 || offset + count > data.length) throw argError('Offset and length were out of bounds for the array.');
      return h.compute(data.subarray(offset, offset + count));
    }],
    Dispose: [0, 0, (h) => void (h.disposed = true)],
    Clear: [0, 0, (h) => void (h.disposed = true)],
    Initialize: [0, 0, () => undefined],
  },
});

for (const [name, algorithm] of Object.entries(ALGORITHMS)) {
  const create = (): CsHashAlgorithm => new CsHashAlgorithm(name, algorithm, null);
  defineStatic([name, `${name}Managed`, `${name}CryptoServiceProvider`], {
    methods: {
      Create: [0, 0, create],
      HashData: [1, 1, (a) => create().compute(bytes(a[0], 'source'))],
    },
    ctor: [0, 0, create],
  });
  const hmac = `HMAC${name}`;
  const keyed = (key: unknown): CsHashAlgorithm => new CsHashAlgorithm(hmac, algorithm, new Uint8Array(bytes(key, 'key')));
  defineStatic([hmac], {
    methods: { HashData: [2, 2, (a) => keyed(a[0]).compute(bytes(a[1], 'source'))] },
    ctor: [1, 1, (a) => keyed(a[0])],
  });
}

defineStatic(['BitConverter'], {
  props: { IsLittleEndian: () => true },
  methods: {
    // "0A-1B-FF": three chars per byte, checked before the string exists.
    ToString: [1, 3, (a) => {
      const b = bytes(a[0], 'value');
      const from = a.length > 1 ? int(a, 1) : 0;
      const len = a.length > 2 ? int(a, 2) : b.length - from;
      if (from < 0 || len < 0 || from + len > b.length) throw argError('Offset and length were out of bounds for the array.');
      produceChars(len * 3);
      const hex = Buffer.from(b.buffer, b.byteOffset + from, len).toString('hex').toUpperCase();
      return hex.replace(/(..)(?!$)/g, '$1-');
    }],
  },
});
