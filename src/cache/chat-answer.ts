/**
 * A cached chat answer is kept in one form, a complete `chat.completion` object, whichever form
 * the backend produced it in: a JSON answer is kept as it is, a streamed answer is assembled from
 * its chunks once it ended cleanly. It is replayed in the form the client asks for: that object,
 * or a valid SSE stream (role chunk, content, tool calls, finish reason, the usage chunk only
 * when the client asked for it, `data: [DONE]`).
 * @module
 */

type Json = Record<string, unknown>;

/** Finish reasons of answers that are complete: `length` and `content_filter` are cut answers. */
const COMPLETE_FINISH = new Set(['stop', 'tool_calls', 'function_call']);

function obj(v: unknown): Json | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
}

/** Why an answer is not stored, or undefined when it may be. */
export function refuseToStore(completion: Json): string | undefined {
  if (completion['object'] !== 'chat.completion') return 'not a chat.completion';
  const choices = completion['choices'];
  if (!Array.isArray(choices) || choices.length === 0) return 'no choices';
  for (const c of choices) {
    const reason = obj(c)?.['finish_reason'];
    if (typeof reason !== 'string' || !COMPLETE_FINISH.has(reason)) return `finish_reason ${String(reason)}`;
  }
  return undefined;
}

/** Parses a held JSON answer; undefined when it is not JSON. */
export function parseCompletion(body: Buffer): Json | undefined {
  try {
    return obj(JSON.parse(body.toString('utf8')));
  } catch {
    return undefined;
  }
}

interface ChoiceAcc {
  index: number;
  role: string;
  content: string | null;
  refusal: string | null;
  toolCalls: Map<number, { id?: string; type: string; name: string; arguments: string }>;
  functionCall: { name: string; arguments: string } | null;
  finishReason: unknown;
  logprobs: unknown[] | null;
}

/**
 * Assembles a `chat.completion` from a whole SSE stream of `chat.completion.chunk` events.
 * Undefined when the stream did not end with `data: [DONE]` or holds something unreadable: only
 * a cleanly completed stream is ever stored.
 */
export function assembleStream(sse: Buffer): Json | undefined {
  const text = sse.toString('utf8');
  let done = false;
  let head: Json | undefined;
  let usage: unknown;
  const choices = new Map<number, ChoiceAcc>();
  for (const event of text.split(/\r?\n\r?\n/)) {
    let data = '';
    for (const line of event.split(/\r?\n/)) {
      if (line.startsWith('data:')) data += (data === '' ? '' : '\n') + line.slice(line[5] === ' ' ? 6 : 5);
      else if (line.startsWith('event:') && line.slice(6).trim() === 'error') return undefined;
    }
    if (data === '') continue;
    if (data === '[DONE]') {
      done = true;
      continue;
    }
    if (done) return undefined;
    let chunk: Json | undefined;
    try {
      chunk = obj(JSON.parse(data));
    } catch {
      return undefined;
    }
    if (chunk === undefined || chunk['object'] !== 'chat.completion.chunk') return undefined;
    head ??= chunk;
    if (chunk['usage'] !== undefined && chunk['usage'] !== null) usage = chunk['usage'];
    const list = chunk['choices'];
    if (!Array.isArray(list)) continue;
    for (const raw of list) {
      const c = obj(raw);
      if (c === undefined || typeof c['index'] !== 'number') return undefined;
      const index = c['index'];
      let acc = choices.get(index);
      if (acc === undefined) {
        acc = { index, role: 'assistant', content: null, refusal: null, toolCalls: new Map(), functionCall: null, finishReason: null, logprobs: null };
        choices.set(index, acc);
      }
      const delta = obj(c['delta']) ?? {};
      if (typeof delta['role'] === 'string') acc.role = delta['role'];
      if (typeof delta['content'] === 'string') acc.content = (acc.content ?? '') + delta['content'];
      if (typeof delta['refusal'] === 'string') acc.refusal = (acc.refusal ?? '') + delta['refusal'];
      const fc = obj(delta['function_call']);
      if (fc !== undefined) {
        acc.functionCall ??= { name: '', arguments: '' };
        if (typeof fc['name'] === 'string') acc.functionCall.name += fc['name'];
        if (typeof fc['arguments'] === 'string') acc.functionCall.arguments += fc['arguments'];
      }
      if (Array.isArray(delta['tool_calls'])) {
        for (const rawCall of delta['tool_calls']) {
          const tc = obj(rawCall);
          if (tc === undefined || typeof tc['index'] !== 'number') return undefined;
          let call = acc.toolCalls.get(tc['index']);
          if (call === undefined) {
            call = { type: 'function', name: '', arguments: '' };
            acc.toolCalls.set(tc['index'], call);
          }
          if (typeof tc['id'] === 'string') call.id = tc['id'];
          if (typeof tc['type'] === 'string') call.type = tc['type'];
          const fn = obj(tc['function']);
          if (typeof fn?.['name'] === 'string') call.name += fn['name'];
          if (typeof fn?.['arguments'] === 'string') call.arguments += fn['arguments'];
        }
      }
      const lp = obj(c['logprobs'])?.['content'];
      if (Array.isArray(lp)) (acc.logprobs ??= []).push(...(lp as unknown[]));
      if (c['finish_reason'] !== undefined && c['finish_reason'] !== null) acc.finishReason = c['finish_reason'];
    }
  }
  if (!done || head === undefined || choices.size === 0) return undefined;
  const completion: Json = {
    id: head['id'],
    object: 'chat.completion',
    created: head['created'],
    model: head['model'],
    choices: [...choices.values()].sort((a, b) => a.index - b.index).map(toChoice),
  };
  if (head['system_fingerprint'] !== undefined) completion['system_fingerprint'] = head['system_fingerprint'];
  if (usage !== undefined) completion['usage'] = usage;
  return completion;
}

