// Claim C32 (docs/threat-model.md), subscription half: "a subscription answers only to its owner".
// On the real stack (Janus with the shipped config, veil-server with TLS and SQLite, Chromium)
// two subscriptions exist in consultation C1: the admitted patient P1's (answered in Chromium,
// the clinician's fake camera decoding) and the clinician Ada's (created, not answered). Other
// participants use their ids: a second admitted patient P2 of C1, Ada on P1's subscription, and
// Q, an admitted patient of Bob's consultation C2, both through C2's path (its own token) and
// C1's. Every answer / keepalive / DELETE is refused (README: "else 404"; a token for C1's path
// from C2: 403 wrong_consultation, audited); the owners' keepalives still succeed, P1's frames
// keep decoding, and only the owners can delete. Positive controls make each refusal falsifiable.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, waitFor } from './lib/stack.mjs';
import { launchBrowser, publishFromPage } from './lib/browser.mjs';
import { patientRedeem, patientSubscribe, patientPublish, patientReport }
  from './lib/patient-page.mjs';

process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';  // the stack's self-signed certificate

const ADA = { username: 'dr-ada', password: 'ada has a long passphrase' };
const BOB = { username: 'dr-bob', password: 'bob has a long passphrase' };
// Passes the server's "looks like SDP" check; a refused answer must never reach Janus anyway.
const SDP = 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n';

let stack;
let chromium;
let camera;   // page publishing the clinician's fake camera with Ada's media token
let p1Page;   // admitted patient P1 (owner of the answered subscription)
const ids = {};     // c1, c2, p1Sub, adaSub
const tokens = {};  // ada, p1, p2, q
const subjects = {};

async function call(method, path, { token, cookie, json, sdp } = {}) {
  const headers = { Origin: stack.origin };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (cookie) headers.Cookie = cookie;
  let body;
  if (json !== undefined) { body = JSON.stringify(json); headers['Content-Type'] = 'application/json'; }
  if (sdp !== undefined) { body = sdp; headers['Content-Type'] = 'application/sdp'; }
  const response = await fetch(`${stack.origin}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed = null;
  try { parsed = JSON.parse(text); } catch (_) { /* not JSON */ }
  return { status: response.status, json: parsed, text };
}

function expectError(reply, status, code, what) {
  assert.equal(reply.status, status, `${what}: expected ${status} ${code}, got ${reply.status} ${reply.text}`);
  assert.equal(reply.json?.error, code, `${what}: ${reply.text}`);
}

// The three operations on subscription `sid`, addressed under consultation `cid`.
const operations = (cid, sid) => [
  ['answer', 'POST', `/api/v1/consultations/${cid}/subscribe/${sid}/answer`, { sdp: SDP }],
  ['keepalive', 'POST', `/api/v1/consultations/${cid}/subscribe/${sid}/keepalive`, {}],
  ['delete', 'DELETE', `/api/v1/consultations/${cid}/subscribe/${sid}`, {}],
];

// Every other participant tries every operation on `sid` (owned by `owner` in C1).
async function attackAll(sid, owner) {
  const attackers = [['P2 (same consultation)', tokens.p2, ids.c1],
    ['Q (consultation C2, own path)', tokens.q, ids.c2]];
  if (owner !== 'ada') attackers.push(['Ada (owning clinician)', tokens.ada, ids.c1]);
  for (const [who, token, cid] of attackers) {
    for (const [op, method, path, extra] of operations(cid, sid)) {
      expectError(await call(method, path, { token, ...extra }), 404, 'not_found', `${who} ${op}s ${owner}'s subscription`);
    }
  }
  // Q's token on C1's path is refused before the subscription is looked up.
  for (const [op, method, path, extra] of operations(ids.c1, sid)) {
    expectError(await call(method, path, { token: tokens.q, ...extra }), 403, 'wrong_consultation',
      `Q ${op}s ${owner}'s subscription through C1's path`);
  }
}

const keepalive = (token, sid) =>
  call('POST', `/api/v1/consultations/${ids.c1}/subscribe/${sid}/keepalive`, { token });
const framesDecoded = async () => (await patientReport(p1Page)).subscriber.framesDecoded;

before(async () => {
  stack = await startStack({ tls: true, clinicians: [ADA, BOB] });
  chromium = await launchBrowser({ fakeMedia: true, ignoreHTTPSErrors: true });
});

after(async () => {
  await chromium?.close();
  await stack?.stop();
});

