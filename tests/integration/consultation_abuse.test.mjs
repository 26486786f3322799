// Every token and role abuse of docs/security-design.md §5-§7 is refused with a clear 4xx and
// audited, on the real server (TLS, SQLite) and Janus: forged/expired/alg-none/other-key tokens,
// replayed refresh tokens, other consultations, wrong roles, another clinician, invite reuse and
// brute force, publishing before admission, anything after the end, CSRF without our Origin,
// identity headers on the public listener, password guessing, malformed/oversize/unknown requests.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { startStack, sleep } from './lib/stack.mjs';

process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';  // checked properly in the TLS test below

const ADA = { username: 'dr-ada', password: 'ada has a long passphrase' };
const BOB = { username: 'dr-bob', password: 'bob has a long passphrase' };
const SDP = 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n';
let stack;
let signingKey;

before(async () => {
  stack = await startStack({ tls: true, clinicians: [ADA, BOB],
    extraServerArgs: ['--refresh-retry-grace-seconds', '1'] });
  const master = readFileSync(stack.secretFile, 'utf8').trimEnd();
  signingKey = createHmac('sha256', master).update('veil/token-signing/v1').digest();
});

after(async () => { await stack?.stop(); });

async function call(method, path, { token, json, body, type, cookie, origin, headers = {} } = {}) {
  const init = { method, headers: { ...headers } };
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (cookie) init.headers.Cookie = cookie;
  if (origin !== null) init.headers.Origin = origin ?? stack.origin;
  if (json !== undefined) { init.body = JSON.stringify(json); init.headers['Content-Type'] = 'application/json'; }
  if (body !== undefined) { init.body = body; init.headers['Content-Type'] = type || 'application/sdp'; }
  const response = await fetch(`${stack.origin}${path}`, init);
  const text = await response.text();
  let parsed = null;
  try { parsed = JSON.parse(text); } catch (_) { /* not JSON */ }
  return { status: response.status, json: parsed, text, headers: response.headers };
}

function expectError(reply, status, code, what) {
  assert.equal(reply.status, status, `${what}: expected ${status} ${code}, got ${reply.status} ${reply.text}`);
  assert.equal(reply.json?.error, code, `${what}: ${reply.text}`);
  assert.equal(typeof reply.json?.message, 'string');
}

async function signIn({ username, password }) {
  const reply = await call('POST', '/api/v1/auth/login', { json: { username, password } });
  assert.equal(reply.status, 200, reply.text);
  return reply.headers.get('set-cookie').split(';')[0];
}

async function newConsultation(cookie) {
  const reply = await call('POST', '/api/v1/consultations', { cookie, json: {} });
  assert.equal(reply.status, 201, reply.text);
  return reply.json;
}

const redeem = (invite, extra = {}) => call('POST', '/api/v1/invites/redeem',
  { json: { invite, ...extra } });

const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
function forge(claims, { key = signingKey, header = { alg: 'HS256', typ: 'JWT', kid: 'm1' } } = {}) {
  const input = `${b64(header)}.${b64(claims)}`;
  return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
}
const decode = (token) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url'));

let ada;
let bob;
let consultation;
let patient;  // redeemed credentials

test('TLS: the self-signed certificate is valid for 127.0.0.1 and the session cookie is strict',
  async () => {
    const ca = readFileSync(stack.tlsCertFile);
    await new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: Number(new URL(stack.origin).port), ca,
        rejectUnauthorized: true }, () => { socket.end(); resolve(); });
      socket.on('error', reject);
    });
    const reply = await call('POST', '/api/v1/auth/login', { json: ADA });
    const cookie = reply.headers.get('set-cookie');
    assert.match(cookie, /^__Host-veil_session=[A-Za-z0-9_-]{43}; Path=\/; Secure; HttpOnly; SameSite=Strict/);
    assert.match(reply.headers.get('strict-transport-security'), /max-age=\d+/);
    ada = cookie.split(';')[0];
    bob = await signIn(BOB);
    consultation = await newConsultation(ada);
  });

test('CSRF: state changes without our Origin are refused; identity headers are refused here',
  async () => {
    expectError(await call('POST', '/api/v1/consultations', { cookie: ada, json: {}, origin: null }),
      403, 'bad_origin', 'no Origin');
    expectError(await call('POST', '/api/v1/consultations',
      { cookie: ada, json: {}, origin: 'https://evil.example' }), 403, 'bad_origin', 'foreign Origin');
    expectError(await call('GET', '/api/v1/consultations', { headers: { 'X-Veil-User': 'mallory',
      'X-Veil-Groups': 'veil-clinician' } }), 400, 'bad_request', 'proxy header on the public listener');
    expectError(await call('GET', '/api/v1/consultations'), 401, 'not_signed_in', 'no cookie');
    expectError(await call('GET', '/api/v1/consultations',
      { cookie: `__Host-veil_session=${randomBytes(32).toString('base64url')}` }), 401,
    'not_signed_in', 'made-up cookie');
  });