function toChoice(acc: ChoiceAcc): Json {
  const message: Json = { role: acc.role, content: acc.content };
  if (acc.refusal !== null) message['refusal'] = acc.refusal;
  if (acc.toolCalls.size > 0) {
    message['tool_calls'] = [...acc.toolCalls.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([, c]) => ({ id: c.id, type: c.type, function: { name: c.name, arguments: c.arguments } }));
  }
  if (acc.functionCall !== null) message['function_call'] = acc.functionCall;
  return { index: acc.index, message, logprobs: acc.logprobs === null ? null : { content: acc.logprobs }, finish_reason: acc.finishReason };
}

/** Content is replayed in pieces of this many characters, so a client's streaming UI still streams. */
const REPLAY_PIECE_CHARS = 256;

/**
 * Renders a cached completion as the SSE stream a streaming client expects. `includeUsage`: the
 * client asked for `stream_options.include_usage` (the usage chunk, `choices: []`, before `[DONE]`).
 */
export function renderStream(completion: Json, includeUsage: boolean): Buffer {
  const base: Json = { id: completion['id'], object: 'chat.completion.chunk', created: completion['created'], model: completion['model'] };
  if (completion['system_fingerprint'] !== undefined) base['system_fingerprint'] = completion['system_fingerprint'];
  const events: string[] = [];
  const emit = (choices: unknown[], extra: Json = {}): void => {
    events.push(`data: ${JSON.stringify({ ...base, choices, ...extra })}\n\n`);
  };
  for (const raw of (completion['choices'] as unknown[] | undefined) ?? []) {
    const choice = obj(raw) ?? {};
    const index = choice['index'] ?? 0;
    const message = obj(choice['message']) ?? {};
    const content = message['content'];
    // As OpenAI streams it: the role first, with `content: null` when the answer is tool calls only.
    emit([{ index, delta: { role: message['role'] ?? 'assistant', content: typeof content === 'string' ? '' : null }, logprobs: null, finish_reason: null }]);
    if (typeof content === 'string') {
      for (let i = 0; i < content.length; i += REPLAY_PIECE_CHARS) {
        emit([{ index, delta: { content: content.slice(i, i + REPLAY_PIECE_CHARS) }, logprobs: null, finish_reason: null }]);
      }
    }
    if (typeof message['refusal'] === 'string') emit([{ index, delta: { refusal: message['refusal'] }, logprobs: null, finish_reason: null }]);
    const calls = message['tool_calls'];
    if (Array.isArray(calls)) {
      calls.forEach((call, i) => {
        const c = obj(call) ?? {};
        emit([{ index, delta: { tool_calls: [{ index: i, id: c['id'], type: c['type'] ?? 'function', function: c['function'] }] }, logprobs: null, finish_reason: null }]);
      });
    }
    if (message['function_call'] !== undefined) emit([{ index, delta: { function_call: message['function_call'] }, logprobs: null, finish_reason: null }]);
    emit([{ index, delta: {}, logprobs: null, finish_reason: choice['finish_reason'] ?? 'stop' }]);
  }
  if (includeUsage && completion['usage'] !== undefined) emit([], { usage: completion['usage'] });
  events.push('data: [DONE]\n\n');
  return Buffer.from(events.join(''), 'utf8');
}
