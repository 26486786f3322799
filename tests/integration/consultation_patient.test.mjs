// The real patient device in a consultation: Janus (shipped config), veil-server with TLS and
// SQLite, a Chromium clinician page and veil-patient, inside this test's network namespace. The
// clinician signs in and creates a consultation; veil-patient joins from the invite link
// (redeem, waiting room), trusting the demo certificate only through --ca-file; the clinician
// admits it; the clinician's page decodes veil-patient's redacted video and shows the mode from
// its data channel; veil-patient decodes the clinician's audio and video (both directions); a
// stricter mode requested by the clinician is applied by the device, a looser one waits for the
// patient's `confirm`, and the device reports each change for the audit log; leaving is audited.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor, sleep } from './lib/stack.mjs';
import { startDevice } from './lib/device.mjs';
import { openConsultation, admitFirstWaiting, startClinicianStack }
  from './lib/clinician-app.mjs';
import { stillSource, checkInNetns } from './e2e_patient.mjs';

process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';  // node's own fetches to the self-signed stack

const CLINICIAN = { username: 'dr-grace', password: 'another long clinic passphrase' };
let clinicianStack;  // the stack and the clinician's Chromium
let stack;
let app;
let inviteUrl;
let device;

function deviceArgs(extra) {
  return ['--invite', inviteUrl, '--ice-address', process.env.VEIL_NETNS_ADDR,
    '--source', `file:${stillSource}`, '--fps', '15', '--audio-out', 'discard', '--display', 'none',
    ...extra];
}

before(async () => {
  checkInNetns();
  clinicianStack = await startClinicianStack({ tls: true, clinicians: [CLINICIAN] });
  ({ stack, app } = clinicianStack);
});

after(async () => {
  await device?.stop();
  await clinicianStack?.stop();
});