test('invites: single use, unknown ones 404, brute force throttled', async () => {
  const first = await redeem(consultation.invite, { display_name: 'Pat' });
  assert.equal(first.status, 200, first.text);
  patient = first.json;
  assert.ok(decode(patient.token).exp - decode(patient.token).iat <= 900);
  expectError(await redeem(consultation.invite), 410, 'invite_used', 'reuse');
  expectError(await redeem('x'.repeat(43)), 404, 'invite_unknown', 'unknown');
  expectError(await redeem('short'), 400, 'bad_request', 'malformed');
  expectError(await call('POST', '/api/v1/invites/redeem', { body: '{"invite":', type: 'application/json' }),
    400, 'bad_request', 'malformed JSON');
  expectError(await call('POST', '/api/v1/invites/redeem', { body: 'invite=x', type: 'text/plain' }),
    415, 'unsupported_media_type', 'wrong type');
});

test('waiting patients cannot publish, subscribe or report; clinician actions need the owner',
  async () => {
    const cid = consultation.id;
    expectError(await call('POST', `/api/v1/consultations/${cid}/whip`, { token: patient.token, body: SDP }),
      403, 'not_admitted', 'publish before admission');
    expectError(await call('POST', `/api/v1/consultations/${cid}/subscribe`, { token: patient.token }),
      403, 'not_admitted', 'subscribe before admission');
    expectError(await call('POST', `/api/v1/consultations/${cid}/events`, { token: patient.token,
      json: { type: 'keep_visible.start' } }), 403, 'not_admitted', 'report before admission');
    // Wrong role: a patient bearer token on clinician endpoints carries no session.
    expectError(await call('GET', `/api/v1/consultations/${cid}`, { token: patient.token }), 401,
      'not_signed_in', 'patient on the clinician view');
    expectError(await call('POST', `/api/v1/consultations/${cid}/participants/${patient.participant}/admit`,
      { token: patient.token }), 401, 'not_signed_in', 'patient admitting itself');
    // Another clinician: no view, no admission, no token for this consultation.
    expectError(await call('GET', `/api/v1/consultations/${cid}`, { cookie: bob }), 403, 'not_owner', 'Bob views');
    expectError(await call('POST', `/api/v1/consultations/${cid}/participants/${patient.participant}/admit`,
      { cookie: bob }), 403, 'not_owner', 'Bob admits');
    expectError(await call('POST', `/api/v1/consultations/${cid}/token`, { cookie: bob }), 403,
      'not_owner', 'Bob mints');
    // A clinician token is refused where a patient token is required.
    const adaToken = (await call('POST', `/api/v1/consultations/${cid}/token`, { cookie: ada })).json.token;
    expectError(await call('GET', `/api/v1/consultations/${cid}/status`, { token: adaToken }), 403,
      'wrong_role', 'clinician on patient status');
    // Bob's token for his own consultation does not open Ada's.
    const bobs = await newConsultation(bob);
    const bobToken = (await call('POST', `/api/v1/consultations/${bobs.id}/token`, { cookie: bob })).json.token;
    expectError(await call('POST', `/api/v1/consultations/${cid}/subscribe`, { token: bobToken }), 403,
      'wrong_consultation', 'other consultation');
    // Forged claims: Bob's id on Ada's consultation, signed with the real key (a stolen key).
    const claims = decode(bobToken);
    expectError(await call('POST', `/api/v1/consultations/${cid}/subscribe`,
      { token: forge({ ...claims, cid, jti: randomBytes(16).toString('hex') }) }), 403, 'not_owner',
    'forged owner');
  });

