// Automatic end of consultations (security-design §4) on the real stack — Janus with the shipped
// config, veil-server with SQLite, fake-media Chromium patients — with the test hooks
// --idle-end-seconds 6 and --max-duration-seconds 120 instead of 30 min and 4 h:
//  - A: the patient joins, publishes, then drops its connection (Janus hangs up): the
//    consultation ends as `idle` — tokens fail, the refresh token is refused, the Janus room is
//    gone, the audit log has `consultation.end` (actor system, reason idle);
//  - B: the patient stays connected (media only, no requests): never idle-ended, ended at the
//    maximum duration instead, which kicks the patient;
//  - C: nobody ever joins: not idle-ended (the invite waits), ended at the maximum duration.
// Observation never counts as presence here: the clinician only reads its consultation list.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, waitFor, sleep } from './lib/stack.mjs';
import { launchBrowser } from './lib/browser.mjs';
import { JanusProbe } from './lib/janus-probe.mjs';
import { patientRedeem, patientStatus, patientPublish } from './lib/patient-page.mjs';

const IDLE_END_SECONDS = 6;
const MAX_DURATION_SECONDS = 120;
const CLINICIAN = { username: 'dr-idle', password: 'an idle consultation passphrase' };
let stack;
let browser;
let cookie;
const consultations = {};  // name → { id, invite, page, creds }

