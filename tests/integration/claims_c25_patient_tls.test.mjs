// Threat-model claim C25 for the patient device: veil-patient reaches veil-server only over HTTPS
// with certificate validation, trusting the server through --ca-file; its media is DTLS-SRTP.
//
// Real Janus (shipped config), veil-server with its self-signed demo certificate (names localhost
// and 127.0.0.1), a Chromium clinician and the real veil-patient joining from an https invite
// (--invite-file). veil-patient must refuse — clear error, non-zero exit, nothing redeemed,
// nothing published — with no --ca-file, with a different self-signed certificate as CA, and with
// the right CA but under a name the certificate does not carry (the veth address, through a plain
// TCP forwarder; a control shows the same path completes TLS when the name is not checked). With
// the right CA it joins. Then the Janus Admin API's handle_info must show, for every handle that
// carries media, DTLS connected with an SRTP profile; a control handle without a PeerConnection
// shows the predicate is not vacuous.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack, sleep } from './lib/stack.mjs';
import { launchBrowser } from './lib/browser.mjs';
import { JanusProbe } from './lib/janus-probe.mjs';
import { stillSource, checkInNetns } from './e2e_patient.mjs';
import { startDevice, clinicianCreatesConsultation, admitAndTalk, janusAdmin, janusHandles,
  forwardTcp } from './lib/claims-consultation.mjs';

process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';  // node's own fetches to the self-signed stack

const CLINICIAN = { username: 'dr-c25', password: 'a clinic passphrase for c25' };
const address = process.env.VEIL_NETNS_ADDR;
const FORWARD_PORT = 18444;
let stack;
let browser;
let app;
let work;
let device;
let forwarder;

function deviceArgs(inviteUrl, extra) {
  const inviteFile = join(work, `invite-${Math.random().toString(36).slice(2)}`);
  writeFileSync(inviteFile, `${inviteUrl}\n`, { mode: 0o600 });
  return ['--invite-file', inviteFile, '--ice-address', address, '--source',
    `file:${stillSource}`, '--fps', '15', '--audio-out', 'discard', ...extra];
}

// Nothing of the consultation happened on the server: no redeem, no waiting, no media.
function assertNothingReachedTheServer() {
  const events = stack.auditEvents().map((e) => e.event);
  for (const name of ['invite.redeem', 'waiting.join', 'media.publish.start']) {
    assert.ok(!events.includes(name), `audit has ${name}: ${events.join(',')}`);
  }
}

async function refused(extra, inviteUrl = app.inviteUrl) {
  const attempt = startDevice(deviceArgs(inviteUrl, extra));
  // A refusal comes within the 5 s connect timeout; a device that got in would wait for admission.
  const ended = await Promise.race([attempt.exited, sleep(20000).then(() => null)]);
  if (!ended) await attempt.stop();
  assert.ok(ended, `veil-patient did not refuse the server:\n${attempt.log()}`);
  assert.notEqual(ended.code, 0, attempt.log());
  assert.match(attempt.log(),
    /invite not accepted: cannot reach the server: SSL ?server ?verification/i);
  assert.doesNotMatch(attempt.log(), /invite redeemed|waiting|published/);
  assertNothingReachedTheServer();
  return attempt.log();
}

// A handle carries media iff Janus set up a PeerConnection for it; it must be DTLS-SRTP.
const dtlsOf = (info) => info?.webrtc?.dtls ?? info?.dtls ?? null;
const isDtlsSrtp = (info) => {
  const dtls = dtlsOf(info);
  return Boolean(dtls && dtls['dtls-state'] === 'connected' && /^SRTP_|AES/.test(dtls['srtp-profile'] || ''));
};

before(async () => {
  checkInNetns();
  work = mkdtempSync(join(tmpdir(), 'veil-c25-'));
  stack = await startStack({ tls: true, clinicians: [CLINICIAN] });
  browser = await launchBrowser({ fakeMedia: true, ignoreHTTPSErrors: true });
  forwarder = forwardTcp(address, FORWARD_PORT, 18443);
});

after(async () => {
  await device?.stop();
  await browser?.close();
  await stack?.stop();
  forwarder?.close();
  rmSync(work, { recursive: true, force: true });
});

test('the clinician creates a consultation with an https invite', async () => {
  app = await clinicianCreatesConsultation(browser, stack, CLINICIAN);
  assert.match(app.inviteUrl, /^https:\/\/127\.0\.0\.1:18443\/join#invite=/);
});

test('no --ca-file: the self-signed server is refused, nothing redeemed', async () => {
  await refused([]);
});

test('a different self-signed CA: refused, nothing redeemed', async () => {
  const otherCert = join(work, 'other.crt');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
    '-nodes', '-keyout', join(work, 'other.key'), '-out', otherCert, '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
  { stdio: 'ignore' });
  await refused(['--ca-file', otherCert]);
});

test('the right CA under a name the certificate does not carry: refused, nothing redeemed',
  async () => {
    const before = forwarder.connections();
    const elsewhere = app.inviteUrl.replace('127.0.0.1:18443', `${address}:${FORWARD_PORT}`);
    await refused(['--ca-file', stack.tlsCertFile], elsewhere);
    assert.ok(forwarder.connections() > before, 'veil-patient reached the server through the forwarder');
    // Control: the same path completes TLS with the same CA when the name is not checked.
    const ca = readFileSync(stack.tlsCertFile);
    const authorized = await new Promise((done, fail) => {
      const socket = tlsConnect({ host: address, port: FORWARD_PORT, ca,
        checkServerIdentity: () => undefined }, () => { done(socket.authorized); socket.end(); });
      socket.on('error', fail);
    });
    assert.equal(authorized, true, 'the chain verifies; only the name differs');
  });

test('with the right CA veil-patient redeems, is admitted and talks', async () => {
  device = startDevice(deviceArgs(app.inviteUrl, ['--ca-file', stack.tlsCertFile]));
  await admitAndTalk(app.page, device);
  const events = stack.auditEvents().filter((e) => e.event === 'invite.redeem');
  assert.equal(events.length, 1, JSON.stringify(events));
});

test('Janus: every handle with a PeerConnection is DTLS-SRTP (connected, SRTP profile)',
  async () => {
    const handles = await janusHandles(stack);
    const withMedia = handles.filter((info) => dtlsOf(info));
    // Patient publisher, clinician subscriber, clinician publisher, patient subscriber.
    assert.ok(withMedia.length >= 4, `handles with DTLS: ${JSON.stringify(handles, null, 1)}`);
    for (const info of withMedia) {
      assert.ok(isDtlsSrtp(info), `not DTLS-SRTP: ${JSON.stringify(dtlsOf(info))}`);
    }
    console.log(`DTLS of the media handles: ${JSON.stringify(withMedia.map((info) => {
      const dtls = dtlsOf(info);
      return { state: dtls['dtls-state'], profile: dtls['srtp-profile'] };
    }))}`);

    // Control: a handle attached without any PeerConnection fails the predicate.
    const probe = await new JanusProbe(stack.janusUrl).connect();
    const handle = await probe.attach();
    const { info } = await janusAdmin(stack,
      { janus: 'handle_info', session_id: probe.session, handle_id: handle });
    assert.equal(isDtlsSrtp(info), false, JSON.stringify(info));
  });

test('veil-patient leaves cleanly', async () => {
  const result = await device.stop();
  assert.equal(result.code, 0, device.log());
  device = null;
});
