import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PolicyElement } from './element.ts';
import { parsePolicyXml, parseXmlElements } from './xml-reader.ts';
import { seedBlock, seedBlocks, shape, throwsAt } from '../../test/helpers/policy-docs.ts';





function find(el: PolicyElement, name: string): PolicyElement[] {
  const out: PolicyElement[] = el.name === name ? [el] : [];
  for (const c of el.children) out.push(...find(c, name));
  return out;
}

function only(el: PolicyElement, name: string): PolicyElement {
  const found = find(el, name);
  assert.equal(found.length, 1, `expected one <${name}>`);
  return found[0]!;
}

function names(el: PolicyElement | undefined): string[] {
  return (el?.children ?? []).map((c) => c.name);
}


// --- seeds ---

test('every xml block of the seeds parses as XML, and as a policy document unless it is a lone policy', () => {
  const blocks = seedBlocks();
  assert.ok(blocks.length >= 15, `found only ${blocks.length} xml blocks`);
  for (const b of blocks) {
    const roots = parseXmlElements(b.xml, b.file);
    assert.ok(roots.length >= 1, `${b.file} block ${b.index}`);
    if (roots[0]!.name === 'retry') {
      // The lone <retry> of the seeds is a snippet, not a document: it reads inside a fragment.
      throwsAt(() => parsePolicyXml(b.xml, b.file), 1, 1, /root must be <policies>, <fragment>/);
      const fragment = parsePolicyXml(`<fragment>${b.xml}</fragment>`, b.file);
      assert.deepEqual(names(fragment), ['retry']);
      continue;
    }
    const root = parsePolicyXml(b.xml, b.file);
    assert.equal(root.name, 'policies', `${b.file} block ${b.index}`);
    for (const s of root.children) assert.match(s.name, /^(inbound|backend|outbound|on-error)$/);
  }
});

test('the complete policy has its sections and their elements in order', () => {
  const root = parsePolicyXml(seedBlock('<policies>'), 'complete.xml');
  assert.equal(root.name, 'policies');
  assert.deepEqual(names(root), ['inbound', 'backend', 'outbound', 'on-error']);
  const [inbound, backend, outbound, onError] = root.children;
  assert.deepEqual(names(inbound), ['base', 'llm-token-limit', 'llm-semantic-cache-lookup', 'set-backend-service', 'authentication-managed-identity']);
  assert.deepEqual(names(backend), ['retry']);
  assert.deepEqual(names(backend?.children[0]), ['forward-request']);
  assert.deepEqual(names(outbound), ['base', 'llm-semantic-cache-store', 'set-header']);
  assert.deepEqual(names(outbound?.children[2]), ['value']);
  assert.deepEqual(names(onError), ['base', 'set-header', 'return-response']);
  assert.deepEqual(names(onError?.children[2]), ['set-status', 'set-body']);

  const limit = only(root, 'llm-token-limit');
  assert.equal(limit.attrs.get('counter-key')?.value, '@(context.Subscription.Id)');
  assert.deepEqual(limit.attrs.get('counter-key')?.pos, { file: 'complete.xml', line: 8, col: 26 });
  assert.deepEqual(limit.pos, { file: 'complete.xml', line: 6, col: 9 });
  assert.equal(only(root, 'retry').attrs.get('condition')?.value, '@(context.Response.StatusCode == 429 || context.Response.StatusCode >= 500)');
  assert.equal(only(root, 'llm-semantic-cache-lookup').attrs.get('score-threshold')?.value, '0.95');

  const body = only(onError!, 'set-body').text;
  assert.equal(
    body?.value,
    [
      '@{',
      '                return new JObject(',
      '                    new JProperty("error", "AI Gateway Error"),',
      '                    new JProperty("requestId", context.RequestId.ToString())',
      '                ).ToString();',
      '            }',
    ].join('\n'),
  );
  assert.deepEqual(body?.pos, { file: 'complete.xml', line: 54, col: 23 });
  assert.equal(only(outbound!, 'value').text?.value, '@(context.Response.Headers.GetValueOrDefault("x-ms-total-tokens", "0"))');
  assert.equal(only(onError!, 'value').text?.value, 'application/json');
});