test('forged, expired, alg-none, unknown-key and foreign-issuer tokens get 401', async () => {
  const cid = consultation.id;
  const base = decode(patient.token);
  const now = Math.floor(Date.now() / 1000);
  const status = `/api/v1/consultations/${cid}/status`;
  const cases = {
    'other key': [forge(base, { key: randomBytes(32) }), 'invalid_token'],
    expired: [forge({ ...base, iat: now - 1000, exp: now - 100 }), 'token_expired'],
    'alg none': [`${b64({ alg: 'none', typ: 'JWT', kid: 'm1' })}.${b64(base)}.`, 'invalid_token'],
    'unknown kid': [forge(base, { header: { alg: 'HS256', typ: 'JWT', kid: 'm2' } }), 'invalid_token'],
    'foreign issuer': [forge({ ...base, iss: 'https://evil.example' }), 'invalid_token'],
    'demo issuer': [forge({ ...base, iss: 'veil-demo' }), 'invalid_token'],
    'ttl over 15 min': [forge({ ...base, exp: base.iat + 3600 }), 'invalid_token'],
    'unknown participant': [forge({ ...base, sub: randomBytes(16).toString('hex') }), 'token_revoked'],
    'overlong': ['a'.repeat(3000), 'invalid_token'],
  };
  for (const [name, [token, code]] of Object.entries(cases)) {
    expectError(await call('GET', status, { token }), 401, code, name);
  }
  expectError(await call('GET', status), 401, 'missing_token', 'no token');
  // Still works with the real one.
  assert.equal((await call('GET', status, { token: patient.token })).status, 200);
});

test('refresh rotates; a retry within the grace window is tolerated; a replay revokes', async () => {
  const first = await call('POST', '/api/v1/session/refresh', { json: { refresh_token: patient.refresh_token } });
  assert.equal(first.status, 200, first.text);
  assert.notEqual(first.json.refresh_token, patient.refresh_token, 'rotated');
  // Within the (test-shortened, 1 s) window: a retry after a lost response gets a fresh pair.
  const retry = await call('POST', '/api/v1/session/refresh', { json: { refresh_token: patient.refresh_token } });
  assert.equal(retry.status, 200, retry.text);
  expectError(await call('POST', '/api/v1/session/refresh', { json: { refresh_token: first.json.refresh_token } }),
    401, 'invalid_refresh_token', 'the withdrawn successor');
  await sleep(2200);
  expectError(await call('POST', '/api/v1/session/refresh', { json: { refresh_token: patient.refresh_token } }),
    401, 'refresh_reused', 'replay after the window');
  // The replay revoked the participant: even the newest pair is dead now.
  expectError(await call('GET', `/api/v1/consultations/${consultation.id}/status`,
    { token: retry.json.token }), 401, 'token_revoked', 'token after reuse');
  expectError(await call('POST', '/api/v1/session/refresh', { json: { refresh_token: retry.json.refresh_token } }),
    401, 'invalid_refresh_token', 'refresh after reuse');
});

test('rejection and the end of a consultation revoke everything', async () => {
  const cid = consultation.id;
  const invite = (await call('POST', `/api/v1/consultations/${cid}/invite`, { cookie: ada })).json.invite;
  const second = (await redeem(invite)).json;
  assert.equal((await call('POST', `/api/v1/consultations/${cid}/participants/${second.participant}/reject`,
    { cookie: ada })).status, 204);
  expectError(await call('GET', `/api/v1/consultations/${cid}/status`, { token: second.token }), 401,
    'token_revoked', 'rejected patient');

  const third = (await redeem((await call('POST', `/api/v1/consultations/${cid}/invite`, { cookie: ada })).json.invite)).json;
  assert.equal((await call('POST', `/api/v1/consultations/${cid}/participants/${third.participant}/admit`,
    { cookie: ada })).status, 204);
  const adaToken = (await call('POST', `/api/v1/consultations/${cid}/token`, { cookie: ada })).json.token;
  const withdrawn = (await call('POST', `/api/v1/consultations/${cid}/invite`, { cookie: ada })).json.invite;
  // A new invite withdraws the unused previous one.
  const spare = (await call('POST', `/api/v1/consultations/${cid}/invite`, { cookie: ada })).json.invite;
  expectError(await redeem(withdrawn), 410, 'invite_expired', 'withdrawn invite');
  assert.equal((await call('POST', `/api/v1/consultations/${cid}/end`, { cookie: ada })).status, 204);
  expectError(await call('POST', `/api/v1/consultations/${cid}/whip`, { token: third.token, body: SDP }),
    410, 'consultation_ended', 'publish after end');
  expectError(await call('POST', `/api/v1/consultations/${cid}/subscribe`, { token: adaToken }), 410,
    'consultation_ended', 'clinician after end');
  expectError(await call('POST', '/api/v1/session/refresh', { json: { refresh_token: third.refresh_token } }),
    401, 'invalid_refresh_token', 'refresh after end');
  expectError(await redeem(spare), 410, 'invite_expired', 'invite after end');
  expectError(await call('POST', `/api/v1/consultations/${cid}/token`, { cookie: ada }), 410,
    'consultation_ended', 'minting after end');
});

