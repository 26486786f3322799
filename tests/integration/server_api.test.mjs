// veil-server's HTTP API refuses every bad token and bad request with a clear JSON 4xx and keeps
// running. Tokens are forged here with an independent HS256 implementation (node:crypto), using
// the signing key derived from the server secret the way server/README.md documents. Runs against
// the demo consultation (the `mint-token` path); the invite/waiting-room path is covered by
// consultation_*.test.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { startStack, serverBin } from './lib/stack.mjs';

const CID = 'api-room';
let stack;
let signingKey;

before(async () => {
  stack = await startStack({ demoConsultation: CID });
  const master = readFileSync(stack.secretFile, 'utf8').trimEnd();
  signingKey = createHmac('sha256', master).update('veil/token-signing/v1').digest();
});

after(async () => { await stack?.stop(); });

const b64 = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value))
  .toString('base64url');
const sign = (input, key) => createHmac('sha256', key).update(input).digest('base64url');
function jwt(claims, { key = signingKey, header = { alg: 'HS256', typ: 'JWT', kid: 'm1' } } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const payload = { iss: 'veil-demo', aud: 'veil', sub: 'demo', cid: CID, role: 'patient',
    jti: randomBytes(16).toString('hex'), iat: now, exp: now + 300, ...claims };
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign(input, key)}`;
}

const SDP_LIKE = 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n';

async function call(method, path, { token, body, type = 'application/sdp', headers = {} } = {}) {
  const init = { method, headers: { ...headers } };
  if (token !== undefined) init.headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) { init.body = body; init.headers['Content-Type'] = type; }
  const response = await fetch(`${stack.serverUrl}${path}`, init);
  const text = await response.text();
  let json = null;
  try { json = JSON.parse(text); } catch (_) { /* not JSON */ }
  return { status: response.status, json, text, headers: response.headers };
}

const whip = `/api/v1/consultations/${CID}/whip`;
const subscribe = `/api/v1/consultations/${CID}/subscribe`;

function assertError(reply, status, code) {
  assert.equal(reply.status, status, `expected ${status} ${code}, got ${reply.status} ${reply.text}`);
  assert.equal(reply.json?.error, code, reply.text);
  assert.equal(typeof reply.json?.message, 'string');
}

test('healthz reports the SFU up', async () => {
  const reply = await call('GET', '/healthz');
  assert.equal(reply.status, 200);
  assert.deepEqual(reply.json, { status: 'ok', sfu: 'up' });
});

test('mint-token issues the documented claims and refuses long TTLs and bad ids', () => {
  const token = stack.mintToken(CID, 'viewer', 120);
  const [header, payload] = token.split('.').slice(0, 2)
    .map((part) => JSON.parse(Buffer.from(part, 'base64url')));
  assert.deepEqual(header, { alg: 'HS256', typ: 'JWT', kid: 'm1' });
  assert.equal(payload.aud, 'veil');
  assert.equal(payload.iss, 'veil-demo');
  assert.equal(payload.sub, 'demo');
  assert.equal(payload.cid, CID);
  assert.equal(payload.role, 'clinician', '"viewer" is the old name of the clinician role');
  assert.match(payload.jti, /^[0-9a-f]{32}$/);
  assert.equal(payload.exp - payload.iat, 120);
  const [input, signature] = [token.split('.').slice(0, 2).join('.'), token.split('.')[2]];
  assert.equal(sign(input, signingKey), signature, 'signed with the derived key');
  const mint = (...extra) => spawnSync(serverBin, ['mint-token', '--secret-file', stack.secretFile,
    ...extra]);
  assert.equal(mint('--consultation', CID, '--role', 'patient', '--ttl', '901').status, 2);
  assert.equal(mint('--consultation', 'a/b', '--role', 'patient').status, 2);
  assert.equal(mint('--consultation', CID, '--role', 'admin').status, 2);
});

test('publish refuses missing, forged, malformed, expired and overlong tokens with 401', async () => {
  const now = Math.floor(Date.now() / 1000);
  assertError(await call('POST', whip, { body: SDP_LIKE }), 401, 'missing_token');
  assertError(await call('POST', whip, { body: SDP_LIKE, headers: { Authorization: 'Basic x' } }),
    401, 'missing_token');
  const cases = {
    garbage: 'not-a-token',
    forged: jwt({}, { key: randomBytes(32) }),
    'alg none': `${b64({ alg: 'none', typ: 'JWT', kid: 'm1' })}.${b64({ iss: 'veil-demo',
      aud: 'veil', sub: 'demo', cid: CID, role: 'patient', jti: 'a'.repeat(32), iat: now,
      exp: now + 60 })}.`,
    'HS512 header': jwt({}, { header: { alg: 'HS512', typ: 'JWT', kid: 'm1' } }),
    'unknown kid': jwt({}, { header: { alg: 'HS256', typ: 'JWT', kid: 'other' } }),
    'no kid': jwt({}, { header: { alg: 'HS256', typ: 'JWT' } }),
    'foreign issuer': jwt({ iss: 'https://elsewhere.example' }),
    'missing sub': jwt({ sub: undefined }),
    'wrong audience': jwt({ aud: 'other' }),
    'ttl over 15 min': jwt({ exp: now + 3600 }),
    'issued in the future': jwt({ iat: now + 600, exp: now + 900 }),
    'missing jti': jwt({ jti: undefined }),
    'string exp': jwt({ exp: String(now + 60) }),
  };
  for (const [name, token] of Object.entries(cases)) {
    const reply = await call('POST', whip, { token, body: SDP_LIKE });
    assert.equal(reply.status, 401, `${name}: ${reply.text}`);
    assert.equal(reply.json?.error, 'invalid_token', `${name}: ${reply.text}`);
  }
  // A valid token whose payload was edited keeps its signature: refused.
  const [header, , signature] = jwt({ cid: 'other-room' }).split('.');
  const tampered = `${header}.${b64({ iss: 'veil-demo', aud: 'veil', sub: 'demo', cid: CID,
    role: 'patient', jti: 'b'.repeat(32), iat: now, exp: now + 60 })}.${signature}`;
  assertError(await call('POST', whip, { token: tampered, body: SDP_LIKE }), 401, 'invalid_token');
  assertError(await call('POST', whip, { token: jwt({ iat: now - 400, exp: now - 100 }),
    body: SDP_LIKE }), 401, 'token_expired');
});

test('tokens for another consultation or role are refused with 403', async () => {
  assertError(await call('POST', whip, { token: stack.mintToken('other-room', 'patient'),
    body: SDP_LIKE }), 403, 'wrong_consultation');
  assertError(await call('POST', whip, { token: stack.mintToken(CID, 'viewer'), body: SDP_LIKE }),
    403, 'wrong_role');
  assertError(await call('POST', subscribe, { token: stack.mintToken(CID, 'patient') }), 403,
    'wrong_role');
  assertError(await call('POST', subscribe, { token: stack.mintToken('other-room', 'viewer') }),
    403, 'wrong_consultation');
});

test('malformed publish requests get 4xx/502, never a crash', async () => {
  const token = stack.mintToken(CID, 'patient');
  assertError(await call('POST', whip, { token, body: SDP_LIKE, type: 'application/json' }), 415,
    'unsupported_media_type');
  assertError(await call('POST', whip, { token, body: 'hello' }), 400, 'bad_request');
  assertError(await call('POST', whip, { token, body: '' }), 400, 'bad_request');
  assertError(await call('POST', whip, { token, body: `${SDP_LIKE}a=x:${'y'.repeat(70000)}\r\n` }),
    413, 'payload_too_large');
  // Shaped like SDP, nonsense inside: Janus refuses it, the server reports it.
  assertError(await call('POST', whip, { token, body: SDP_LIKE }), 502, 'sfu_error');
  assertError(await call('PATCH', `${whip}/${'a'.repeat(32)}`, { token, body: 'a=candidate',
    type: 'application/trickle-ice-sdpfrag' }), 405, 'method_not_allowed');
  assertError(await call('DELETE', `${whip}/${'a'.repeat(32)}`, { token }), 404, 'not_found');
});

test('subscribe endpoints: no publisher, unknown subscription, bad answer', async () => {
  const token = stack.mintToken(CID, 'viewer');
  assertError(await call('POST', subscribe, { token }), 404, 'no_publisher');
  const unknown = `${subscribe}/${'c'.repeat(32)}`;
  assertError(await call('POST', `${unknown}/answer`, { token, body: SDP_LIKE }), 404, 'not_found');
  assertError(await call('POST', `${unknown}/answer`, { token, body: '{}', type: 'application/json' }),
    415, 'unsupported_media_type');
  assertError(await call('POST', `${unknown}/keepalive`, { token }), 404, 'not_found');
  assertError(await call('DELETE', unknown, { token }), 404, 'not_found');
});

test('unknown routes, bad ids and path tricks get JSON 404s', async () => {
  assertError(await call('GET', '/nope'), 404, 'not_found');
  assertError(await call('POST', '/api/v1/consultations/a%2Fb/whip', { body: SDP_LIKE }), 404,
    'not_found');
  assertError(await call('POST', `/api/v1/consultations/${'x'.repeat(65)}/whip`, { body: SDP_LIKE }),
    404, 'not_found');
  assertError(await call('GET', '/static/..%2f..%2fserver%2fREADME.md'), 404, 'not_found');
  assertError(await call('GET', '/static/viewer.html'), 404, 'not_found');
});

test('the viewer page is served with a strict CSP and no caching', async () => {
  const page = await call('GET', `/view/${CID}`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type'), /^text\/html/);
  assert.match(page.text, /<video id="video"/);
  assert.match(page.headers.get('content-security-policy'), /default-src 'none'/);
  assert.equal(page.headers.get('cache-control'), 'no-store');
  assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
  const script = await call('GET', '/static/viewer.js');
  assert.equal(script.status, 200);
  assert.match(script.headers.get('content-type'), /^text\/javascript/);
});

test('still healthy afterwards, and the log holds no tokens, secrets or addresses', async () => {
  assert.equal((await call('GET', '/healthz')).status, 200);
  // stdout's one `viewer-url:` line is the documented demo output; the request log is the rest.
  const lines = stack.serverLog().split('\n');
  assert.equal(lines.filter((line) => line.startsWith('viewer-url: ')).length, 1);
  const log = lines.filter((line) => !line.startsWith('viewer-url: ')).join('\n');
  assert.doesNotMatch(log, /eyJ[A-Za-z0-9_-]{10,}/, 'a JWT in the log');
  assert.doesNotMatch(log, /Bearer/i);
  assert.ok(!log.includes(process.env.VEIL_NETNS_ADDR), 'the namespace address in the log');
  assert.doesNotMatch(log, /127\.0\.0\.1:\d+ /, 'a client address in the log');
  assert.ok(!log.includes(readFileSync(stack.secretFile, 'utf8').trim()), 'the master secret');
  assert.ok(!log.includes(stack.adminKey), 'the Janus admin key');
  const version = execFileSync(serverBin, ['--help']).toString();
  assert.match(version, /mint-token/);
});