test('raw expressions in attributes keep their quotes, generics and operators', () => {
  const quota = parsePolicyXml(seedBlock('cache-lookup-value'), 'quota.xml');
  const key = only(quota, 'cache-lookup-value').attrs.get('key');
  assert.equal(key?.value, '@("token-usage-" + context.Subscription.Id)');
  assert.deepEqual(key?.pos, { file: 'quota.xml', line: 11, col: 14 });
  assert.equal(only(quota, 'cache-lookup-value').attrs.get('variable-name')?.value, 'tokenUsage');

  const filter = parsePolicyXml(seedBlock('ignore previous instructions'), 'filter.xml');
  const when = only(filter, 'when');
  assert.equal(
    when.attrs.get('condition')?.value,
    '@(context.Request.Body.As<JObject>()["messages"]\n' +
      '                         .Any(m => m["content"].ToString().Contains("ignore previous instructions")))',
  );
  assert.deepEqual(names(only(when, 'return-response')), ['set-status', 'set-body']);
  assert.equal(only(filter, 'set-body').text?.value, '{"error": "Request contains prohibited content"}');
  assert.equal(only(filter, 'set-status').attrs.get('reason')?.value, 'Bad Request');
});

test('raw expressions in element text keep generics and string literals', () => {
  const streaming = parsePolicyXml(seedBlock('?.Value<bool>()'), 'streaming.xml');
  assert.deepEqual(names(streaming), ['inbound', 'outbound']);
  const value = only(streaming, 'value').text;
  assert.equal(
    value?.value,
    '@(context.Request.Body.As<JObject>()["stream"]?.Value<bool>() == true\n            ? "text/event-stream" : "application/json")',
  );
  assert.deepEqual(value?.pos, { file: 'streaming.xml', line: 9, col: 16 });

  const log = only(parsePolicyXml(seedBlock('log-to-eventhub'), 'log.xml'), 'log-to-eventhub');
  assert.equal(log.attrs.get('logger-id')?.value, 'token-usage-logger');
  assert.match(log.text?.value ?? '', /^@\{\n {8}return new JObject\([\s\S]*\)\.ToString\(\);\n {4}\}$/);
});

test('bare sections are wrapped in a policies element at the first section', () => {
  const root = parsePolicyXml('<!-- lead -->\n  <inbound><base /></inbound>\n<outbound />', 'bare.xml');
  assert.equal(root.name, 'policies');
  assert.deepEqual(root.pos, { file: 'bare.xml', line: 2, col: 3 });
  assert.deepEqual(root.attrs.size, 0);
  assert.equal(root.text, null);
  assert.deepEqual(names(root), ['inbound', 'outbound']);
  assert.deepEqual(parsePolicyXml('<fragment><set-variable name="a" value="1" /></fragment>', 'f.xml').name, 'fragment');
});

// --- expressions ---

test('escaped and raw expressions give identical trees', () => {
  const raw = `<policies><inbound>
  <choose>
    <when condition="@(context.Request.Headers.GetValueOrDefault("a", "") == "x" && context.Variables.ContainsKey("y"))">
      <set-body>@{ var l = new List<string>(); return l.Count < 2 ? "a&b" : "b"; }</set-body>
    </when>
  </choose>
  <set-variable name='c' value='@(context.Request.Body.As<JObject>()["k"].ToString()[0] == 'x')' />
</inbound></policies>`;
  const escaped = `<policies><inbound>
  <choose>
    <when condition="@(context.Request.Headers.GetValueOrDefault(&quot;a&quot;, &quot;&quot;) == &quot;x&quot; &amp;&amp; context.Variables.ContainsKey(&quot;y&quot;))">
      <set-body>@{ var l = new List&lt;string&gt;(); return l.Count &lt; 2 ? "a&amp;b" : "b"; }</set-body>
    </when>
  </choose>
  <set-variable name='c' value='@(context.Request.Body.As&lt;JObject&gt;()["k"].ToString()[0] == &apos;x&apos;)' />
</inbound></policies>`;
  const a = parsePolicyXml(raw, 'raw.xml');
  const b = parsePolicyXml(escaped, 'escaped.xml');
  assert.deepEqual(shape(a), shape(b));
  assert.equal(
    only(a, 'when').attrs.get('condition')?.value,
    '@(context.Request.Headers.GetValueOrDefault("a", "") == "x" && context.Variables.ContainsKey("y"))',
  );
  assert.equal(only(a, 'set-body').text?.value, '@{ var l = new List<string>(); return l.Count < 2 ? "a&b" : "b"; }');
  assert.equal(only(a, 'set-variable').attrs.get('value')?.value, `@(context.Request.Body.As<JObject>()["k"].ToString()[0] == 'x')`);
});