test('sign-out revokes the clinician tokens minted from that session', async () => {
  const c = await newConsultation(bob);
  const token = (await call('POST', `/api/v1/consultations/${c.id}/token`, { cookie: bob })).json.token;
  assert.equal((await call('POST', '/api/v1/auth/logout', { cookie: bob })).status, 204);
  expectError(await call('POST', `/api/v1/consultations/${c.id}/subscribe`, { token }), 401,
    'token_revoked', 'token after sign-out');
  expectError(await call('GET', '/api/v1/consultations', { cookie: bob }), 401, 'not_signed_in', 'cookie after sign-out');
});

test('password guessing: wrong passwords 401, then the account is throttled (429)', async () => {
  const statuses = [];
  for (let i = 0; i < 7; i += 1) {
    statuses.push((await call('POST', '/api/v1/auth/login',
      { json: { username: ADA.username, password: `wrong password ${i}` } })).status);
  }
  assert.deepEqual(statuses.slice(0, 5), [401, 401, 401, 401, 401]);
  assert.ok(statuses.slice(5).includes(429), `throttled after 5 failures: ${statuses}`);
  expectError(await call('POST', '/api/v1/auth/login', { json: { username: 'nobody', password: 'x'.repeat(12) } }),
    401, 'invalid_credentials', 'unknown user');
});

test('malformed, oversize and unknown requests get clear 4xx; the server keeps running', async () => {
  expectError(await call('POST', '/api/v1/consultations', { cookie: ada, body: '{"min_mode":', type: 'application/json' }),
    400, 'bad_request', 'malformed JSON');
  expectError(await call('POST', '/api/v1/consultations', { cookie: ada, json: { min_mode: 'none' } }),
    400, 'bad_request', 'unknown mode');
  expectError(await call('POST', '/api/v1/consultations', { cookie: ada, json: { surprise: 1 } }),
    400, 'bad_request', 'unknown field');
  expectError(await call('POST', '/api/v1/consultations', { cookie: ada, json: [] }), 400, 'bad_request', 'array');
  expectError(await call('POST', '/api/v1/invites/redeem', { body: `{"invite":"${'a'.repeat(70000)}"}`,
    type: 'application/json' }), 413, 'payload_too_large', 'oversize');
  expectError(await call('GET', '/api/v1/nope'), 404, 'not_found', 'unknown route');
  expectError(await call('DELETE', '/api/v1/consultations'), 404, 'not_found', 'unknown method');
  expectError(await call('POST', '/api/v1/consultations/x/participants/zz/admit', { cookie: ada }), 404,
    'not_found', 'bad participant id');
  assert.equal((await call('GET', '/healthz')).status, 200);
});

test('invite brute force: 10 failures per client in 15 min, then 429', async () => {
  let throttled = null;
  for (let i = 0; i < 12 && !throttled; i += 1) {
    const reply = await redeem(randomBytes(32).toString('base64url'));
    if (reply.status === 429) throttled = reply;
  }
  expectError(throttled, 429, 'too_many_attempts', 'invite brute force');
});

test('metrics carry no identifiers; the audit log records the denials and no secrets', async () => {
  const metrics = (await call('GET', '/metrics')).text;
  assert.match(metrics, /veil_tokens_denied_total\{reason="not_admitted"\} \d+/);
  assert.match(metrics, /veil_consultations_open \d+/);
  assert.ok(!metrics.includes(consultation.id) && !metrics.includes(patient.participant));
  assert.doesNotMatch(metrics, /\d+\.\d+\.\d+\.\d+/);
  const events = stack.auditEvents();
  const denied = new Set(events.filter((e) => e.event === 'token.denied').map((e) => e.reason));
  for (const reason of ['not_admitted', 'forged', 'expired', 'malformed', 'iss', 'wrong_consultation',
    'wrong_role', 'not_owner', 'revoked', 'identity_header']) {
    assert.ok(denied.has(reason), `token.denied ${reason} audited (have ${[...denied]})`);
  }
  for (const expected of ['session.refresh_reuse', 'session.refresh_retry', 'waiting.reject',
    'auth.throttled', 'auth.logout', 'invite.revoke']) {
    assert.ok(events.some((e) => e.event === expected), `${expected} audited`);
  }
  const text = JSON.stringify(events);
  for (const secret of [consultation.invite, patient.token, patient.refresh_token, 'Pat"', ADA.password]) {
    assert.ok(!text.includes(secret), 'no secrets or names in the audit log');
  }
});
