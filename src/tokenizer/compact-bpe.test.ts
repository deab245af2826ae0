import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { getEncoding } from 'js-tiktoken';
import { CompactBpe } from './compact-bpe.ts';

const require = createRequire(import.meta.url);
interface GptEncoding {
  encode(text: string, options: { disallowedSpecial: Set<string> }): number[];
}
const patterns = require('gpt-tokenizer/encodingParams/constants') as { O200K_TOKEN_SPLIT_REGEX: RegExp; CL100K_TOKEN_SPLIT_REGEX: RegExp };
const ENCODINGS = [
  ['o200k_base', patterns.O200K_TOKEN_SPLIT_REGEX],
  ['cl100k_base', patterns.CL100K_TOKEN_SPLIT_REGEX],
] as const;

function compact(name: string, split: RegExp): CompactBpe {
  return new CompactBpe(readFileSync(require.resolve(`gpt-tokenizer/data/${name}.tiktoken`)), split);
}

/** This repository's docs in 2,000-character slices, and random text over many scripts. */
function corpus(): string[] {
  const texts: string[] = [];
  const docs = new URL('../../docs/', import.meta.url);
  for (const file of readdirSync(docs).filter((f) => f.endsWith('.md')).slice(0, 12)) {
    const text = readFileSync(new URL(file, docs), 'utf8');
    for (let at = 0; at < text.length && at < 40_000; at += 2000) texts.push(text.slice(at, at + 2000));
  }
  let seed = 11;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  // ASCII, controls, Latin, combining marks, Cyrillic, Hebrew/Arabic, Devanagari, kana, CJK,
  // Hangul, emoji and lone surrogates (encoded as U+FFFD, as TextEncoder does).
  const ranges = [[0x20, 0x7e], [0x0, 0x1f], [0xa0, 0x2ff], [0x300, 0x36f], [0x370, 0x52f], [0x590, 0x6ff], [0x900, 0x97f], [0x3040, 0x30ff], [0x4e00, 0x9fff], [0xac00, 0xd7a3], [0x1f300, 0x1f6ff], [0xd800, 0xdfff]] as const;
  for (let k = 0; k < 600; k++) {
    let text = '';
    const length = 1 + Math.floor(rnd() * 120);
    for (let i = 0; i < length; i++) {
      const [low, high] = ranges[Math.floor(rnd() * ranges.length)] as readonly [number, number];
      const code = low + Math.floor(rnd() * (high - low + 1));
      text += code > 0xffff ? String.fromCodePoint(code) : String.fromCharCode(code);
      if (rnd() < 0.15) text += ' ';
    }
    texts.push(text);
  }
  texts.push('<|endoftext|> hi <|im_start|>', 'x'.repeat(300), '1234567890123', '   \n\n  \t', "I'm don't WE'LL", 'é', '');
  return texts;
}

void test('token ids are the same as gpt-tokenizer encode in both encodings', () => {
  const texts = corpus();
  for (const [name, split] of ENCODINGS) {
    const gpt = require(`gpt-tokenizer/encoding/${name}`) as GptEncoding;
    const bpe = compact(name, split);
    for (const text of texts) {
      const expected = gpt.encode(text, { disallowedSpecial: new Set() });
      assert.deepEqual(bpe.encode(text), expected, `${name}: ${JSON.stringify(text.slice(0, 80))}`);
      assert.equal(bpe.count(text), expected.length);
    }
  }
});

// gpt-tokenizer turns the bytes of U+FEFF into a string with TextDecoder, which drops a leading
// byte order mark, so it never finds that token; tiktoken (here its port js-tiktoken) does.
void test('U+FEFF encodes as tiktoken encodes it', () => {
  for (const [name, split] of ENCODINGS) {
    const bpe = compact(name, split);
    const tiktoken = getEncoding(name);
    for (const text of ['\ufeffhello', 'a\ufeffb', ' \ufeff\ufeff', '-\ufeff']) {
      assert.deepEqual(bpe.encode(text), tiktoken.encode(text), `${name}: ${JSON.stringify(text)}`);
    }
  }
});
