import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Router } from './router.ts';

interface Api {
  readonly id: string;
  readonly prefix: string;
}

const ROOT: Api = { id: 'root', prefix: '' };
const OPENAI: Api = { id: 'openai', prefix: '/openai' };
const OPENAI_V2: Api = { id: 'openai-v2', prefix: '/openai/v2' };
const OTHER: Api = { id: 'other', prefix: '/other/api' };

function ids(router: Router<Api>, paths: string[]): Array<string | undefined> {
  return paths.map((p) => router.match(p)?.id);
}

void test('the longest matching prefix wins, whatever the order the apis were given in', () => {
  const paths = ['/openai/v2/chat/completions', '/openai/v2', '/openai/v1/chat/completions', '/openai', '/other/api/x'];
  const expected = ['openai-v2', 'openai-v2', 'openai', 'openai', 'other'];
  assert.deepEqual(ids(new Router([ROOT, OPENAI, OPENAI_V2, OTHER]), paths), expected);
  assert.deepEqual(ids(new Router([OTHER, OPENAI_V2, OPENAI, ROOT]), paths), expected);
});

void test('a prefix matches only at a segment boundary', () => {
  const router = new Router([OPENAI, OPENAI_V2]);
  assert.deepEqual(ids(router, ['/openaiX', '/openai-v1/chat', '/openai/v2x', '/open', '/', '']), [undefined, undefined, 'openai', undefined, undefined, undefined]);
});

void test('the root api takes every path no other api claims', () => {
  const router = new Router([OPENAI, ROOT]);
  assert.deepEqual(ids(router, ['/openaiX', '/v1/chat/completions', '/', '', '/openai/deployments/x']), ['root', 'root', 'root', 'root', 'openai']);
});

void test('with no apis nothing matches', () => {
  assert.equal(new Router<Api>([]).match('/openai'), undefined);
});