test('the clinician signs in and creates a consultation', async () => {
  ({ inviteUrl } = await openConsultation(app, stack.origin, CLINICIAN));
  assert.match(inviteUrl, /^https:\/\/127\.0\.0\.1:\d+\/join#invite=[A-Za-z0-9_-]{43}$/);
});

test('without --ca-file the self-signed certificate is refused and the invite stays unused',
  async () => {
    const refused = startDevice(deviceArgs([]));
    const { code } = await refused.exited;
    assert.notEqual(code, 0, refused.log());
    assert.match(refused.log(), /invite not accepted: cannot reach the server/);
  });

test('veil-patient redeems the invite, waits, and is admitted', async () => {
  device = startDevice(deviceArgs(['--ca-file', stack.tlsCertFile,
    '--display-name', 'Device Patient']));
  await device.waitForLog(/waiting: the clinician has not admitted you yet/, 'waiting');
  await app.waitForSelector('#waiting li', { timeout: 15000 });
  assert.match(await app.textContent('#waiting li'), /Device Patient/);
  await app.click('#waiting li button');  // "Admit" comes first
  await device.waitForLog(/admitted/, 'admitted');
  await device.waitForLog(/published/, 'published', 300);
});

test('the clinician page decodes the redacted video and shows the device state', async () => {
  await waitFor(async () => {
    const r = await app.evaluate(() => window.veilApp.report());
    return r.subscriber && r.subscriber.framesDecoded > 10;
  }, { attempts: 150, what: 'veil-patient video decoded on the clinician page' });
  await waitFor(() => app.evaluate(() => window.veilApp.messages > 3),
    { what: 'veil-state messages on the clinician page' });
  assert.equal(await app.textContent('#mode'), 'Background hidden');
});

test('the clinician audio and video decode in veil-patient; a stricter mode requested by the clinician is applied by the device; a looser one waits',
  async () => {
    await app.click('#start-camera');
    await waitFor(() => app.evaluate(() => window.veilApp.publishing),
      { what: 'clinician publishing' });
    await device.waitForLog(/subscribed to the clinician/, 'veil-patient subscribed', 150);
    await device.waitForLog(/clinician feed: connection connected/, 'clinician feed connected');
    // The clinician's (fake) microphone reaches veil-patient and decodes (Opus → PCM).
    await device.waitForLog(/clinician feed: audio decoding/, 'clinician audio linked');
    await device.waitForLog(/stats: clinician audio [1-9]\d* buffers decoded/,
      'clinician audio decoded', 120);
    // The clinician's (fake) camera: decoded by veil-patient (dropped, --display none), and the
    // decoded-frame counter keeps growing between two stats lines.
    await device.waitForLog(/clinician feed: video decoding [1-9]\d*x[1-9]\d*/, 'clinician video');
    await waitFor(() => {
      const counts = [...device.log().matchAll(/stats: clinician video (\d+) frames decoded/g)]
        .map((match) => Number(match[1]));
      return counts.length >= 2 && counts[0] > 0 && counts[counts.length - 1] > counts[0];
    }, { attempts: 150, intervalMs: 200, what: 'clinician video frames counted twice, growing' });

    // The SFU drops data-channel messages sent before the device's SCTP association is up (a few
    // hundred ms after DTLS): ask again, a bounded number of times, as a clinician would.
    await app.selectOption('#request-mode', 'background+face');
    let applied = false;
    for (let attempt = 0; attempt < 5 && !applied; attempt += 1) {
      await app.click('#mode-form button');
      applied = await waitFor(() => /asked for mode background\+face: applied/.test(device.log()),
        { attempts: 15, intervalMs: 200, what: 'stricter mode applied' }).then(() => true,
        () => false);
    }
    assert.ok(applied, `stricter mode not applied\n${device.log()}`);
    await waitFor(async () => (await app.textContent('#mode')) === 'Background and face hidden',
      { what: 'the applied mode reported to the clinician page' });

    await app.selectOption('#request-mode', 'background');
    await app.click('#mode-form button');
    await device.waitForLog(/asks for mode background, which shows more/, 'looser mode prompt');
    await sleep(1500);  // the looser mode must not apply by itself
    assert.equal(await app.textContent('#mode'), 'Background and face hidden');
    device.send('confirm');
    await waitFor(async () => (await app.textContent('#mode')) === 'Background hidden',
      { what: 'the confirmed looser mode reported to the clinician page' });
  });

test('leaving unpublishes and is audited', async () => {
  const result = await device.stop();
  console.log(device.log());
  assert.equal(result.code, 0, device.log());
  assert.match(device.log(), /unpublished/);
  assert.match(device.log(), /left the consultation/);
  const events = await stack.auditEvents();
  const names = events.map((e) => e.event);
  for (const name of ['invite.redeem', 'waiting.join', 'waiting.admit', 'media.publish.start',
    'participant.leave']) {
    assert.ok(names.includes(name), `audit has ${name}: ${names.join(',')}`);
  }
  // veil-patient reported both mode changes itself (the device's word, labelled as such).
  const reported = events.filter((e) => e.event === 'mode.reported')
    .map((e) => `${e.reason}:${e.detail}`);
  assert.deepEqual(reported, [
    'device_reported:from=background;to=background+face;trigger=request',
    'device_reported:from=background+face;to=background;trigger=request',
  ]);
  device = null;
});

test('a device in a consultation the clinician ends stops sending and exits 0', async () => {
  const previous = await app.inputValue('#invite-url');
  await app.click('#new-invite');
  await waitFor(async () => (await app.inputValue('#invite-url')) !== previous,
    { what: 'a new invite' });
  inviteUrl = await app.inputValue('#invite-url');
  device = startDevice(deviceArgs(['--ca-file', stack.tlsCertFile]));
  await device.waitForLog(/waiting: the clinician has not admitted you yet/, 'waiting');
  await admitFirstWaiting(app);
  await device.waitForLog(/published/, 'published', 300);
  await app.click('#end');
  const result = await Promise.race([device.exited, sleep(30000).then(() => null)]);
  assert.ok(result, `veil-patient still running after the end\n${device.log()}`);
  assert.equal(result.code, 0, device.log());
  assert.match(device.log(), /the consultation has ended \(status: HTTP 410 \(consultation_ended\)\); stopped sending, exit status 0/);
  assert.doesNotMatch(device.log(), /left the consultation/, 'no request after the end');
  device = null;
});
