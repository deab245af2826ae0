// The evaluator's fast path (engine.ts fastRead) against the interpreter: the same value, or it
// steps aside. `evaluate(ctx, {})` always takes the interpreter (options switch the fast path off).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileExpression } from './index.ts';
import { makeContext } from './test-support.ts';

const POS = { file: 'fast-read.test.ts', line: 1, col: 1 };

function both(src: string, ctx = makeContext()): { fast: unknown; general: unknown } {
  const compiled = compileExpression(src, POS);
  const outcome = (f: () => unknown): unknown => {
    try {
      return f();
    } catch (err) {
      return `threw ${(err as Error).message}`;
    }
  };
  return { fast: outcome(() => compiled.evaluate(ctx)), general: outcome(() => compiled.evaluate(ctx, {})) };
}

void test('context reads and string literals joined by + give what the interpreter gives', () => {
  const cases = [
    '@(context.Subscription.Id)',
    '@(context.Request.IpAddress)',
    '@(context.Subscription.Id + "/" + context.Api.Id)',
    '@("tenant:" + context.Subscription.Id)',
    '@(context.Subscription.Id + context.Product.Id + context.Request.IpAddress)',
    '@(context.Subscription.Id + 1)',
    "@(context.Subscription.Id + 'x')",
    '@(context.Subscription.Id + null)',
    '@(context.Subscription.Id + "/" + context.Subscription.Key)',
    '@(context.Subscription.Id + "' + 'x'.repeat(80) + '")',
    '@(context.Subscription?.Id + "/")',
  ];
  for (const ip of ['::ffff:10.1.2.3', '2001:db8::1']) {
    for (const subscription of [true, false]) {
      for (const src of cases) {
        const { fast, general } = both(src, makeContext({ ip, subscription }));
        assert.deepEqual(fast, general, `${src} (ip ${ip}, subscription ${subscription})`);
      }
    }
  }
});

void test('a read that is not a string falls back to the interpreter and its error', () => {
  const { fast, general } = both('@(context.Subscription.Id + "/" + context.Api.Id)', makeContext({ subscription: false }));
  assert.deepEqual(fast, general);
});
