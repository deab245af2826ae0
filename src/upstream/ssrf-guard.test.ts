import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkTarget, isInternalAddress } from './ssrf-guard.ts';

const CLOSED = { allowPrivateNetworks: false, allowedHosts: [] };

void test('internal IPv4 ranges and every IPv6 form that carries an internal IPv4 are internal', () => {
  for (const a of [
    '127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255',
    '::1', '::', '::127.0.0.1', '::7f00:1', '::8.8.8.8', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:a9fe:a9fe', '::ffff:0:7f00:1',
    '64:ff9b::127.0.0.1', '64:ff9b::a00:1', '64:ff9b:1::1', '2002:7f00:1::', '2002:c0a8:101::1', '2001::1', '2001:db8::1',
    'fc00::1', 'fd12:3456::1', 'fe80::1', 'fe80::1%eth0', 'fec0::1', 'ff02::1', 'localhost', 'not-an-ip',
  ]) {
    assert.equal(isInternalAddress(a), true, a);
  }
});

void test('public addresses, including IPv6 forms of public IPv4, are not internal', () => {
  for (const a of ['8.8.8.8', '1.1.1.1', '::ffff:8.8.8.8', '::ffff:808:808', '64:ff9b::808:808', '2002:808:808::1', '2606:4700:4700::1111', '2a00:1450:4001::1']) {
    assert.equal(isInternalAddress(a), false, a);
  }
});

void test('URL spellings of loopback are refused after the URL parser normalises them', () => {
  for (const u of ['http://2130706433/', 'http://0x7f000001/', 'http://0177.0.0.1/', 'http://127.1/', 'http://[::127.0.0.1]/', 'http://[0:0:0:0:0:ffff:127.0.0.1]/', 'https://[64:ff9b::7f00:1]/']) {
    assert.equal(checkTarget(new URL(u), CLOSED), 'the target address is internal', u);
  }
  assert.match(checkTarget(new URL('file:///etc/passwd'), CLOSED) ?? '', /only http and https/);
  assert.equal(checkTarget(new URL('https://example.com/'), CLOSED), null, 'names are judged when resolved');
  assert.equal(checkTarget(new URL('http://127.0.0.1/'), { allowPrivateNetworks: true, allowedHosts: [] }), null);
});
