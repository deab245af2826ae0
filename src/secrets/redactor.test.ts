import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { Redactor, xmlDecode } from './redactor.ts';
import { Secrets } from '../config/named-values.ts';
import { createLogger } from '../observability/logger.ts';

const SECRETS = ['sk-live"Quote\\back', 'amp&amp;ersand-9x7', 'sp ace/slash+plus?é', 'plainsecretvalue42'];

/** Every form a secret takes when printed by the gateway's sinks (or an encoder it may meet). */
function forms(s: string): string[] {
  const d = xmlDecode(s);
  return [
    s,
    d,
    JSON.stringify(s).slice(1, -1),
    JSON.stringify(JSON.stringify(s)).slice(1, -1),
    JSON.stringify(d).slice(1, -1),
    encodeURIComponent(s),
    encodeURIComponent(d).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()), // lower-case hex
    encodeURI(d),
    // (`?` and `#` would end the path: an author puts them in a URL escaped.)
    new URL(`http://h/${d.replace(/[?#]/g, (c) => encodeURIComponent(c))}`).pathname.slice(1),
    new URL(`http://h/?q=${d}`).search.slice(3),
    new URLSearchParams({ q: d }).toString().slice(2),
    s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;'),
    d.replace(/"/g, '&#34;').replace(/&(?!#)/g, '&#x26;'),
    Buffer.from(`user:${s}`).toString('base64'),
    Buffer.from(`us:${d}`).toString('base64'),
    Buffer.from(`u:${s}`).toString('base64url'),
  ];
}

test('every printed form of a secret is redacted, also inside other text', () => {
  const r = new Redactor();
  for (const s of SECRETS) r.add(s);
  for (const s of SECRETS) {
    for (const form of forms(s)) {
      const out = r.redact(`before ${form} after`);
      assert.match(out, /\[REDACTED\]/, `form ${JSON.stringify(form)} of ${JSON.stringify(s)}`);
      assert.ok(r.test(form));
      // Nothing of the secret's distinctive middle survives.
      assert.ok(!out.includes('Quote') && !out.includes('ersand') && !out.includes('slash') && !out.includes('plainsecret'), out);
    }
  }
});

test('ordinary text is left alone, and short values are not registered', () => {
  const r = new Redactor();
  for (const s of SECRETS) r.add(s);
  r.add('abc');
  const text = 'the backend "aoai" answered 401; abc; sk-live; amp&amp; plain secret value';
  assert.equal(r.redact(text), text);
  assert.equal(r.test(text), false);
});

test('a secret containing a shorter one is replaced whole', () => {
  const r = new Redactor();
  r.add('inner-1234');
  r.add('outer-inner-1234-tail');
  assert.equal(r.redact('x outer-inner-1234-tail y inner-1234 z'), 'x [REDACTED] y [REDACTED] z');
});

test('the registry is bounded: the oldest secrets leave first', () => {
  const r = new Redactor();
  for (let i = 0; i < 4100; i++) r.add(`secret-number-${i}`);
  assert.equal(r.size, 4096);
  assert.equal(r.has('secret-number-0'), false);
  assert.equal(r.has('secret-number-4099'), true);
});

test('a configuration\'s secrets are redacted from every line of every logger, at every level, as valid JSON', () => {
  const secrets = new Secrets();
  secrets.add('log-canary-"quoted"-31f9');
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('utf8'));
      cb();
    },
  });
  const logger = createLogger('trace', sink);
  logger.trace({ field: 'log-canary-"quoted"-31f9' }, 'trace');
  logger.debug({ nested: { deeper: ['x log-canary-"quoted"-31f9 y'] } }, 'debug');
  logger.info('message log-canary-"quoted"-31f9');
  logger.error({ err: { message: `url http://h/${encodeURIComponent('log-canary-"quoted"-31f9')}` } }, 'error');
  assert.equal(lines.length, 4);
  for (const line of lines) {
    assert.ok(!line.includes('log-canary'), line);
    assert.doesNotThrow(() => JSON.parse(line), line);
  }
});
