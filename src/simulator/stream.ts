/**
 * @module
 * Server-sent-event replies in OpenAI's framing. Each token is written as its own event the
 * moment it is due, so a proxy in front of the simulator can be checked for buffering: if the
 * client sees the first token only at the end, something in between held the stream.
 */
import { performance } from 'node:perf_hooks';
import type { Fault } from './controls.ts';
import type { CompletionPlan } from './completion-plan.ts';
import { chunkBody, usageChunkBody } from './completion-bodies.ts';
import type { ChunkPart, ResponseIdentity } from './completion-bodies.ts';
import { sleep, waitForAbort, writePiece } from './exchange.ts';
import type { Exchange } from './exchange.ts';

export interface StreamSettings {
  /** Content tokens per second; 0 writes them as fast as the socket takes them. */
  tokensPerSecond: number;
  fault: Fault;
}

function event(data: unknown): string {
  return `data: ${JSON.stringify(data)}\n\n`;
}

/** How many content chunks to send before the fault takes over; Infinity when there is none. */
function contentBudget(fault: Fault): number {
  return fault.kind === 'cut-after' || fault.kind === 'stall-after' ? fault.count : Number.POSITIVE_INFINITY;
}

async function applyPartialFault(exchange: Exchange, fault: Fault): Promise<void> {
  if (fault.kind === 'cut-after') exchange.destroySocket('cut');
  else await waitForAbort(exchange.signal);
}

/**
 * Streams `pieces[choice][token]` as chunks: role chunks (chat only), content chunks paced at
 * `tokensPerSecond` (all choices' k-th tokens share one time slot), finish chunks, the usage
 * chunk when `include_usage` was requested, then `data: [DONE]`.
 */
export async function streamCompletion(
  exchange: Exchange,
  plan: CompletionPlan,
  identity: ResponseIdentity,
  pieces: readonly (readonly string[])[],
  settings: StreamSettings,
): Promise<void> {
  const { res, signal } = exchange;
  if (signal.aborted || res.headersSent) return;
  res.writeHead(200, {
    ...exchange.commonHeaders(),
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    // Tells nginx-style proxies in front of the simulator not to buffer the stream either.
    'x-accel-buffering': 'no',
  });
  res.flushHeaders();

  function send(index: number, part: ChunkPart): Promise<boolean> {
    return writePiece(exchange, event(chunkBody(plan, identity, index, part)));
  }

  if (plan.kind === 'chat') {
    for (let choice = 0; choice < pieces.length; choice++) {
      if (!(await send(choice, { type: 'role' }))) return;
    }
  }

  const budget = contentBudget(settings.fault);
  const intervalMs = settings.tokensPerSecond > 0 ? 1000 / settings.tokensPerSecond : 0;
  // Token k is due at start + k * interval; scheduling against the start (not the previous
  // write) keeps timer overshoot from accumulating over long streams.
  const start = performance.now();
  let sent = 0;
  for (let token = 0; token < plan.tokensPerChoice; token++) {
    if (token > 0 && intervalMs > 0) {
      const due = start + token * intervalMs;
      if (!(await sleep(due - performance.now(), signal))) return;
    }
    for (let choice = 0; choice < pieces.length; choice++) {
      if (sent >= budget) return applyPartialFault(exchange, settings.fault);
      const text = pieces[choice]?.[token] ?? '';
      if (!(await send(choice, { type: 'content', text }))) return;
      sent++;
    }
  }
  if (budget !== Number.POSITIVE_INFINITY) return applyPartialFault(exchange, settings.fault);

  for (let choice = 0; choice < pieces.length; choice++) {
    if (!(await send(choice, { type: 'finish', reason: plan.finishReason }))) return;
  }
  if (plan.includeUsage && !(await writePiece(exchange, event(usageChunkBody(plan, identity))))) return;
  if (!(await writePiece(exchange, 'data: [DONE]\n\n'))) return;
  res.end();
}