test('delimiters inside C# literals and comments do not end an expression', () => {
  const cases: [string, string][] = [
    ['@(ctx.Get(")"))', 'string'],
    ['@(ctx.Get("\\")("))', 'escaped quote'],
    ['@(@"a"")b" + x)', 'verbatim string'],
    ['@($"{ctx.A}) {{ }}" + $"{(ctx.B ? ")" : "(")}")', 'interpolated string'],
    ['@($@"{ctx.A}"")" + @$"x")', 'verbatim interpolated'],
    ["@(c == ')' || c == '\\'')", 'char literals'],
    ['@(a /* ) */ + b)', 'block comment'],
    ['@{\n  // closing } here\n  return "}";\n}', 'line comment'],
    ['@{ return new JObject(new JProperty("a", new JObject { { "b", 1 } })).ToString(); }', 'nested braces'],
  ];
  for (const [expr, label] of cases) {
    const xml = `<fragment><set-variable name="v" value="@(1)" /><value>${expr}</value></fragment>`;
    assert.equal(only(parsePolicyXml(xml, 'e.xml'), 'value').text?.value, expr, label);
    if (!expr.includes('\n') && !expr.includes("'")) {
      const attr = `<fragment><set-variable name="v" value='${expr}' /></fragment>`;
      assert.equal(only(parsePolicyXml(attr, 'e.xml'), 'set-variable').attrs.get('value')?.value, expr, label);
    }
  }
});

test('an attribute value that merely contains @( is plain text', () => {
  const root = parsePolicyXml('<fragment><set-header name="x @(y)" /></fragment>', 'p.xml');
  assert.equal(only(root, 'set-header').attrs.get('name')?.value, 'x @(y)');
});

// --- XML rules ---

test('entities, CDATA, comments, declaration and BOM', () => {
  const xml =
    '\uFEFF<?xml version="1.0" encoding="utf-8"?>\n<!-- c -->\n<policies>\n' +
    '<inbound><set-header name="a&amp;b &#65;&#x42; &lt;&gt;&quot;&apos;" /><set-body>  x &lt; y &amp; <![CDATA[<raw> & ]]> z  </set-body>' +
    '<set-body><![CDATA[  {"a": "<b>"}  ]]></set-body></inbound></policies><!-- trailing -->\n';
  const root = parsePolicyXml(xml, 'e.xml');
  assert.equal(only(root, 'set-header').attrs.get('name')?.value, `a&b AB <>"'`);
  const [first, second] = find(root, 'set-body');
  assert.equal(first?.text?.value, 'x < y & <raw> &  z');
  assert.deepEqual(first?.text?.pos, { file: 'e.xml', line: 4, col: 84 });
  assert.equal(second?.text?.value, '{"a": "<b>"}');
  assert.deepEqual(second?.text?.pos, { file: 'e.xml', line: 4, col: 155 });
});

test('mixed text and child elements keep both', () => {
  const root = parsePolicyXml('<fragment><x>\n  hello <y a="1"/> world\n</x></fragment>', 'm.xml');
  const x = only(root, 'x');
  assert.deepEqual(names(x), ['y']);
  assert.equal(x.text?.value, 'hello  world');
  assert.deepEqual(x.text?.pos, { file: 'm.xml', line: 2, col: 3 });
  assert.equal(only(root, 'y').text, null);
});

