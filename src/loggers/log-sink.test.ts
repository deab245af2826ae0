import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { LogSink, PermanentWriteError, messageLine, type SinkWriter } from './log-sink.ts';
import { createLogger } from '../observability/logger.ts';

function harness(write: (batch: readonly string[]) => Promise<void>, opts: Partial<ConstructorParameters<typeof LogSink>[2]> = {}) {
  const logs: string[] = [];
  const logger = createLogger(
    'info',
    new Writable({
      write(chunk: Buffer, _e, cb) {
        logs.push(chunk.toString('utf8'));
        cb();
      },
    }),
  );
  const counts = { written: 0, dropped: 0 };
  const writer: SinkWriter = { write, close: () => Promise.resolve() };
  const sink = new LogSink('t', writer, { maxQueue: 10, batchSize: 3, flushIntervalMs: 60_000, maxRetries: 2, retryBackoffMs: 1, ...opts }, {
    logger,
    count: (result, n) => (counts[result] += n),
    random: () => 0,
  });
  return { sink, logs, counts };
}

test('a full batch is written at once; the rest is written by close, in order', async () => {
  const batches: string[][] = [];
  const { sink, counts } = harness((b) => {
    batches.push([...b]);
    return Promise.resolve();
  });
  for (const m of ['a', 'b', 'c', 'd']) sink.push(m);
  await sink.close();
  assert.deepEqual(batches, [['"a"', '"b"', '"c"'], ['"d"']]);
  assert.deepEqual(counts, { written: 4, dropped: 0 });
});

test('a full queue drops new messages (counted) with one warning per run of drops', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const { sink, counts, logs } = harness(() => gate, { maxQueue: 4, batchSize: 2 });
  // The first batch of 2 is being written (held); 4 more fill the queue; 3 are dropped.
  for (let i = 0; i < 9; i++) sink.push(String(i));
  assert.equal(sink.queued, 4);
  assert.equal(counts.dropped, 3);
  assert.equal(logs.filter((l) => l.includes('queue full')).length, 1);
  release();
  await sink.close();
  assert.deepEqual(counts, { written: 6, dropped: 3 });
});

test('a failing batch is retried maxRetries times, then dropped; a permanent refusal is not retried', async () => {
  let calls = 0;
  const { sink, counts, logs } = harness(() => {
    calls++;
    return Promise.reject(new Error('boom'));
  });
  sink.push('x');
  await sink.close();
  assert.equal(calls, 3);
  assert.deepEqual(counts, { written: 0, dropped: 1 });
  assert.equal(logs.filter((l) => l.includes('cannot write')).length, 1, 'one warning per outage');

  let permanentCalls = 0;
  const p = harness(() => {
    permanentCalls++;
    return Promise.reject(new PermanentWriteError('answered 400'));
  });
  p.sink.push('y');
  await p.sink.close();
  assert.equal(permanentCalls, 1);
  assert.equal(p.counts.dropped, 1);
});

test('a drain that passes its deadline drops what is left; a message pushed after close is dropped', async () => {
  const { sink, counts } = harness((_b) => new Promise(() => undefined), { maxRetries: 0 });
  sink.push('stuck');
  await sink.close(50);
  sink.push('late');
  assert.deepEqual(counts, { written: 0, dropped: 2 });
});

test('messages become one JSON line: JSON compacted, anything else a JSON string', () => {
  assert.equal(messageLine('{\n  "a": 1,\n  "b": [1, 2]\n}'), '{"a":1,"b":[1,2]}');
  assert.equal(messageLine('plain'), '"plain"');
  assert.equal(messageLine('{not json'), '"{not json"');
  assert.equal(messageLine('line1\nline2'), '"line1\\nline2"');
});
