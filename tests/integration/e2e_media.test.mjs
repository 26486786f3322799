// End to end, inside a network namespace (run through lib/in-netns): Janus with our shipped
// config + veil-server + veil-patient publishing a still of a person (file source, background
// mode) + headless Chromium on the clinician viewer. Proves from what the browser renders and from
// what the SFU relays that only redacted frames travel, that audio decodes, that a stricter mode
// reaches the browser within a second's worth of frames while a looser one waits for the
// patient's confirmation, and that the publish endpoint refuses bad tokens.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { sleep, startStack, waitFor } from './lib/stack.mjs';
import {
  analyse, checkInNetns, grabFrame, offlineRedaction, openBrowser, openViewer, startPatient,
  startTapDecoder, stillSource,
} from './e2e_patient.mjs';

const consultation = 'e2e-media';
const fps = 30;
const log = (line) => console.log(`e2e_media: ${line}`);

// "Nothing survives" (design.md §6) and "the patient stays sharp", as numbers.
function assertRedactedAsExpected(metrics, where) {
  log(`${where}: ${JSON.stringify(metrics)}`);
  assert.ok(metrics.blocks_checked > 200, `${where}: too few detailed background blocks to judge`);
  assert.ok(metrics.source_protected_energy > 4, `${where}: the source background has no detail`);
  assert.equal(metrics.blocks_with_surviving_detail, 0,
    `${where}: background blocks carrying the source's detail (r > 0.3 at its amplitude)`);
  assert.ok(metrics.protected_energy_ratio < 0.1, `${where}: background keeps high-pass energy`);
  assert.ok(metrics.patient_energy_ratio > 0.4, `${where}: the patient region is not sharp`);
  assert.ok(metrics.psnr_vs_expected > 26, `${where}: not the picture the redactor makes`);
}

// Shaped like an offer, so that only the token decides the answer.
const plausibleOffer = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0',
  'm=video 9 UDP/TLS/RTP/SAVPF 96', 'c=IN IP4 0.0.0.0', 'a=mid:0', 'a=sendonly',
  'a=rtpmap:96 VP8/90000', ''].join('\r\n');

async function publishStatus(serverUrl, token) {
  const headers = { 'Content-Type': 'application/sdp' };
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(`${serverUrl}/api/v1/consultations/${consultation}/whip`,
    { method: 'POST', headers, body: plausibleOffer });
  const body = await response.json().catch(() => ({}));
  return { status: response.status, error: body.error };
}

async function checkTokenRefusals(stack) {
  const patientToken = stack.mintToken(consultation, 'patient');
  const [header, payload, signature] = patientToken.split('.');
  const flipped = signature[0] === 'A' ? `B${signature.slice(1)}` : `A${signature.slice(1)}`;
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
  const longerClaims = Buffer.from(JSON.stringify({ ...claims, exp: claims.exp + 86400 }))
    .toString('base64url');
  const expiring = stack.mintToken(consultation, 'patient', 1);
  const cases = {
    missing: [undefined, 401, 'missing_token'],
    forged: [`${header}.${payload}.${flipped}`, 401, 'invalid_token'],
    'extended without the key': [`${header}.${longerClaims}.${signature}`, 401, 'invalid_token'],
    'other consultation': [stack.mintToken('another-room', 'patient'), 403, 'wrong_consultation'],
  };
  for (const [name, [token, status, error]] of Object.entries(cases)) {
    assert.deepEqual(await publishStatus(stack.serverUrl, token), { status, error },
      `${name} token`);
  }
  await sleep(2100);  // the 1-second token is now expired (the server allows no grace on exp)
  assert.deepEqual(await publishStatus(stack.serverUrl, expiring),
    { status: 401, error: 'token_expired' }, 'expired token');
  log('missing, forged, tampered, expired and other-room tokens refused');
}