test('CRLF counts as one line break and values hold LF only', () => {
  const lf = '<policies>\n  <inbound>\n    <set-variable name="a"\n      value="@(1 +\n  2)" />\n    <value>\n  multi\n  line\n</value>\n  </inbound>\n</policies>';
  const crlf = lf.replace(/\n/g, '\r\n');
  const a = parsePolicyXml(lf, 'a.xml');
  const b = parsePolicyXml(crlf, 'a.xml');
  assert.deepEqual(shape(a), shape(b));
  assert.deepEqual(only(b, 'set-variable').attrs.get('value'), { value: '@(1 +\n  2)', pos: { file: 'a.xml', line: 4, col: 14 } });
  assert.deepEqual(only(b, 'value').text, { value: 'multi\n  line', pos: { file: 'a.xml', line: 7, col: 3 } });
  throwsAt(() => parsePolicyXml(crlf.replace('<value>', '<value x="1" x="2">'), 'a.xml'), 6, 18, /duplicate attribute 'x'/);
});

test('columns count UTF-16 code units', () => {
  const root = parsePolicyXml('<fragment><set-header name="😀é" value="v" /></fragment>', 'u.xml');
  assert.deepEqual(only(root, 'set-header').attrs.get('value')?.pos, { file: 'u.xml', line: 1, col: 41 });
});

// --- errors ---

test('errors: unclosed, mismatched and stray tags', () => {
  throwsAt(() => parsePolicyXml('<policies>\n  <inbound>\n    <base />\n  </inbound>\n', 'x.xml'), 1, 1, /<policies> is never closed/);
  throwsAt(
    () => parsePolicyXml('<policies>\n  <inbound>\n    <base>\n  </inbound>\n</policies>', 'x.xml'),
    4,
    3,
    /closing tag <\/inbound> does not match <base> opened at 3:5/,
  );
  throwsAt(() => parsePolicyXml('<policies>\n  <inbound\n', 'x.xml'), 2, 3, /start tag <inbound> is never closed/);
  throwsAt(() => parsePolicyXml('<policies>\n  <inbound\n<base /></inbound></policies>', 'x.xml'), 3, 1, /start tag <inbound> is not closed before the next '<'/);
  throwsAt(() => parsePolicyXml('</policies>', 'x.xml'), 1, 1, /no matching opening tag/);
  throwsAt(() => parsePolicyXml('<policies><inbound><!-- x </inbound></policies>', 'x.xml'), 1, 20, /comment is never closed/);
});

test('errors: unterminated expressions', () => {
  // The `"` meant to close the attribute opens a C# string instead, which runs to the end of the line.
  throwsAt(
    () => parsePolicyXml('<policies><inbound>\n  <set-variable name="a" value="@(context.Variables.ContainsKey("x")" />\n</inbound></policies>', 'x.xml'),
    2,
    33,
    /expression in attribute 'value' of <set-variable> is never closed: the string literal at 2:69/,
  );
  throwsAt(
    () => parsePolicyXml('<policies>\n<inbound><value>@(a + (b)</value></inbound></policies>', 'x.xml'),
    2,
    17,
    /expression in element <value> is never closed \(missing '\)' for the '@\(' at 2:17\)/,
  );
  throwsAt(
    () => parsePolicyXml('<fragment><set-body>@{ return 1; </set-body></fragment>', 'x.xml'),
    1,
    21,
    /missing '}'/,
  );
  throwsAt(
    () => parsePolicyXml('<fragment>\n  <x a="@(1)b" /></fragment>', 'x.xml'),
    2,
    13,
    /attribute 'a' of <x>: expected the closing " right after the expression/,
  );
  throwsAt(
    () => parsePolicyXml('<fragment><value>@(1) + 2</value></fragment>', 'x.xml'),
    1,
    23,
    /only whitespace may follow the expression in <value>/,
  );
});

