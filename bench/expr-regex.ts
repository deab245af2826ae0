/**
 * Cost of the issue-15/17 additions, per evaluation, on this machine: Regex (a constant pattern
 * compiled at load, against string.Contains), a Regex.Replace masking pass, SHA256/HMAC hashing,
 * and validate-content's work (JSON.parse plus the compiled ajv validator) on a typical chat body.
 *
 *   node bench/expr-regex.ts
 * @module
 */
import { compileExpression } from '../src/expressions/index.ts';
import { makeContext } from '../src/expressions/test-support.ts';
import { validatorFor } from '../src/policies/validate-content/schemas.ts';

const POS = { file: 'bench.xml', line: 1, col: 1 };
const prompt = 'Summarise the attached meeting notes for jane.doe@example.com and list the three decisions taken, in plain English. '.repeat(8);
const body = JSON.stringify({ model: 'gpt-4o', max_tokens: 200, messages: [{ role: 'system', content: 'You are helpful.' }, { role: 'user', content: prompt }] });

function perOp(name: string, fn: () => unknown, iterations: number): void {
  for (let i = 0; i < Math.min(2000, iterations); i++) fn();
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) fn();
  const us = ((performance.now() - t0) * 1000) / iterations;
  console.log(`${name.padEnd(58)} ${us.toFixed(2).padStart(8)} µs/op`);
}

const ctx = makeContext({ body });
const expr = (src: string): (() => unknown) => {
  const c = compileExpression(src, POS);
  return () => c.evaluate(ctx);
};
const inner = 'context.Request.Body.As<JObject>()["messages"].Last["content"].ToString()';

console.log(`prompt ${prompt.length} chars, body ${body.length} bytes`);
perOp('Contains (baseline, same body read)', expr(`@(${inner}.Contains("ignore previous instructions"))`), 20_000);
perOp('Regex.IsMatch constant pattern, IgnoreCase', expr(`@(Regex.IsMatch(${inner}, @"ignore\\s+(all\\s+)?previous\\s+instructions", RegexOptions.IgnoreCase))`), 20_000);
perOp('Regex.Replace e-mail masking', expr(`@(Regex.Replace(${inner}, @"[\\w.+-]+@[\\w-]+(\\.[\\w-]+)+", "***"))`), 5_000);
perOp('new Regex(dynamic pattern) (cached) + Matches.Count', expr(`@(new Regex("dec" + "ision").Matches(${inner}).Count)`), 5_000);
perOp('SHA256 of the body, hex (the SigV4 payload hash)', expr('@{ using (var s = SHA256.Create()) { return BitConverter.ToString(s.ComputeHash(Encoding.UTF8.GetBytes(context.Request.Body.As<string>()))).Replace("-", "").ToLowerInvariant(); } }'), 20_000);
perOp('HMACSHA256 x5 (the SigV4 key chain)', expr('@{ var k = Encoding.UTF8.GetBytes("AWS4secret"); foreach (var p in new [] { "20250115", "us-east-1", "bedrock", "aws4_request", "string-to-sign" }) { k = new HMACSHA256(k).ComputeHash(Encoding.UTF8.GetBytes(p)); } return k.Length; }'), 20_000);

const schema = { type: 'object', required: ['messages'], properties: { model: { type: 'string', pattern: '^gpt-' }, max_tokens: { type: 'integer', minimum: 1 }, messages: { type: 'array', minItems: 1, items: { type: 'object', required: ['role', 'content'], properties: { role: { enum: ['system', 'user', 'assistant'] }, content: { type: 'string' } } } } } };
const validate = validatorFor(schema, 'bench', undefined, undefined);
perOp('validate-content work: JSON.parse + ajv validator', () => validate(JSON.parse(body)), 50_000);