before(async () => {
  stack = await startStack({ clinicians: [CLINICIAN], extraServerArgs: [
    '--idle-end-seconds', String(IDLE_END_SECONDS),
    '--max-duration-seconds', String(MAX_DURATION_SECONDS)] });
  browser = await launchBrowser({ fakeMedia: true });
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

async function call(method, path, { json, token } = {}) {
  const headers = { Origin: stack.origin };
  if (cookie) headers.Cookie = cookie;
  if (token) headers.Authorization = `Bearer ${token}`;
  const init = { method, headers };
  if (json !== undefined) {
    init.body = JSON.stringify(json);
    headers['Content-Type'] = 'application/json';
  }
  const response = await fetch(`${stack.origin}${path}`, init);
  const text = await response.text();
  let parsed = null;
  try { parsed = JSON.parse(text); } catch (_) { /* not JSON */ }
  return { status: response.status, json: parsed, text, headers: response.headers };
}

// The clinician's open consultations (this listing does not count as presence in any of them).
async function openIds() {
  const reply = await call('GET', '/api/v1/consultations');
  assert.equal(reply.status, 200, reply.text);
  return reply.json.map((c) => c.id);
}

async function roomExists(name) {
  const probe = await new JanusProbe(stack.janusUrl).connect();
  try {
    const handle = await probe.attach();
    const room = stack.roomInfo(consultations[name].id).room;
    return (await probe.request(handle, { request: 'exists', room })).data.exists;
  } finally {
    await probe.destroy();
  }
}

const endEvent = (name) => stack.auditEvents()
  .find((e) => e.event === 'consultation.end' && e.cid === consultations[name].id);

test('the clinician creates three consultations; two patients join and publish', async () => {
  const login = await call('POST', '/api/v1/auth/login', { json: CLINICIAN });
  assert.equal(login.status, 200, login.text);
  cookie = login.headers.get('set-cookie').split(';')[0];
  for (const name of ['A', 'B', 'C']) {
    const created = await call('POST', '/api/v1/consultations', { json: {} });
    assert.equal(created.status, 201, created.text);
    consultations[name] = { id: created.json.id, invite: created.json.invite };
  }
  for (const name of ['A', 'B']) {
    const c = consultations[name];
    c.page = await browser.context.newPage();
    await c.page.goto(`${stack.origin}/join`);
    const redeemed = await patientRedeem(c.page, { invite: c.invite });
    assert.equal(redeemed.status, 200, JSON.stringify(redeemed.json));
    c.creds = redeemed.json;
    const admitted = await call('POST',
      `/api/v1/consultations/${c.id}/participants/${c.creds.participant}/admit`);
    assert.equal(admitted.status, 204, admitted.text);
    const published = await patientPublish(c.page);
    assert.equal(published.status, 201, JSON.stringify(published));
  }
  for (const name of ['A', 'B']) {
    await waitFor(() => consultations[name].page.evaluate(
      () => window.veilPatient.pub.pc.connectionState === 'connected'),
    { attempts: 100, what: `patient ${name} connected to Janus` });
    assert.equal(await roomExists(name), true);
  }
  assert.deepEqual((await openIds()).sort(), ['A', 'B', 'C'].map((n) => consultations[n].id).sort());
});

test('A: the patient drops its connection and the consultation ends as idle', async () => {
  const a = consultations.A;
  await a.page.evaluate(() => {
    const p = window.veilPatient;
    clearInterval(p.stateTimer);
    p.pub.pc.close();  // DTLS close → Janus hangs up → veil-server drops the publish
    for (const track of p.pub.media.getTracks()) track.stop();
  });
  // Idle time + activity window + sweep, with generous slack for a loaded machine.
  await waitFor(async () => !(await openIds()).includes(a.id),
    { attempts: 120, intervalMs: 500, what: 'consultation A idle-ended' });
  const ended = endEvent('A');
  assert.ok(ended, 'audit has consultation.end for A');
  assert.equal(ended.actor, 'system');
  assert.equal(ended.reason, 'idle');
  assert.equal(ended.outcome, 'ok');
  // Exactly what a clinician's end does: tokens fail, refresh refused, Janus room destroyed.
  const status = await patientStatus(a.page);
  assert.equal(status.status, 410);
  assert.equal(status.json.error, 'consultation_ended');
  const refresh = await call('POST', '/api/v1/session/refresh',
    { json: { refresh_token: a.creds.refresh_token } });
  assert.equal(refresh.status, 401, refresh.text);
  const token = await call('POST', `/api/v1/consultations/${a.id}/token`);
  assert.equal(token.status, 410, token.text);
  assert.equal(await roomExists('A'), false);
  const metrics = await (await fetch(`${stack.origin}/metrics`)).text();
  assert.match(metrics, /veil_consultations_ended_total\{reason="idle"\} 1\b/);
});

test('B (patient still connected) and C (nobody joined) are not idle-ended', async () => {
  // A's end proves the sweep ran; give B and C several more idle periods.
  await sleep((2 * IDLE_END_SECONDS + 4) * 1000);
  const open = await openIds();
  assert.ok(open.includes(consultations.B.id), 'B still open');
  assert.ok(open.includes(consultations.C.id), 'C still open');
  assert.equal(endEvent('B'), undefined);
  assert.equal(endEvent('C'), undefined);
  assert.equal(await roomExists('B'), true);
  assert.equal(await consultations.B.page.evaluate(
    () => window.veilPatient.pub.pc.connectionState), 'connected');
});

test('the maximum duration ends B and C the same way, kicking B\'s patient', async () => {
  await waitFor(async () => {
    const open = await openIds();
    return !open.includes(consultations.B.id) && !open.includes(consultations.C.id);
  }, { attempts: 2 * (MAX_DURATION_SECONDS + 30), intervalMs: 500,
    what: 'B and C ended at the maximum duration' });
  for (const name of ['B', 'C']) {
    const ended = endEvent(name);
    assert.equal(ended?.reason, 'max_duration', `${name}: ${JSON.stringify(ended)}`);
    assert.equal(ended.actor, 'system');
  }
  const status = await patientStatus(consultations.B.page);
  assert.equal(status.status, 410);
  assert.equal(await roomExists('B'), false);
  await waitFor(() => consultations.B.page.evaluate(() => ['failed', 'disconnected', 'closed']
    .includes(window.veilPatient.pub.pc.connectionState)), { attempts: 200,
    what: 'B\'s patient kicked by the room\'s destruction' });
  const reasons = stack.auditEvents().filter((e) => e.event === 'consultation.end')
    .map((e) => e.reason).sort();
  assert.deepEqual(reasons, ['idle', 'max_duration', 'max_duration']);
});
