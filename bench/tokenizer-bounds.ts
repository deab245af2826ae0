// Bounded token counting, measured: the synchronous stall (wall and CPU time) for hostile one-word text
// (prompt and streamed-completion estimates) against the unbounded library call, and the
// accuracy of the bounded count against exact BPE on ordinary text (English prose, code, JSON,
// CJK) from files shipped in node_modules and docs/. Run: node bench/tokenizer-bounds.ts [--before]
// (--before also times the unbounded call on 60 KB and 120 KB one-word text: seconds each).
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { countPromptTokens, countTextTokens } from '../src/tokenizer/index.ts';

const require = createRequire(import.meta.url);
const PLAIN = { disallowedSpecial: new Set<string>() };
const o200k = require('gpt-tokenizer/encoding/o200k_base') as { encode(t: string, o?: object): number[] };

/** Wall time of a synchronous call, and its CPU time (the wall time inflates on a busy machine). */
function ms(fn: () => unknown): { ms: number; cpu: number; value: unknown } {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const value = fn();
  const used = process.cpuUsage(cpu);
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, cpu: (used.user + used.system) / 1000, value };
}

let seed = 11;
const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
const randomWord = (n: number): string => Array.from({ length: n }, () => String.fromCharCode(97 + Math.floor(rnd() * 26))).join('');

console.log('# Worst synchronous stall (ms), bounded count');
const sizes: Array<[string, number]> = [
  ['60 KB', 60 * 1024],
  ['1 MiB', 1024 * 1024],
  ['4 MiB', 4 * 1024 * 1024],
];
countTextTokens('warm up the encoding', 'gpt-4o');
for (const [label, n] of sizes) {
  for (const [kind, text] of [
    ['random letters', randomWord(n)],
    ['one letter', 'a'.repeat(n)],
    ['punctuation', '!'.repeat(n)],
    ['spaces', ' '.repeat(n)],
  ] as const) {
    const prompt = ms(() => countPromptTokens({ model: 'gpt-4o', messages: [{ role: 'user', content: text }] }, 'chat'));
    const completion = ms(() => countTextTokens(text, 'gpt-4o'));
    console.log(`${label.padEnd(6)} ${kind.padEnd(15)} prompt ${prompt.ms.toFixed(1).padStart(6)} ms (cpu ${prompt.cpu.toFixed(1)}, ${String(prompt.value).padStart(8)} tokens)  completion ${completion.ms.toFixed(1).padStart(6)} ms (cpu ${completion.cpu.toFixed(1)})`);
  }
}
// Many strings: the budget is per request, not per string.
{
  const messages = Array.from({ length: 2000 }, () => ({ role: 'user', content: randomWord(2000) }));
  const r = ms(() => countPromptTokens({ model: 'gpt-4o', messages }, 'chat'));
  console.log(`2000 messages x 2000 random letters (4 MB): ${r.ms.toFixed(1)} ms (cpu ${r.cpu.toFixed(1)})`);
}

if (process.argv.includes('--before')) {
  console.log('# Unbounded library call (before)');
  for (const n of [60 * 1024, 120 * 1024]) {
    const r = ms(() => o200k.encode(randomWord(n), PLAIN).length);
    console.log(`${(n / 1024).toFixed(0)} KB random letters: ${r.ms.toFixed(0)} ms (cpu ${r.cpu.toFixed(0)})`);
  }
}

console.log('# Accuracy of the bounded count vs exact BPE (o200k_base)');
function corpus(): Array<[string, string]> {
  const docs = readdirSync('docs')
    .filter((f) => f.endsWith('.md'))
    .map((f) => readFileSync(`docs/${f}`, 'utf8'))
    .join('\n\n');
  const prose = docs.replace(/```[\s\S]*?```/g, '');
  const code = readFileSync('node_modules/typescript/lib/typescript.js', 'utf8');
  const json = readFileSync('package-lock.json', 'utf8') + JSON.stringify(JSON.parse(readFileSync('node_modules/typescript/lib/typesMap.json', 'utf8')), null, 2);
  const cjk = ['zh-cn', 'ja', 'ko']
    .map((l) => Object.values(JSON.parse(readFileSync(`node_modules/typescript/lib/${l}/diagnosticMessages.generated.json`, 'utf8')) as Record<string, string>).join('\n'))
    .join('\n');
  return [
    ['English prose', prose],
    ['code (JS)', code],
    ['JSON', json],
    ['CJK', cjk],
  ];
}
for (const [name, all] of corpus()) {
  for (const n of [8 * 1024, 64 * 1024, 256 * 1024, 1024 * 1024]) {
    if (all.length < n) continue;
    let worst = 0;
    let sum = 0;
    const trials = 5;
    for (let t = 0; t < trials; t++) {
      const start = Math.floor(rnd() * (all.length - n));
      const text = all.slice(start, start + n);
      const exact = o200k.encode(text, PLAIN).length;
      const bounded = countTextTokens(text, 'gpt-4o');
      const err = Math.abs(bounded - exact) / exact;
      worst = Math.max(worst, err);
      sum += err;
    }
    console.log(`${name.padEnd(14)} ${String(n / 1024).padStart(5)} KiB  mean error ${((100 * sum) / trials).toFixed(3)}%  worst ${(100 * worst).toFixed(3)}%`);
  }
}