test('errors: attributes', () => {
  throwsAt(
    () => parsePolicyXml('<policies>\n<inbound>\n<set-header name="a" exists-action="override" name="b" />', 'x.xml'),
    3,
    47,
    /duplicate attribute 'name' on <set-header>/,
  );
  throwsAt(() => parsePolicyXml('<fragment><x a=1 /></fragment>', 'x.xml'), 1, 16, /attribute 'a' of <x> must be quoted/);
  throwsAt(() => parsePolicyXml('<fragment><x a /></fragment>', 'x.xml'), 1, 16, /attribute 'a' of <x> has no value/);
  throwsAt(() => parsePolicyXml('<fragment><x a="1"b="2" /></fragment>', 'x.xml'), 1, 19, /separated .* by whitespace/);
  throwsAt(() => parsePolicyXml('<fragment><x a="1 />\n<y b="2" /></fragment>', 'x.xml'), 2, 1, /'<' in the value of attribute 'a' of <x>/);
  throwsAt(() => parsePolicyXml('<fragment><x a="?a=1&b=2" /></fragment>', 'x.xml'), 1, 21, /'&' in attribute 'a' of <x> must be written &amp;/);
  throwsAt(() => parsePolicyXml('<fragment><x a="&nbsp;" /></fragment>', 'x.xml'), 1, 17, /unknown entity &nbsp;/);
  throwsAt(() => parsePolicyXml('<fragment><x a="&#0;" /></fragment>', 'x.xml'), 1, 17, /not a valid XML character/);
  throwsAt(() => parsePolicyXml('<fragment><x a="1"', 'x.xml'), 1, 11, /start tag <x> is never closed/);
});

test('errors: text and markup', () => {
  throwsAt(() => parsePolicyXml('<fragment><set-body>a & b</set-body></fragment>', 'x.xml'), 1, 23, /'&' in the text of <set-body>/);
  throwsAt(() => parsePolicyXml('<fragment><set-body>1 < 2</set-body></fragment>', 'x.xml'), 1, 23, /expected an element name after '<'/);
  throwsAt(() => parsePolicyXml('<!DOCTYPE x><policies/>', 'x.xml'), 1, 1, /DOCTYPE/);
  throwsAt(() => parsePolicyXml('<policies><?pi x?></policies>', 'x.xml'), 1, 11, /processing instructions/);
  throwsAt(() => parsePolicyXml('<policies><![CDATA[ x', 'x.xml'), 1, 11, /CDATA section in <policies> is never closed/);
});

test('errors: the root', () => {
  throwsAt(() => parsePolicyXml('<policies></policies>\nxyz', 'x.xml'), 2, 1, /text outside the root element/);
  throwsAt(() => parsePolicyXml('  hello <policies/>', 'x.xml'), 1, 3, /text outside the root element/);
  throwsAt(() => parsePolicyXml('\n<retry count="3"><forward-request /></retry>', 'x.xml'), 2, 1, /root must be <policies>, <fragment>, or a sequence of .* sections, not <retry>/);
  throwsAt(() => parsePolicyXml('<policies/>\n<policies/>', 'x.xml'), 2, 1, /only one root element/);
  throwsAt(() => parsePolicyXml('<inbound/>\n<retry/>', 'x.xml'), 2, 1, /bare sections may hold only .*, not <retry>/);
  throwsAt(() => parsePolicyXml(' <!-- nothing -->\n', 'x.xml'), 1, 1, /no root element/);
  throwsAt(() => parsePolicyXml('<?xml version="1.0"', 'x.xml'), 1, 1, /declaration is never closed/);
});

test('limits: nesting depth and document size', () => {
  const nest = (levels: number): string => '<policies>' + '<x>'.repeat(levels - 1) + '</x>'.repeat(levels - 1) + '</policies>';
  assert.equal(parsePolicyXml(nest(64), 'deep.xml').name, 'policies');
  throwsAt(() => parsePolicyXml(nest(65), 'deep.xml'), 1, 11 + 63 * 3, /<x> is nested deeper than 64 elements/);

  const filler = `<!-- ${'x'.repeat(1024 * 1024)} -->`;
  throwsAt(() => parsePolicyXml(`<policies/>${filler}`, 'big.xml'), 1, 1, /larger than 1048576 bytes/);
  // Bytes, not UTF-16 units: 400k three-byte characters are 1.2 MB.
  throwsAt(() => parsePolicyXml(`<policies>${'€'.repeat(400_000)}</policies>`, 'big.xml'), 1, 1, /larger than/);
});
