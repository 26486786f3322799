// A whole consultation, as a clinician and a patient live it, on the real stack (Janus with the
// shipped config, veil-server with TLS and SQLite, Debian Chromium) inside this test's network
// namespace: the clinician signs in with the keyboard, creates a consultation and copies the
// invite; the patient (a fake-media Chromium page standing in for the device) redeems it and
// waits; publishing before admission is refused; the clinician admits; both directions of audio
// and video decode; the device's mode and fallback state reach the clinician's page; a mode
// request reaches the device; ending revokes everything and destroys the Janus room; the audit
// log holds the expected events and no patient data. Also measures CPU per consultation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { startStack, waitFor, sleep, cpuTicks, processTicks, processTree, machineTicks,
  repoDir } from './lib/stack.mjs';
import { signIn, createConsultation, launchClinicianAndPatient }
  from './lib/clinician-app.mjs';
import { JanusProbe } from './lib/janus-probe.mjs';
import { patientRedeem, patientStatus, patientPublish, patientSubscribe, patientReport,
  patientSetState, patientReconnect } from './lib/patient-page.mjs';

process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';  // the stack's self-signed demo certificate

const CLINICIAN = { username: 'dr-ada', password: 'a long clinic passphrase' };
const DISPLAY_NAME = 'Testpatient Zelda';
let stack;
let chromiums;  // the clinician's and the patient's Chromium
let app;      // clinician page
let patient;  // patient page
let consultation;
let invite;
let patientCreds;

before(async () => {
  stack = await startStack({ tls: true, clinicians: [CLINICIAN] });
  chromiums = await launchClinicianAndPatient();
  ({ app, patient } = chromiums);
});

after(async () => {
  await chromiums?.close();
  await stack?.stop();
});

test('the clinician signs in with the keyboard and creates a consultation', async () => {
  await signIn(app, stack.origin, CLINICIAN, { keyboard: true });
  const cookies = await chromiums.clinicianBrowser.context.cookies(stack.origin);
  const session = cookies.find((c) => c.name === '__Host-veil_session');
  assert.ok(session, 'session cookie set');
  assert.equal(session.httpOnly, true);
  assert.equal(session.secure, true);
  assert.equal(session.sameSite, 'Strict');
  assert.equal(session.path, '/');

  const created = await createConsultation(app, { keyboard: true });
  assert.match(created.inviteUrl, /^https:\/\/127\.0\.0\.1:\d+\/join#invite=[A-Za-z0-9_-]{43}$/);
  ({ invite, consultation } = created);
  assert.match(consultation, /^[0-9a-f]{32}$/);
});

test('the patient redeems the invite once and waits; publishing before admission is refused',
  async () => {
    await patient.goto(`${stack.origin}/join`);
    const redeemed = await patientRedeem(patient, { invite, displayName: DISPLAY_NAME });
    assert.equal(redeemed.status, 200, JSON.stringify(redeemed.json));
    patientCreds = redeemed.json;
    assert.equal(patientCreds.state, 'waiting');
    assert.equal(patientCreds.consultation, consultation);
    assert.ok(patientCreds.expires_in <= 900);
    const again = await patientRedeem(patient, { invite });
    assert.equal(again.status, 410);
    assert.equal(again.json.error, 'invite_used');
    // The stand-in keeps the first credentials (the failed redemption does not replace them).
    await patient.evaluate((creds) => { window.veilPatient.creds = creds; }, patientCreds);

    const status = await patientStatus(patient);
    assert.equal(status.json.state, 'waiting');
    const early = await patientPublish(patient);
    assert.equal(early.status, 403);
    assert.equal(early.json.error, 'not_admitted');
    const subscribeEarly = await patient.evaluate(() => window.veilPatient.call('POST',
      `/api/v1/consultations/${window.veilPatient.creds.consultation}/subscribe`));
    assert.equal(subscribeEarly.status, 403);
  });

test('the clinician sees the waiting patient and admits them with the keyboard', async () => {
  await app.waitForSelector('#waiting li', { timeout: 10000 });
  const text = await app.textContent('#waiting li');
  assert.match(text, /Testpatient Zelda/);
  await app.focus('#waiting li button');  // "Admit" comes first
  await app.keyboard.press('Enter');
  await waitFor(async () => (await patientStatus(patient)).json.state === 'admitted',
    { what: 'admission' });
});

test('both directions of audio and video decode in Chromium', async () => {
  const published = await patientPublish(patient);
  assert.equal(published.status, 201, JSON.stringify(published));
  // The clinician's page notices the patient's feed and subscribes by itself.
  await waitFor(async () => {
    const r = await app.evaluate(() => window.veilApp.report());
    return r.subscriber && r.subscriber.framesDecoded > 10 && r.subscriber.audioEnergy > 0;
  }, { attempts: 150, what: 'patient video+audio decoded on the clinician page' });

  await app.focus('#start-camera');
  await app.keyboard.press('Enter');
  await waitFor(() => app.evaluate(() => window.veilApp.publishing), { what: 'clinician publishing' });
  await waitFor(async () => (await patientStatus(patient)).json.clinician_publishing,
    { what: 'clinician feed listed' });
  const subscribed = await patientSubscribe(patient);
  assert.equal(subscribed.status, 201, JSON.stringify(subscribed));
  await waitFor(async () => {
    const r = await patientReport(patient);
    return r.subscriber.framesDecoded > 10 && r.subscriber.audioEnergy > 0;
  }, { attempts: 150, what: 'clinician video+audio decoded on the patient side' });
});

test('a second admitted patient cannot replace the patient feed', async () => {
  // The clinician issues another invite and admits whoever redeems it (e.g. a leaked link).
  const created = await app.evaluate(async (cid) => (await fetch(
    `/api/v1/consultations/${cid}/invite`, { method: 'POST' })).json(), consultation);
  const other = await (await fetch(`${stack.origin}/api/v1/invites/redeem`, { method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ invite: created.invite }) })).json();
  const admitted = await app.evaluate(async ([cid, participant]) => (await fetch(
    `/api/v1/consultations/${cid}/participants/${participant}/admit`, { method: 'POST' })).status,
  [consultation, other.participant]);
  assert.equal(admitted, 204);
  const sdp = 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n';
  const reply = await fetch(`${stack.origin}/api/v1/consultations/${consultation}/whip`, {
    method: 'POST', headers: { Authorization: `Bearer ${other.token}`,
      'Content-Type': 'application/sdp' }, body: sdp });
  assert.equal(reply.status, 409);
  assert.equal((await reply.json()).error, 'publisher_conflict');
  // The real patient's feed keeps flowing to the clinician.
  const before = (await app.evaluate(() => window.veilApp.report())).subscriber.framesDecoded;
  await waitFor(async () => (await app.evaluate(() => window.veilApp.report()))
    .subscriber.framesDecoded > before + 10, { what: 'the original feed continues' });
});

