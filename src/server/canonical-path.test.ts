import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalPath } from './canonical-path.ts';

const ok = (raw: string): string => {
  const c = canonicalPath(raw);
  assert.ok(c.ok, `${raw}: ${c.ok ? '' : c.reason}`);
  return c.path;
};

void test('canonical paths come back unchanged (the fast path)', () => {
  for (const p of ['/', '/v1/chat/completions', '/openai/deployments/gpt-4o.mini_2/chat/completions', '/a/b.c/d..e/...x']) assert.equal(ok(p), p);
});

void test('one spelling per path: trailing and duplicate slashes, dot segments, escaped unreserved characters', () => {
  const cases: Array<[string, string]> = [
    ['/v1/chat/completions/', '/v1/chat/completions'],
    ['//v1///chat//completions//', '/v1/chat/completions'],
    ['/v1/./chat/completions/.', '/v1/chat/completions'],
    ['/v1/x/y/../../chat/completions', '/v1/chat/completions'],
    ['/v1/%63hat/%63ompletions', '/v1/chat/completions'],
    ['/deployments/gpt-4o/%2e%2E/other', '/deployments/other'],
    ['/deployments/gpt-4o/.%2e/other', '/deployments/other'],
    ['/a/%7euser/%41%2D%5F', '/a/~user/A-_'],
    ['/a/%c3%a9/%3a', '/a/%C3%A9/%3A'],
    ['/a/%25/b', '/a/%25/b'],
    ['/.well-known/x', '/.well-known/x'],
    ['//', '/'],
    ['/..a/b', '/..a/b'],
  ];
  for (const [raw, canonical] of cases) assert.equal(ok(raw), canonical, raw);
});

void test('paths with no single meaning are refused', () => {
  for (const raw of [
    'v1/chat/completions',
    'http://evil.example/v1/chat/completions',
    '*',
    '',
    '/..',
    '/a/../..',
    '/%2e%2e',
    '/a%2Fb',
    '/a%2fb',
    '/a%5Cb',
    '/a\\b',
    '/a%00b',
    '/a%',
    '/a%4',
    '/a%zz',
    '/a%%41',
    '/a/%252e%252e/b',
    '/a/%252F',
    '/a/..;/b',
    '/a/.;x/b',
  ]) {
    assert.equal(canonicalPath(raw).ok, false, raw);
  }
});

void test('paths built by policies may not contain dot segments in any spelling', () => {
  for (const raw of ['/a/./b', '/a/../b', '/a/%2e%2E/b', '/a/.%2e', '/a/%2e']) assert.equal(canonicalPath(raw, true).ok, false, raw);
  assert.deepEqual(canonicalPath('/deployments/gpt-4o//chat/completions/', true), { ok: true, path: '/deployments/gpt-4o/chat/completions' });
});
