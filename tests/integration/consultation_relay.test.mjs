// Relay-only consultation through coturn (deploy/coturn, use-auth-secret with the per-session
// credentials veil-server issues): the clinician page runs with iceTransportPolicy 'relay'
// (`/app?relay=1`) and the patient stand-in likewise, so every media path goes through TURN, and
// the only peer the relay may reach is Janus's media address. Both directions must decode.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { startStack, waitFor, sleep, cpuTicks } from './lib/stack.mjs';
import { openConsultation, launchClinicianAndPatient } from './lib/clinician-app.mjs';
import { patientRedeem, patientStatus, patientPublish, patientSubscribe,
  patientReport } from './lib/patient-page.mjs';

process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';  // the stack's self-signed demo certificate

const CLINICIAN = { username: 'dr-relay', password: 'relay only passphrase' };
let stack;
let browsers;

before(async () => {
  stack = await startStack({ tls: true, turn: true, clinicians: [CLINICIAN] });
  browsers = await launchClinicianAndPatient();
});

after(async () => {
  await browsers?.close();
  await stack?.stop();
});

let issuedTurn;  // TURN credentials veil-server issued to the patient in the first test

test('a relay-only consultation through coturn carries audio and video both ways', async () => {
  const { app, patient } = browsers;
  const { invite } = await openConsultation(app, stack.origin, CLINICIAN, { query: '?relay=1' });

  await patient.goto(`${stack.origin}/join`);
  const redeemed = await patientRedeem(patient, { invite, relay: true });
  assert.equal(redeemed.status, 200);
  const turn = redeemed.json.turn;
  issuedTurn = turn;
  assert.ok(turn, 'TURN credentials come with the session token');
  assert.match(turn.username, new RegExp(`^\\d+:${redeemed.json.participant}$`),
    'username is <expiry>:<participant id>, nothing else');
  assert.ok(Number(turn.username.split(':')[0]) - Date.now() / 1000 <= 15 * 60 + 5, '≤ 15 min');

  await app.click('#waiting li button');
  await waitFor(async () => (await patientStatus(patient)).json.state === 'admitted',
    { what: 'admission' });
  assert.equal((await patientPublish(patient)).status, 201);
  await waitFor(async () => {
    const r = await app.evaluate(() => window.veilApp.report());
    return r.subscriber && r.subscriber.framesDecoded > 10 && r.subscriber.audioEnergy > 0;
  }, { attempts: 200, what: 'patient media at the clinician through TURN' });

  await app.click('#start-camera');
  await waitFor(async () => (await patientStatus(patient)).json.clinician_publishing,
    { what: 'clinician publishing through TURN' });
  assert.equal((await patientSubscribe(patient)).status, 201);
  await waitFor(async () => {
    const r = await patientReport(patient);
    return r.subscriber.framesDecoded > 10 && r.subscriber.audioEnergy > 0;
  }, { attempts: 200, what: 'clinician media at the patient through TURN' });

  const clinicianSide = await app.evaluate(() => window.veilApp.report());
  const patientSide = await patientReport(patient);
  for (const [name, report] of Object.entries({
    'clinician subscriber': clinicianSide.subscriber, 'clinician publisher': clinicianSide.publisher,
    'patient publisher': patientSide.publisher, 'patient subscriber': patientSide.subscriber })) {
    assert.equal(report.localCandidateType, 'relay', `${name} uses a TURN relay candidate`);
  }
  // CPU of the relay and the SFU while both directions flow through TURN (% of one core).
  const pids = stack.pids();
  const before = { coturn: cpuTicks(pids.coturn), janus: cpuTicks(pids.janus), at: Date.now() };
  await sleep(5000);
  const seconds = (Date.now() - before.at) / 1000;
  console.log('# CPU, relay-only consultation (% of one core)\n| part | CPU % |\n|---|---|');
  console.log(`| coturn | ${((cpuTicks(pids.coturn) - before.coturn) / seconds).toFixed(1)} |`);
  console.log(`| Janus | ${((cpuTicks(pids.janus) - before.janus) / seconds).toFixed(1)} |`);

  const events = stack.auditEvents();
  assert.ok(events.some((e) => e.event === 'turn.issue' && e.actor === redeemed.json.participant));
  assert.ok(!JSON.stringify(events).includes(turn.credential), 'no TURN credential in the audit log');
});

test('the relay reaches the Janus address and nothing else (403 Forbidden IP)', async () => {
  const janusAddress = process.env.VEIL_NETNS_ADDR;
  const otherAddress = janusAddress.replace(/\.\d+$/, '.5');
  execFileSync('ip', ['addr', 'add', `${otherAddress}/24`, 'dev', process.env.VEIL_NETNS_IF]);
  const peers = [janusAddress, otherAddress, '127.0.0.1'].map((address) =>
    spawn('turnutils_peer', ['-L', address, '-p', '3480'], { stdio: 'ignore' }));
  try {
    await sleep(500);
    const secret = readFileSync(stack.turnSecretFile, 'utf8').trim();
    const relay = (peer, user, password) => spawnSync('turnutils_uclient', ['-c', '-n', '5',
      '-u', user, '-w', password, '-e', peer, '-r', '3480', '-p', '3478', janusAddress],
    { timeout: 15000 }).stdout.toString();
    // The credential veil-server issued (HMAC-SHA1 computed by the server) works toward Janus.
    const toJanus = relay(janusAddress, issuedTurn.username, issuedTurn.credential);
    assert.match(toJanus, /Total lost packets 0 \(0\.0+%\)/, toJanus.slice(-400));
    // Fresh credentials (same scheme, computed here) cannot reach any other address.
    for (const [i, peer] of [otherAddress, '127.0.0.1'].entries()) {
      const user = `${Math.floor(Date.now() / 1000) + 300}:probe${i}`;
      const password = createHmac('sha1', secret).update(user).digest('base64');
      const output = relay(peer, user, password);
      assert.match(output, /403 \(Forbidden IP\)/, `relay to ${peer}: ${output.slice(-400)}`);
      assert.doesNotMatch(output, /Total lost packets 0 /);
    }
    // Wrong password: refused at allocation.
    const refused = relay(janusAddress, `${Math.floor(Date.now() / 1000) + 300}:x`, 'bm90IGl0');
    assert.doesNotMatch(refused, /Total lost packets 0 /);
  } finally {
    for (const peer of peers) peer.kill();
  }
});
