import assert from 'node:assert/strict';
import { test } from 'node:test';
import { promptKey } from './prompt-key.ts';

// Shapes as the previous implementation wrote them (keyed reads of every shaping field): partition
// ids derive from them, so entries stored by an older replica, or before a restart with a shared
// Redis stream, must keep their partition.
const GOLDEN: [Record<string, unknown>, string][] = [
  [{"model":"m","messages":[{"role":"user","content":"hello"}]}, "[\"std\",\"std\",[],[]]"],
  [{"model":"m","temperature":0,"top_p":0.55,"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}]}, "[\"zero\",\"p6\",[\"be brief\"],[]]"],
  [{"messages":[{"role":"user","content":"x"}],"seed":7,"max_tokens":10,"tools":[{"type":"function","function":{"name":"f","parameters":{"b":1,"a":2}}}],"n":2,"stop":["\n"],"tool_choice":"auto"}, "[\"std\",\"std\",[],[],\"tools\",[{\"function\":{\"name\":\"f\",\"parameters\":{\"a\":2,\"b\":1}},\"type\":\"function\"}],\"tool_choice\",\"auto\",\"n\",2,\"seed\",7,\"stop\",[\"\\n\"],\"max_tokens\",10]"],
  [{"stop":null,"logit_bias":{"1":0,"2":1},"temperature":1.5,"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"u"}}]}],"response_format":{"type":"json_object"},"unknown_field":1}, "[\"high\",\"std\",[],[{\"image_url\":{\"url\":\"u\"},\"type\":\"image_url\"}],\"response_format\",{\"type\":\"json_object\"},\"stop\",null,\"logit_bias\",{\"1\":0,\"2\":1}]"],
  [{"frequency_penalty":0.1,"presence_penalty":0,"reasoning_effort":"low","modalities":["text"],"audio":{"voice":"x"},"functions":[],"function_call":"none","parallel_tool_calls":false,"max_completion_tokens":5,"logprobs":true,"top_logprobs":2,"messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"1"}]},{"role":"tool","tool_call_id":"1","content":"r"},{"role":"user","content":"q"}]}, "[\"std\",\"std\",[],[[{\"id\":\"1\"}],\"1\"],\"functions\",[],\"function_call\",\"none\",\"parallel_tool_calls\",false,\"max_completion_tokens\",5,\"logprobs\",true,\"top_logprobs\",2,\"presence_penalty\",0,\"frequency_penalty\",0.1,\"reasoning_effort\",\"low\",\"modalities\",[\"text\"],\"audio\",{\"voice\":\"x\"}]"],
];

test('the shape of a request (temperature and top_p classes, system, extras, shaping fields in their fixed order) is unchanged', () => {
  for (const [json, shape] of GOLDEN) assert.equal(promptKey(json, false)?.shape, shape);
});

test('shaping fields count in their fixed order, whatever the order of the request’s keys', () => {
  const a = promptKey({ seed: 1, n: 2, tools: [], messages: [{ role: 'user', content: 'q' }] }, false);
  const b = promptKey({ messages: [{ role: 'user', content: 'q' }], tools: [], n: 2, seed: 1 }, false);
  assert.equal(a?.shape, b?.shape);
  assert.equal(a?.shape, '["std","std",[],[],"tools",[],"n",2,"seed",1]');
});
