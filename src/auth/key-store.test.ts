import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SubscriptionInfo } from '../core/context.ts';
import { KeyStore, presentedKey } from './key-store.ts';

const TEAM_A: SubscriptionInfo = { id: 'team-a', name: 'Team A', productId: 'starter', state: 'active' };
const TEAM_B: SubscriptionInfo = { id: 'team-b', name: 'team-b', productId: 'premium', state: 'suspended' };

void test('find returns the subscription owning a key, and undefined for any other key', () => {
  const store = new KeyStore();
  store.add('team-a-key-0001', TEAM_A);
  store.add('team-a-key-0002', TEAM_A);
  store.add('team-b-key-0001', TEAM_B);
  assert.equal(store.size, 3);
  assert.equal(store.find('team-a-key-0001'), TEAM_A);
  assert.equal(store.find('team-a-key-0002'), TEAM_A);
  assert.equal(store.find('team-b-key-0001'), TEAM_B);
  assert.equal(store.find('team-a-key-0003'), undefined);
  assert.equal(store.find('TEAM-A-KEY-0001'), undefined);
  assert.equal(store.find(''), undefined);
});

void test('keys of other lengths (prefixes, extensions, very long) never match', () => {
  const store = new KeyStore();
  store.add('team-a-key-0001', TEAM_A);
  for (const other of ['team-a-key-000', 'team-a-key-00011', 't', 'team-a-key-0001 ', 'x'.repeat(10_000), 'team-a-key-0001'.repeat(2)]) {
    assert.equal(store.find(other), undefined, `${other.length} chars`);
  }
  const longKey = 'k'.repeat(4096);
  store.add(longKey, TEAM_B);
  assert.equal(store.find(longKey), TEAM_B);
  assert.equal(store.find(longKey.slice(1)), undefined);
});

void test('two stores hash with different secrets but each finds its own keys', () => {
  const one = new KeyStore();
  const two = new KeyStore();
  one.add('shared-key-0001', TEAM_A);
  two.add('shared-key-0001', TEAM_B);
  assert.equal(one.find('shared-key-0001'), TEAM_A);
  assert.equal(two.find('shared-key-0001'), TEAM_B);
});

void test('presentedKey prefers api-key, then Ocp-Apim-Subscription-Key, then Authorization: Bearer', () => {
  const all = { 'api-key': 'from-api-key', 'ocp-apim-subscription-key': 'from-apim', authorization: 'Bearer from-bearer' };
  assert.equal(presentedKey(all), 'from-api-key');
  assert.equal(presentedKey({ 'ocp-apim-subscription-key': 'from-apim', authorization: 'Bearer from-bearer' }), 'from-apim');
  assert.equal(presentedKey({ authorization: 'Bearer from-bearer' }), 'from-bearer');
  // An empty header does not hide the next one.
  assert.equal(presentedKey({ 'api-key': '', 'ocp-apim-subscription-key': 'from-apim' }), 'from-apim');
  assert.equal(presentedKey({ 'ocp-apim-subscription-key': '', authorization: 'Bearer from-bearer' }), 'from-bearer');
  assert.equal(presentedKey({}), undefined);
});

void test('the Bearer scheme is matched case-insensitively; other schemes are not keys', () => {
  assert.equal(presentedKey({ authorization: 'bearer sk-lower' }), 'sk-lower');
  assert.equal(presentedKey({ authorization: 'BEARER sk-upper' }), 'sk-upper');
  assert.equal(presentedKey({ authorization: 'bEaReR   sk-padded  ' }), 'sk-padded');
  assert.equal(presentedKey({ authorization: 'Basic dXNlcjpwYXNz' }), undefined);
  assert.equal(presentedKey({ authorization: 'Bearer' }), undefined);
  assert.equal(presentedKey({ authorization: 'Bearer ' }), undefined);
  assert.equal(presentedKey({ authorization: 'Bearersk-nospace' }), undefined);
});
