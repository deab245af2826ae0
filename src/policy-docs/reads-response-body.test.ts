/**
 * The load-time decision to hold the backend's answer: an outbound expression that reads
 * `context.Response.Body` (directly, inside a choose, or in an included fragment) marks the
 * document, and the merged pipeline holds the answer when the outbound section it ends up with
 * contains such a document's policies (through <base/>, or its own).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePolicyXml } from './xml-reader.ts';
import { readsResponseBody } from './reads-response-body.ts';
import { BASE, mergeScopes, type CompiledDocument } from './compile.ts';
import type { Policy } from '../core/pipeline.ts';

const outbound = (xml: string): ReturnType<typeof parsePolicyXml>['children'] => parsePolicyXml(`<outbound>${xml}</outbound>`, 't.xml').children;

test('an expression reading context.Response.Body is found in attributes, texts, nested policies and included fragments; other expressions and literal text are not', () => {
  const none = new Map();
  assert.equal(readsResponseBody(outbound('<set-variable name="b" value="@(context.Response.Body.As<string>(preserveContent: true))" />'), none), true);
  assert.equal(readsResponseBody(outbound('<choose><when condition="@(true)"><set-body>@{ var b = context.Response.Body.As<JObject>(); return b.ToString(); }</set-body></when></choose>'), none), true);
  assert.equal(readsResponseBody(outbound('<set-variable name="b" value="@(context.Response?.Body?.As<string>())" />'), none), true);
  assert.equal(readsResponseBody(outbound('<set-header name="s" exists-action="override"><value>@(context.Response.StatusCode.ToString())</value></set-header>'), none), false);
  assert.equal(readsResponseBody(outbound('<set-body>context.Response.Body is mentioned in plain text</set-body>'), none), false);
  assert.equal(readsResponseBody(outbound('<set-variable name="b" value="@(((IResponse)context.Variables["r"]).Body.As<string>())" />'), none), false);
  const fragments = new Map([['deanon', parsePolicyXml('<fragment><set-variable name="b" value="@(context.Response.Body.As<string>())" /></fragment>', 'f.xml')]]);
  assert.equal(readsResponseBody(outbound('<include-fragment fragment-id="deanon" />'), fragments), true);
});

test('the merged pipeline holds the answer only when the outbound section it runs came from (or kept, through base) a document that reads the body', () => {
  const p: Policy = { name: 'set-header', run: () => undefined };
  const root: CompiledDocument = { sections: {} };
  const reads: CompiledDocument = { sections: { outbound: [BASE, p] }, outboundReadsBody: true };
  const keeps: CompiledDocument = { sections: { outbound: [BASE, p] } };
  const replaces: CompiledDocument = { sections: { outbound: [p] } };
  const inboundOnly: CompiledDocument = { sections: { inbound: [BASE, p] } };
  assert.equal(mergeScopes(root, [reads]).holdResponseBody, true);
  assert.equal(mergeScopes(root, [reads, keeps]).holdResponseBody, true);
  assert.equal(mergeScopes(root, [reads, inboundOnly]).holdResponseBody, true);
  assert.equal(mergeScopes(root, [reads, replaces]).holdResponseBody, undefined);
  assert.equal(mergeScopes(root, [keeps, reads]).holdResponseBody, true);
  assert.equal(mergeScopes(root, [keeps, replaces]).holdResponseBody, undefined);
});
