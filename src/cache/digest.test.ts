import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hash } from 'node:crypto';
import { sha256Id } from './digest.ts';

test('sha256Id is the input’s own SHA-256, remembered or not, short or long', () => {
  const inputs = ['', 'a', 'subscription:a', 'subscription:b', 'x'.repeat(1024), 'x'.repeat(1025), 'é\u0000ü'];
  for (let round = 0; round < 2; round++) {
    for (const s of inputs) assert.equal(sha256Id(s), hash('sha256', s, 'base64url'), `round ${round}, ${s.length} chars`);
  }
});

test('sha256Id stays exact past its memory bound (older inputs re-hashed)', () => {
  for (let i = 0; i < 3000; i++) assert.equal(sha256Id(`k${i}`), hash('sha256', `k${i}`, 'base64url'));
  for (let i = 0; i < 3000; i += 97) assert.equal(sha256Id(`k${i}`), hash('sha256', `k${i}`, 'base64url'));
});