test('setup: two admitted patients in C1, one in C2; P1 and Ada each own a subscription',
  async () => {
    const login = async (account) => {
      const response = await fetch(`${stack.origin}/api/v1/auth/login`, { method: 'POST',
        headers: { Origin: stack.origin, 'Content-Type': 'application/json' },
        body: JSON.stringify(account) });
      assert.equal(response.status, 200);
      return response.headers.get('set-cookie').split(';')[0];
    };
    const ada = await login(ADA);
    const bob = await login(BOB);
    const c1 = await call('POST', '/api/v1/consultations', { cookie: ada, json: {} });
    const c2 = await call('POST', '/api/v1/consultations', { cookie: bob, json: {} });
    assert.equal(c1.status, 201, c1.text);
    assert.equal(c2.status, 201, c2.text);
    ids.c1 = c1.json.id;
    ids.c2 = c2.json.id;
    const admit = async (cookie, cid, participant) => assert.equal((await call('POST',
      `/api/v1/consultations/${cid}/participants/${participant}/admit`, { cookie })).status, 204);

    p1Page = await chromium.context.newPage();
    await p1Page.goto(`${stack.origin}/join`);
    const p1 = await patientRedeem(p1Page, { invite: c1.json.invite });
    assert.equal(p1.status, 200, JSON.stringify(p1.json));
    await admit(ada, ids.c1, p1.json.participant);
    tokens.p1 = p1.json.token;
    subjects.p1 = p1.json.participant;

    const second = await call('POST', `/api/v1/consultations/${ids.c1}/invite`, { cookie: ada });
    const p2 = await call('POST', '/api/v1/invites/redeem', { json: { invite: second.json.invite } });
    assert.equal(p2.status, 200, p2.text);
    await admit(ada, ids.c1, p2.json.participant);
    tokens.p2 = p2.json.token;
    subjects.p2 = p2.json.participant;

    const q = await call('POST', '/api/v1/invites/redeem', { json: { invite: c2.json.invite } });
    assert.equal(q.status, 200, q.text);
    await admit(bob, ids.c2, q.json.participant);
    tokens.q = q.json.token;
    subjects.q = q.json.participant;

    const minted = await call('POST', `/api/v1/consultations/${ids.c1}/token`, { cookie: ada });
    assert.equal(minted.status, 200, minted.text);
    tokens.ada = minted.json.token;
    subjects.ada = JSON.parse(Buffer.from(tokens.ada.split('.')[1], 'base64url')).sub;

    // The clinician's camera is published, P1 subscribes to it in Chromium and decodes it.
    camera = await chromium.context.newPage();
    await camera.goto(`${stack.origin}/join`);
    const published = await publishFromPage(camera, { consultation: ids.c1, token: tokens.ada });
    assert.equal(published.status, 201, published.body);
    const subscribed = await patientSubscribe(p1Page);
    assert.equal(subscribed.status, 201, JSON.stringify(subscribed));
    ids.p1Sub = await p1Page.evaluate(() => window.veilPatient.sub.id);
    await waitFor(async () => (await framesDecoded()) > 10,
      { attempts: 150, what: 'clinician video decoded by P1' });

    // P1 publishes too, so Ada can subscribe to the patient feed (left unanswered on purpose).
    assert.equal((await patientPublish(p1Page)).status, 201);
    // Janus knows the feed only once P1's connection is up: retry while it says "no such feed".
    const adaSub = await waitFor(async () => {
      const reply = await call('POST', `/api/v1/consultations/${ids.c1}/subscribe`,
        { token: tokens.ada });
      assert.ok([201, 404, 502].includes(reply.status), reply.text);
      return reply.status === 201 ? reply : null;
    }, { attempts: 50, what: "Ada's subscription to P1's feed" });
    ids.adaSub = adaSub.json.id;
    assert.notEqual(ids.adaSub, ids.p1Sub);
  });

test("nobody else can answer, keep alive or delete P1's subscription; P1's keeps working",
  async () => {
    await attackAll(ids.p1Sub, 'P1');
    const alive = await keepalive(tokens.p1, ids.p1Sub);
    assert.equal(alive.status, 200, `P1's own keepalive: ${alive.text}`);
    assert.deepEqual(alive.json, { publisher: true });
    const before = await framesDecoded();
    await waitFor(async () => (await framesDecoded()) > before + 15,
      { attempts: 100, what: 'P1 still decoding after the attempts' });
  });

test("nobody else can use Ada's (unanswered) subscription; Ada keeps it alive and deletes it",
  async () => {
    await attackAll(ids.adaSub, 'ada');
    const alive = await keepalive(tokens.ada, ids.adaSub);
    assert.equal(alive.status, 200, `Ada's own keepalive: ${alive.text}`);
    assert.deepEqual(alive.json, { publisher: true });
    const deleted = await call('DELETE', `/api/v1/consultations/${ids.c1}/subscribe/${ids.adaSub}`,
      { token: tokens.ada });
    assert.equal(deleted.status, 204, deleted.text);
    expectError(await keepalive(tokens.ada, ids.adaSub), 404, 'not_found', 'keepalive after delete');
  });

test('P1 deletes its own subscription; the audit shows only owners stopping and Q denied',
  async () => {
    const deleted = await call('DELETE', `/api/v1/consultations/${ids.c1}/subscribe/${ids.p1Sub}`,
      { token: tokens.p1 });
    assert.equal(deleted.status, 204, deleted.text);
    expectError(await keepalive(tokens.p1, ids.p1Sub), 404, 'not_found', 'keepalive after delete');

    const events = stack.auditEvents();
    const stops = events.filter((e) => e.event === 'media.subscribe.stop').map((e) => e.actor).sort();
    assert.deepEqual(stops, [subjects.p1, subjects.ada].sort(),
      'only the two owners stopped a subscription');
    const qDenied = events.filter((e) => e.event === 'token.denied' && e.actor === subjects.q &&
      e.reason === 'wrong_consultation');
    assert.equal(qDenied.length, 6, 'Q through C1: 3 operations x 2 subscriptions');
    for (const row of qDenied) {
      assert.equal(row.reason, 'wrong_consultation');
      assert.equal(row.outcome, 'denied');
      assert.equal(row.cid, ids.c1);
    }
  });

test('a foreign subscription id is refused like an unknown one and audited as token.denied', () => {
  const events = stack.auditEvents();
  const unknown = (actor) => events.filter((e) => e.event === 'token.denied' &&
    e.actor === actor && e.reason === 'unknown_subscription');
  // 3 operations x 2 subscriptions, each in the caller's own consultation.
  for (const [who, cid] of [['p2', ids.c1], ['q', ids.c2]]) {
    const rows = unknown(subjects[who]);
    assert.equal(rows.length, 6, `${who}: ${JSON.stringify(rows)}`);
    for (const row of rows) {
      assert.equal(row.outcome, 'denied');
      assert.equal(row.cid, cid);
    }
  }
  // Ada's three attempts on P1's subscription, plus her keepalive after deleting her own.
  assert.ok(unknown(subjects.ada).length >= 3, 'Ada\'s refused attempts audited');
});
