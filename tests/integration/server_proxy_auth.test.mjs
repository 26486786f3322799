// Trusted reverse-proxy sign-in (security-design §3.2): with `--auth proxy`, identity headers are
// believed only on the loopback `--proxy-listen` listener; there they create the clinician's
// account and a veil-server cookie session. Without a Veil group: 403. On the public listener the
// same headers are refused (400) and audited, and password sign-in is off.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './lib/stack.mjs';

process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';  // the stack's self-signed demo certificate

const PROXY = 'http://127.0.0.1:18444';
let stack;

before(async () => {
  stack = await startStack({ tls: true,
    extraServerArgs: ['--auth', 'proxy', '--proxy-listen', '127.0.0.1:18444'] });
});

after(async () => { await stack?.stop(); });

async function call(base, method, path, headers = {}, body) {
  const init = { method, headers: { Origin: stack.origin, ...headers } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['Content-Type'] = 'application/json';
  }
  const response = await fetch(`${base}${path}`, init);
  const text = await response.text();
  let json = null;
  try { json = JSON.parse(text); } catch (_) { /* not JSON */ }
  return { status: response.status, json, headers: response.headers };
}

test('the proxy listener trusts X-Veil-User/X-Veil-Groups and issues a session', async () => {
  const identity = { 'X-Veil-User': 'idp-subject-4711', 'X-Veil-Groups': 'staff, veil-clinician' };
  const me = await call(PROXY, 'GET', '/api/v1/auth/me', identity);
  assert.equal(me.status, 200);
  assert.equal(me.json.username, 'proxy:idp-subject-4711');
  const cookie = me.headers.get('set-cookie');
  assert.match(cookie, /^__Host-veil_session=[A-Za-z0-9_-]{43}; Path=\/; Secure; HttpOnly; SameSite=Strict/);
  const created = await call(PROXY, 'POST', '/api/v1/consultations', identity, {});
  assert.equal(created.status, 201);
  // The cookie alone works afterwards (the session's own limits and sign-out apply).
  const list = await call(stack.origin, 'GET', '/api/v1/consultations',
    { Cookie: cookie.split(';')[0] });
  assert.equal(list.status, 200);
  assert.equal(list.json.length, 1);
});

test('no Veil group: 403; malformed subject: 400', async () => {
  const denied = await call(PROXY, 'GET', '/api/v1/auth/me',
    { 'X-Veil-User': 'someone', 'X-Veil-Groups': 'staff' });
  assert.equal(denied.status, 403);
  const malformed = await call(PROXY, 'GET', '/api/v1/auth/me',
    { 'X-Veil-User': 'a b<c>', 'X-Veil-Groups': 'veil-clinician' });
  assert.equal(malformed.status, 400);
});

test('the public listener refuses identity headers and password sign-in', async () => {
  const forged = await call(stack.origin, 'GET', '/api/v1/auth/me',
    { 'X-Veil-User': 'idp-subject-4711', 'X-Veil-Groups': 'veil-clinician' });
  assert.equal(forged.status, 400);
  const login = await call(stack.origin, 'POST', '/api/v1/auth/login', {},
    { username: 'proxy:idp-subject-4711', password: 'x'.repeat(16) });
  assert.equal(login.status, 404);
  const events = stack.auditEvents();
  assert.ok(events.some((e) => e.event === 'auth.login' && e.reason === 'proxy' && e.outcome === 'ok'));
  assert.ok(events.some((e) => e.event === 'auth.login' && e.reason === 'no_group'));
  assert.ok(events.some((e) => e.event === 'token.denied' && e.reason === 'identity_header'));
  assert.ok(!JSON.stringify(events).includes('idp-subject-4711'), 'the IdP subject is not audited');
});

test('the proxy listener must be loopback', async () => {
  const { spawnSync } = await import('node:child_process');
  const { serverBin } = await import('./lib/stack.mjs');
  const result = spawnSync(serverBin, ['--listen', '127.0.0.1:18999', '--janus',
    stack.janusUrl, '--janus-admin-key-file', stack.adminKeyFile, '--secret-file',
    stack.secretFile, '--web-dir', '.', '--auth', 'proxy', '--proxy-listen',
    `${process.env.VEIL_NETNS_ADDR}:18445`], { timeout: 10000 });
  assert.equal(result.status, 2, result.stderr.toString());
  assert.match(result.stderr.toString(), /loopback/);
});