test('the device-reported mode and the fallback banner reach the clinician', async () => {
  await waitFor(() => app.evaluate(() => window.veilApp.messages > 3), { what: 'state messages' });
  assert.equal(await app.textContent('#mode'), 'Background hidden');
  assert.equal(await app.isHidden('#fallback'), true);
  await patientSetState(patient, 'degraded');
  await app.waitForSelector('#fallback:not([hidden])');
  assert.match(await app.textContent('#fallback'), /Fallback active/);
});

test('the clinician app meets WCAG 2.1 AA text contrast', async () => {
  const ratios = await app.evaluate(() => {
    const rgb = (text) => text.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number);
    const luminance = ([r, g, b]) => {
      const channel = (v) => { const c = v / 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    };
    const background = (element) => {
      for (let e = element; e; e = e.parentElement) {
        const value = getComputedStyle(e).backgroundColor;
        if (value && !/rgba\(0, 0, 0, 0\)|transparent/.test(value)) return rgb(value);
      }
      return [255, 255, 255];
    };
    const out = {};
    for (const selector of ['h2', '#call-state', '.facts dt', '.facts dd', '.hint', 'button#end',
      'button#copy-invite', '#start-camera', '#fallback', 'label[for=request-mode]', '#invite-url']) {
      const element = document.querySelector(selector);
      const fg = luminance(rgb(getComputedStyle(element).color));
      const bg = luminance(background(element));
      out[selector] = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    }
    return out;
  });
  for (const [selector, ratio] of Object.entries(ratios)) {
    assert.ok(ratio >= 4.5, `${selector}: contrast ${ratio.toFixed(2)} < 4.5`);
  }
});

test('a mode request from the clinician reaches the device over the data channel', async () => {
  await app.selectOption('#request-mode', 'face');
  await app.focus('#mode-form button');
  await app.keyboard.press('Enter');
  await waitFor(async () => (await patientReport(patient)).received
    .some((m) => m.request_mode === 'face'), { what: 'request_mode at the patient' });
});

test('the patient reconnects (refresh, new publish) and the clinician page recovers', async () => {
  const subscriptions = await app.evaluate(() => window.veilApp.subscriptions);
  const reconnected = await patientReconnect(patient);
  assert.equal(reconnected.status, 201, JSON.stringify(reconnected));
  await waitFor(async () => {
    const view = await app.evaluate(async () => ({ subscriptions: window.veilApp.subscriptions,
      report: await window.veilApp.report() }));
    return view.subscriptions > subscriptions && view.report.subscriber?.framesDecoded > 10;
  }, { attempts: 150, what: 'the clinician page resubscribed to the reconnected patient' });
  // The same participant came back: no second admission was needed.
  assert.equal((await patientStatus(patient)).json.state, 'admitted');
});