async function mediaPath() {
  checkInNetns();
  const work = mkdtempSync(join(tmpdir(), 'veil-e2e-media-'));
  const stack = await startStack({ demoConsultation: consultation });
  let patient = null;
  let browser = null;
  let tap = null;
  try {
    await checkTokenRefusals(stack);
    const expected = offlineRedaction(stillSource, work);
    // Positive control: the unredacted source must fail the checks the received frames pass.
    const control = analyse({ source: stillSource, expected, frame: stillSource });
    assert.ok(control.blocks_with_surviving_detail > 100 && control.protected_energy_ratio > 0.9,
      'pixel checks cannot tell the source from a redaction');
    const patch = analyse({ source: stillSource, expected, leakControl: true });
    assert.ok(patch.blocks_with_surviving_detail >= 16,
      `pixel checks miss one 64x64 patch of leaked background: ${JSON.stringify(patch)}`);

    patient = startPatient({ serverUrl: stack.serverUrl, consultation,
      token: stack.mintToken(consultation, 'patient'), source: `file:${stillSource}`,
      args: ['--width', '640', '--height', '360', '--fps', String(fps)] });
    await patient.waitForLog(/veil-patient: published/, 'publish');
    await patient.waitForLog(/connection-state connected/, 'ICE/DTLS to Janus');

    browser = await openBrowser();
    const viewerUrl = `${stack.serverUrl}/view/${consultation}#token=${
      stack.mintToken(consultation, 'viewer')}`;
    const page = await openViewer(browser, viewerUrl);
    await waitFor(() => page.evaluate(() => window.e2e.frames >= 60 &&
      window.veilViewer.last && window.veilViewer.last.state === 'normal'),
    { attempts: 100, intervalMs: 200, what: '60 frames and a normal redaction state' });
    log('frames flow; data channel reports state normal');

    // Frames the device marked normal: every state message seen so far was normal.
    const before = await page.evaluate(() => window.e2e.nonNormal);
    const shown = await grabFrame(page, work, 'browser');
    const after = await page.evaluate(() => window.e2e.nonNormal);
    assert.equal(after, before, 'a non-normal redaction state was reported while grabbing');
    assert.deepEqual([shown.width, shown.height], [640, 360]);
    assertRedactedAsExpected(analyse({ source: stillSource, expected, raw: shown }), 'browser');

    const audio = await page.evaluate(() => window.e2e.audioLevel());
    log(`audio: ${JSON.stringify(audio)}`);
    assert.ok(audio.rms > 0.01, 'no audio energy in the browser');

    // What the SFU relays, tapped with a keyed rtp_forward and decoded here.
    tap = startTapDecoder(15004, work);
    const forwarded = stack.tap(consultation, { videoPort: 15004 });
    log(`rtp_forward: ${JSON.stringify(forwarded)}`);
    await waitFor(() => tap.decoded() >= fps, { attempts: 100, intervalMs: 200,
      what: `a second of frames decoded from the SFU tap ${tap.errors()}` });
    await tap.stop();  // stop first: multifilesink rotates files while it runs
    // Every frame still on disk (the newest 20) but the last (the stop may have cut it short).
    const tapFrames = tap.frames().slice(0, -1).map((name) => join(tap.dir, name));
    const tapped = analyse({ source: stillSource, expected, frames: tapFrames });
    tapped.forEach((metrics, i) => assertRedactedAsExpected(metrics, `SFU tap frame ${i}`));
    tap = null;

    // Stricter mode: applies on the next frame. Count presented frames until the picture changes.
    const reference = await page.evaluate(() => window.e2e.thumbnail());
    const modeIndex = await page.evaluate(() => window.e2e.modes.length);
    patient.send('mode voice-only');
    const change = await page.evaluate((args) => window.e2e.framesUntilChange(...args),
      [reference, 20, 3 * fps]);
    log(`voice-only: picture changed after ${change.frames} frames (${JSON.stringify(change)})`);
    assert.ok(change.frames <= fps, 'the stricter mode took more than a second of frames');
    await waitFor(() => page.evaluate(() => window.veilViewer.last.mode === 'voice-only'),
      { attempts: 25, intervalMs: 40, what: 'data channel reports voice-only' });
    const modes = await page.evaluate((from) => window.e2e.modes.slice(from), modeIndex);
    log(`data channel mode changes [frame, mode]: ${JSON.stringify(modes)}`);
    await sleep(300);
    const avatar = analyse({ source: stillSource, expected,
      raw: await grabFrame(page, work, 'voice-only') });
    log(`voice-only frame: ${JSON.stringify(avatar)}`);
    assert.ok(avatar.patient_energy_ratio < 0.15, 'voice-only still shows the patient');
    assert.equal(avatar.blocks_with_surviving_detail, 0, 'voice-only shows background detail');
    assert.match(patient.log(), /mode voice-only/);

    // Looser mode: nothing changes until the patient confirms on the device.
    patient.send('mode background');
    await patient.waitForLog(/type 'confirm'/, 'confirmation prompt');
    const framesBefore = await page.evaluate(() => window.e2e.frames);
    await waitFor(() => page.evaluate((n) => window.e2e.frames >= n, framesBefore + fps),
      { attempts: 50, intervalMs: 100, what: 'a second of frames' });
    assert.equal(await page.evaluate(() => window.veilViewer.last.mode), 'voice-only',
      'a looser mode applied without confirmation');
    patient.send('confirm');
    await waitFor(() => page.evaluate(() => window.veilViewer.last.mode === 'background'),
      { attempts: 50, intervalMs: 100, what: 'background mode after confirm' });
    log('looser mode waited for confirm, then applied');

    const stopped = await patient.stop();
    patient = null;
    assert.equal(stopped.code, 0, `veil-patient exit ${JSON.stringify(stopped)}`);
    await waitFor(() => /DELETE \/api\/v1\/consultations\/[^ ]+\/whip\/[0-9a-f]+ -> 204/
      .test(stack.serverLog()), { attempts: 25, what: 'the publish resource deleted' });
    log('veil-patient stopped cleanly and deleted its publish resource');
  } finally {
    if (tap) await tap.stop();
    if (browser) await browser.close();
    if (patient) {
      // Only reached when the test failed before its own clean stop.
      await patient.stop();
      console.error(`--- veil-patient log ---\n${patient.log()}`);
      const janusWarnings = stack.janusLog().split('\n').filter((line) => /WARN|ERR/.test(line));
      console.error(`--- Janus warnings (last 10) ---\n${janusWarnings.slice(-10).join('\n')}`);
    }
    await stack.stop();
    if (process.env.VEIL_E2E_KEEP) log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

test('redacted media from veil-patient through Janus to the clinician viewer', { timeout: 240000 },
  mediaPath);
