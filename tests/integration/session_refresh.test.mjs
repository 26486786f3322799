// Session tokens refreshed live (security-design §5.2/§5.3) with the test hook
// --token-ttl-seconds 20 instead of 600: veil-patient joins from an invite, is admitted and
// publishes, and keeps publishing across several refreshes (rotation of the refresh token each
// time); the clinician app re-mints its own media token and keeps receiving veil-patient's frames
// on the same subscription. A recording TLS proxy between veil-patient and veil-server (a test
// stand-in for someone who copied the traffic) keeps every credential pair the server issued, so
// the test can show that the first session token is refused once expired while the device goes
// on, and that replaying a rotated refresh token revokes the participant (reuse detection).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor, sleep } from './lib/stack.mjs';
import { startDevice } from './lib/device.mjs';
import { openConsultation, admitFirstWaiting, startClinicianStack }
  from './lib/clinician-app.mjs';
import { stillSource, checkInNetns } from './e2e_patient.mjs';

process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';  // node's own fetches to the self-signed stack

const TTL_SECONDS = 20;
// A replay later than this is reuse, not a retry after a lost response (default 30 s).
const RETRY_GRACE_SECONDS = 5;
const PROXY_PORT = 18444;
const CLINICIAN = { username: 'dr-refresh', password: 'a refreshing clinic passphrase' };
let clinicianStack;  // the stack and the clinician's Chromium
let stack;
let app;
let proxy;
let device;
let consultation;

// HTTPS pass-through to veil-server that keeps the credentials of every redemption and refresh.
async function startRecordingProxy() {
  const issued = [];  // { token, refresh_token, expires_in, participant }
  const server = createServer({ cert: readFileSync(stack.tlsCertFile),
    key: readFileSync(join(stack.work, 'tls/server.key')) }, async (req, res) => {
    try {
      const chunks = [];
      for await (const chunk of req) chunks.push(chunk);
      const headers = { ...req.headers };
      for (const name of ['host', 'connection', 'content-length']) delete headers[name];
      const reply = await fetch(`${stack.origin}${req.url}`, { method: req.method, headers,
        body: ['GET', 'HEAD'].includes(req.method) ? undefined : Buffer.concat(chunks) });
      const body = Buffer.from(await reply.arrayBuffer());
      if (reply.ok && ['/api/v1/invites/redeem', '/api/v1/session/refresh'].includes(req.url)) {
        issued.push(JSON.parse(body.toString()));
      }
      const out = {};
      reply.headers.forEach((value, name) => {
        if (!['content-length', 'transfer-encoding', 'connection', 'content-encoding',
          'keep-alive'].includes(name)) out[name] = value;
      });
      res.writeHead(reply.status, out);
      res.end(body);
    } catch (error) {
      res.writeHead(502);
      res.end(String(error.message));
    }
  });
  await new Promise((done) => server.listen(PROXY_PORT, '127.0.0.1', done));
  return {
    issued,
    async close() {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    },
  };
}

const refreshCount = () => (device.log().match(/session refreshed/g) || []).length;
const claims = (token) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());

async function status(token) {
  const reply = await fetch(`${stack.origin}/api/v1/consultations/${consultation}/status`,
    { headers: { Authorization: `Bearer ${token}` } });
  return { status: reply.status, json: await reply.json() };
}

async function clinicianFrames() {
  return app.evaluate(async () => (await window.veilApp.report()).subscriber?.framesDecoded || 0);
}

before(async () => {
  checkInNetns();
  clinicianStack = await startClinicianStack({ tls: true, clinicians: [CLINICIAN],
    extraServerArgs: ['--token-ttl-seconds', String(TTL_SECONDS),
      '--refresh-retry-grace-seconds', String(RETRY_GRACE_SECONDS)] });
  ({ stack, app } = clinicianStack);
  proxy = await startRecordingProxy();
});

after(async () => {
  await device?.stop();
  await proxy?.close();
  await clinicianStack?.stop();
});

test('veil-patient joins from the invite and the clinician admits it', async () => {
  const created = await openConsultation(app, stack.origin, CLINICIAN);
  consultation = created.consultation;
  const invite = created.inviteUrl
    .replace(/^https:\/\/127\.0\.0\.1:\d+/, `https://127.0.0.1:${PROXY_PORT}`);
  device = startDevice(['--invite', invite, '--ca-file', stack.tlsCertFile,
    '--ice-address', process.env.VEIL_NETNS_ADDR, '--source', `file:${stillSource}`,
    '--fps', '15', '--audio-out', 'discard']);
  await device.waitForLog(/waiting: the clinician has not admitted you yet/, 'waiting');
  assert.equal(proxy.issued.length, 1, 'the redemption went through the proxy');
  assert.equal(proxy.issued[0].expires_in, TTL_SECONDS);
  await admitFirstWaiting(app);
  await device.waitForLog(/published/, 'published', 300);
  await waitFor(async () => (await clinicianFrames()) > 10,
    { attempts: 150, what: 'veil-patient video decoded on the clinician page' });
});

