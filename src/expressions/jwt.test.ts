import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeContext, runStr } from './test-support.ts';

const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const TOKEN = `${b64({ alg: 'RS256', typ: 'JWT', kid: 'k1' })}.${b64({ sub: 'user-1', oid: 'oid-42', aud: ['api://a', 'api://b'], iss: 'https://issuer', exp: 1767225600, iat: 1767222000, jti: 'id-1', roles: ['chat', 'admin'] })}.c2ln`;

const ctx = () => makeContext({ headers: { authorization: `Bearer ${TOKEN}`, 'x-not-jwt': 'hello' } });

test('AsJwt() reads the Authorization header\'s token: Subject, Issuer, Audiences, ExpirationTime, Algorithm, Id', () => {
  assert.equal(runStr('@(context.Request.Headers.GetValueOrDefault("Authorization","").AsJwt()?.Subject)', ctx()), 'user-1');
  assert.equal(runStr('@(context.Request.Headers.GetValueOrDefault("Authorization","").AsJwt().Issuer)', ctx()), 'https://issuer');
  assert.equal(runStr('@(string.Join(";", context.Request.Headers.GetValueOrDefault("Authorization","").AsJwt().Audiences))', ctx()), 'api://a;api://b');
  assert.equal(runStr('@(context.Request.Headers.GetValueOrDefault("Authorization","").AsJwt().ExpirationTime?.ToString("yyyy-MM-dd"))', ctx()), '2026-01-01');
  assert.equal(runStr('@(context.Request.Headers.GetValueOrDefault("Authorization","").AsJwt().Algorithm + "/" + context.Request.Headers.GetValueOrDefault("Authorization","").AsJwt().Id)', ctx()), 'RS256/id-1');
  assert.equal(runStr('@(context.Request.Headers.GetValueOrDefault("x-not-jwt","").AsJwt() == null)', ctx()), 'True');
});

test('Claims.GetValueOrDefault joins a claim\'s values with commas and falls back to the default', () => {
  assert.equal(runStr('@(context.Request.Headers.GetValueOrDefault("Authorization","").AsJwt().Claims.GetValueOrDefault("roles", "none"))', ctx()), 'chat,admin');
  assert.equal(runStr('@(context.Request.Headers.GetValueOrDefault("Authorization","").AsJwt().Claims.GetValueOrDefault("missing", "none"))', ctx()), 'none');
  assert.equal(runStr('@(context.Request.Headers.GetValueOrDefault("Authorization","").AsJwt().Claims.ContainsKey("oid"))', ctx()), 'True');
});

test('TryParseJwt(out ...) and a (Jwt) cast of a variable', () => {
  assert.equal(runStr('@{ Jwt jwt; if (context.Request.Headers.GetValueOrDefault("Authorization","").TryParseJwt(out jwt)) { return jwt.Claims.GetValueOrDefault("oid"); } return "no"; }', ctx()), 'oid-42');
  assert.equal(runStr('@("garbage".TryParseJwt(out var j) ? "yes" : "no")', ctx()), 'no');
  const c = ctx();
  c.variables.set('raw', `Bearer ${TOKEN}`);
  assert.equal(runStr('@{ var j = ((string)context.Variables["raw"]).AsJwt(); return (j is Jwt) + ":" + ((Jwt)(object)j).Claims.GetValueOrDefault("oid"); }', c), 'True:oid-42');
  assert.equal(runStr('@(context.User == null)', c), 'True');
});
