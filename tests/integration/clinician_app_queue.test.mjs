// The clinician app's mode-request queue on the real stack (Janus, veil-server with TLS, Chromium
// for the clinician and a fake-media patient stand-in): a request made before it can reach the
// device — the clinician's camera is still off, then the device is not yet receiving — is not
// lost but queued (latest wins), shown as queued, and sent exactly once when the device's
// receiving connection is up; the page then shows it sent and, once the device reports the mode,
// applied. A request made when everything is connected goes out at once. Keyboard only for the
// requests; the new status line meets the contrast the other texts meet.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, waitFor, sleep } from './lib/stack.mjs';
import { openConsultation, admitFirstWaiting, launchClinicianAndPatient }
  from './lib/clinician-app.mjs';
import { patientRedeem, patientPublish, patientSubscribe, patientReport }
  from './lib/patient-page.mjs';

process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';

const CLINICIAN = { username: 'dr-queue', password: 'a queueing clinic passphrase' };
let stack;
let browsers;
let app;
let patient;

before(async () => {
  stack = await startStack({ tls: true, clinicians: [CLINICIAN] });
  browsers = await launchClinicianAndPatient();
  ({ app, patient } = browsers);
});

after(async () => {
  await browsers?.close();
  await stack?.stop();
});

const requestState = () => app.evaluate(() => window.veilApp.request);
const receivedRequests = async () => (await patientReport(patient)).received
  .filter((m) => typeof m.request_mode === 'string').map((m) => m.request_mode);

async function requestMode(mode) {
  await app.selectOption('#request-mode', mode);
  await app.focus('#mode-form button');
  await app.keyboard.press('Enter');
}

test('the patient joins and publishes; the clinician sees it', async () => {
  const { invite } = await openConsultation(app, stack.origin, CLINICIAN);
  await patient.goto(`${stack.origin}/join`);
  assert.equal((await patientRedeem(patient, { invite })).status, 200);
  await admitFirstWaiting(app, { timeout: 30000 });  // Playwright's default wait
  assert.equal((await patientPublish(patient)).status, 201);
  await waitFor(async () => (await app.evaluate(() => window.veilApp.messages)) > 3,
    { attempts: 150, what: 'device state messages on the clinician page' });
  assert.equal(await app.textContent('#request-state'), 'No request pending.');
});

test('requests made before the device can receive them are queued, latest wins', async () => {
  await requestMode('face');
  await waitFor(async () => (await requestState())?.state === 'queued', { what: 'queued' });
  await requestMode('background+face');
  await waitFor(async () => (await requestState())?.mode === 'background+face',
    { what: 'the latest request replaced the first' });
  assert.equal((await requestState()).state, 'queued');
  assert.match(await app.textContent('#request-state'),
    /"Background and face hidden" is queued/);

  // The clinician's camera (and data channel) comes up, but the device is not receiving yet.
  await app.click('#start-camera');
  await waitFor(() => app.evaluate(() => window.veilApp.publishing), { what: 'clinician publishing' });
  await sleep(3000);  // more than a poll period with the clinician's channel open
  assert.equal((await requestState()).state, 'queued');
  assert.equal(await app.evaluate(() => window.veilApp.requestsSent), 0);
});

test('the queued request is sent once when the device receives, then shown as applied', async () => {
  assert.equal((await patientSubscribe(patient)).status, 201);
  await waitFor(async () => (await receivedRequests()).length > 0,
    { attempts: 100, what: 'the queued request reached the device' });
  await sleep(2000);  // a second send would arrive within this
  assert.deepEqual(await receivedRequests(), ['background+face']);
  assert.equal(await app.evaluate(() => window.veilApp.requestsSent), 1);
  assert.equal((await requestState()).state, 'sent');
  assert.match(await app.textContent('#request-state'), /was sent\. The patient's device decides\./);

  // The device applies it and reports the new mode in its state messages.
  await patient.evaluate(() => { window.veilPatient.mode = 'background+face'; });
  await waitFor(async () => (await requestState()).state === 'applied', { what: 'applied' });
  assert.equal(await app.textContent('#request-state'),
    'The patient\'s device applied "Background and face hidden".');
});

test('with the device receiving, a request goes out at once', async () => {
  await requestMode('voice-only');
  await waitFor(async () => (await receivedRequests()).includes('voice-only'),
    { what: 'the immediate request reached the device' });
  assert.equal(await app.evaluate(() => window.veilApp.requestsSent), 2);
  assert.deepEqual((await requestState()), { mode: 'voice-only', state: 'sent' });
});

test('the request status is announced and readable (role status, contrast ≥ 4.5)', async () => {
  const facts = await app.evaluate(() => {
    const element = document.querySelector('#request-state');
    const rgb = (text) => text.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number);
    const luminance = ([r, g, b]) => {
      const channel = (v) => {
        const c = v / 255;
        return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    };
    let background = [255, 255, 255];
    for (let e = element; e; e = e.parentElement) {
      const value = getComputedStyle(e).backgroundColor;
      if (value && !/rgba\(0, 0, 0, 0\)|transparent/.test(value)) { background = rgb(value); break; }
    }
    const fg = luminance(rgb(getComputedStyle(element).color));
    const bg = luminance(background);
    return { role: element.getAttribute('role'), live: element.getAttribute('aria-live'),
      ratio: (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05) };
  });
  assert.equal(facts.role, 'status');
  assert.equal(facts.live, 'polite');
  assert.ok(facts.ratio >= 4.5, `contrast ${facts.ratio.toFixed(2)}`);
  const audited = stack.auditEvents().filter((e) => e.event === 'mode.request').map((e) => e.detail);
  assert.deepEqual(audited, ['mode=face', 'mode=background+face', 'mode=voice-only']);
});