test('screenshot of the clinician app and CPU per consultation', async () => {
  await app.waitForFunction(() => window.veilApp.quality !== null);
  const shot = join(process.env.VEIL_BUILD_DIR || join(repoDir, 'build'), 'clinician-app.png');
  // The invite link is masked: even a dead test invite does not belong in an image.
  await app.screenshot({ path: shot, fullPage: true, mask: [app.locator('#invite-url')],
    maskColor: '#d0d4d8' });
  if (process.env.VEIL_UPDATE_DOCS === '1') {
    mkdirSync(join(repoDir, 'docs/img'), { recursive: true });
    copyFileSync(shot, join(repoDir, 'docs/img/clinician-app.png'));
  }
  await patientSetState(patient, 'normal');

  // CPU of each part during 10 s of a two-way call (utime+stime from /proc, USER_HZ = 100).
  const pids = stack.pids();
  const others = new Set([...processTree(pids.server), ...processTree(pids.janus), process.pid]);
  const browsers = () => processTree(process.pid).filter((pid) => !others.has(pid));
  // Processes that exit during the window lose their ticks: an underestimate, never an over.
  const sample = () => ({ server: cpuTicks(pids.server), janus: cpuTicks(pids.janus),
    chromium: browsers().reduce((sum, pid) => sum + processTicks(pid), 0), machine: machineTicks() });
  const start = sample();
  const t0 = Date.now();
  await sleep(10000);
  const end = sample();
  const seconds = (Date.now() - t0) / 1000;
  const percent = (key) => ((end[key] - start[key]) / seconds).toFixed(1);
  const machineBusy = (100 * (end.machine.busy - start.machine.busy)
    / (end.machine.total - start.machine.total)).toFixed(0);
  console.log('# CPU per consultation (two-way 640x360@15 VP8 + Opus, % of one core)');
  console.log('| part | CPU % |\n|---|---|');
  console.log(`| veil-server | ${percent('server')} |`);
  console.log(`| Janus | ${percent('janus')} |`);
  console.log(`| 2 Chromium (clinician page + patient stand-in, fake devices) | ${percent('chromium')} |`);
  console.log(`| (whole machine, all users, % of all cores) | ${machineBusy} |`);
  assert.ok(end.janus >= start.janus);
});

test('ending the consultation revokes every credential and destroys the Janus room', async () => {
  const room = stack.roomInfo(consultation);
  const probe = new JanusProbe(stack.janusUrl);
  await probe.connect();
  const handle = await probe.attach('janus.plugin.videoroom');
  assert.equal((await probe.request(handle, { request: 'exists', room: room.room })).data.exists, true);

  app.once('dialog', (dialog) => dialog.accept());
  await app.focus('#end');
  await app.keyboard.press('Enter');
  await app.waitForSelector('#dashboard:not([hidden])');
  await waitFor(async () => !(await probe.request(handle, { request: 'exists', room: room.room })).data.exists,
    { what: 'room destroyed' });
  await probe.destroy();

  const status = await patientStatus(patient);
  assert.equal(status.status, 410);
  assert.equal(status.json.error, 'consultation_ended');
  const publish = await patientPublish(patient);
  assert.equal(publish.status, 410);
  const refresh = await fetch(`${stack.origin}/api/v1/session/refresh`, { method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ refresh_token: patientCreds.refresh_token }) });
  assert.equal(refresh.status, 401);
  // The patient's connections were dropped by the room's destruction.
  await waitFor(() => patient.evaluate(() => ['failed', 'disconnected', 'closed']
    .includes(window.veilPatient.pub.pc.connectionState)), { attempts: 200, what: 'patient kicked' });
});

test('the audit log has the expected events and no patient data', () => {
  const events = stack.auditEvents();
  const names = events.map((e) => e.event);
  for (const expected of ['account.create', 'auth.login', 'consultation.create', 'invite.create',
    'invite.redeem', 'waiting.join', 'waiting.admit', 'media.publish.start',
    'media.subscribe.start', 'mode.request', 'consultation.end', 'token.denied']) {
    assert.ok(names.includes(expected), `audit has ${expected}: ${names.join(',')}`);
  }
  const used = events.find((e) => e.event === 'invite.redeem' && e.reason === 'used');
  assert.equal(used?.outcome, 'denied');
  assert.ok(events.find((e) => e.event === 'token.denied' && e.reason === 'not_admitted'));
  assert.equal(events.find((e) => e.event === 'mode.request').detail, 'mode=face');
  const text = JSON.stringify(events);
  for (const forbidden of [DISPLAY_NAME, 'Zelda', invite, patientCreds.token,
    patientCreds.refresh_token, CLINICIAN.password, '10.77.', '127.0.0.1', 'v=0']) {
    assert.ok(!text.includes(forbidden), `audit log must not contain ${forbidden.slice(0, 12)}…`);
  }
  assert.ok(!/\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/.test(text), 'no IPv4 address in the audit log');
  const log = stack.serverLog();
  for (const forbidden of [invite, patientCreds.token, patientCreds.refresh_token, DISPLAY_NAME]) {
    assert.ok(!log.includes(forbidden), 'server log holds no secrets or names');
  }
});