test('veil-patient stays admitted and publishing across refreshes; the clinician keeps receiving',
  async () => {
    const subscriptions = await app.evaluate(() => window.veilApp.subscriptions);
    const first = proxy.issued[0];
    // Past the first token's expiry and at least three refreshes (one every ~10 s at TTL 20 s).
    await waitFor(() => refreshCount() >= 3 && Date.now() / 1000 > claims(first.token).exp + 2,
      { attempts: 120, intervalMs: 500, what: 'three refreshes and the first token expired' });
    assert.ok(device.running(), device.log());
    assert.doesNotMatch(device.log(), /refresh: /, 'no failed refresh');
    const framesBefore = await clinicianFrames();
    await sleep(3000);
    assert.ok((await clinicianFrames()) > framesBefore + 10, 'frames still arriving');
    // Same subscription throughout: the clinician page never had to resubscribe.
    assert.equal(await app.evaluate(() => window.veilApp.subscriptions), subscriptions);
    // The clinician app re-minted its own token (TTL 20 s: every 10 s) and its keepalives work.
    assert.ok(await app.evaluate(() => window.veilApp.tokenMints) >= 3);
    assert.equal(await app.evaluate(() => window.veilApp.callPhase), 'connected');

    // Every refresh rotated both tokens and went through the proxy.
    assert.ok(proxy.issued.length >= 4, `${proxy.issued.length} credential pairs`);
    const tokens = new Set(proxy.issued.map((c) => c.token));
    const refreshTokens = new Set(proxy.issued.map((c) => c.refresh_token));
    assert.equal(tokens.size, proxy.issued.length);
    assert.equal(refreshTokens.size, proxy.issued.length);
    const sub = claims(first.token).sub;
    assert.ok(proxy.issued.every((c) => claims(c.token).sub === sub), 'same participant');

    // The first session token is refused now; the newest one works.
    const old = await status(first.token);
    assert.equal(old.status, 401);
    assert.equal(old.json.error, 'token_expired');
    const current = await status(proxy.issued.at(-1).token);
    assert.equal(current.status, 200);
    assert.equal(current.json.state, 'admitted');

    const events = stack.auditEvents();
    const refreshes = events.filter((e) => e.event === 'session.refresh' && e.actor === sub);
    assert.ok(refreshes.length >= 3, `audit has ${refreshes.length} session.refresh`);
    assert.ok(refreshes.every((e) => e.cid === consultation && e.outcome === 'ok'));
    assert.equal(events.filter((e) => e.event === 'token.denied' && e.actor === sub
      && e.reason !== 'expired').length, 0, 'no other denial of the device');
    console.log(`refreshes: veil-patient ${refreshCount()}, audit ${refreshes.length}, ` +
      `clinician token mints ${await app.evaluate(() => window.veilApp.tokenMints)}`);
  });

test('replaying a rotated refresh token revokes the participant', async () => {
  const first = proxy.issued[0];
  // It was rotated by the first refresh, more than the retry grace ago.
  assert.ok(refreshCount() >= 2);
  const replay = await fetch(`${stack.origin}/api/v1/session/refresh`, { method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ refresh_token: first.refresh_token }) });
  assert.equal(replay.status, 401);
  assert.equal((await replay.json()).error, 'refresh_reused');
  const current = await status(proxy.issued.at(-1).token);
  assert.equal(current.status, 401);
  assert.equal(current.json.error, 'token_revoked');
  assert.ok(stack.auditEvents().some((e) => e.event === 'session.refresh_reuse'
    && e.actor === claims(first.token).sub));
  // The device learns it on its next status poll (or refresh), stops sending and exits with the
  // status for "refused by the server" (client/README.md), without a token in its log.
  const result = await Promise.race([device.exited, sleep(30000).then(() => null)]);
  assert.ok(result, `veil-patient still running after its revocation\n${device.log()}`);
  console.log(device.log().split('\n')
    .filter((l) => /refresh|no longer accepts|stopped sending|exited/.test(l)).join('\n'));
  assert.equal(result.code, 3, device.log());
  assert.match(device.log(),
    /(no longer accepts this device|refused to renew this device's session) \(.*(token_revoked|refresh_reused|invalid_refresh_token)/);
  assert.match(device.log(), /stopped sending, exit status 3/);
  assert.doesNotMatch(device.log(), /left the consultation/, 'no request with a revoked token');
  for (const issued of proxy.issued) {
    assert.ok(!device.log().includes(issued.token), 'no session token in the log');
    assert.ok(!device.log().includes(issued.refresh_token), 'no refresh token in the log');
  }
});
