// veil-patient relay-only through coturn (deploy/coturn, use-auth-secret): veil-patient joins from
// an invite with `--ice-policy relay`, so both of its webrtcbins (publish and the clinician's
// feed) gather TURN relay candidates only, with the credentials veil-server returned with the
// session token; the Chromium clinician runs relay-only too (`/app?relay=1`). Media must flow both
// ways, and the evidence that it went through the relay must be something that fails without it:
// veil-patient's selected ICE pairs use a relay local candidate, and Janus (Admin API
// handle_info) sees every media handle's peer at a relay candidate.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from './lib/stack.mjs';
import { startDevice } from './lib/device.mjs';
import { openConsultation, admitFirstWaiting, startClinicianStack }
  from './lib/clinician-app.mjs';
import { stillSource, checkInNetns } from './e2e_patient.mjs';
import { janusHandles } from './lib/claims-consultation.mjs';

process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';  // node's own fetches to the self-signed stack

const CLINICIAN = { username: 'dr-turn', password: 'relay only device passphrase' };
let clinicianStack;  // the stack and the clinician's Chromium
let stack;
let app;
let device;

before(async () => {
  checkInNetns();
  clinicianStack = await startClinicianStack({ tls: true, turn: true, clinicians: [CLINICIAN] });
  ({ stack, app } = clinicianStack);
});

after(async () => {
  await device?.stop();
  await clinicianStack?.stop();
});

test('relay-only veil-patient and a relay-only clinician exchange audio and video through coturn',
  async () => {
    const { inviteUrl } = await openConsultation(app, stack.origin, CLINICIAN,
      { query: '?relay=1' });

    device = startDevice(['--invite', inviteUrl, '--ca-file', stack.tlsCertFile,
      '--ice-address', process.env.VEIL_NETNS_ADDR, '--ice-policy', 'relay', '--display', 'none',
      '--source', `file:${stillSource}`, '--fps', '15', '--audio-out', 'discard']);
    await device.waitForLog(/ICE: relay only, through 1 TURN server/, 'relay-only ICE set up');
    await admitFirstWaiting(app);
    await device.waitForLog(/published/, 'published through TURN', 300);

    // veil-patient → clinician, through the relay on both ends.
    await waitFor(async () => {
      const r = await app.evaluate(() => window.veilApp.report());
      return r.subscriber && r.subscriber.framesDecoded > 10 && r.subscriber.audioEnergy > 0;
    }, { attempts: 200, what: 'veil-patient media decoded by the relay-only clinician' });

    // clinician → veil-patient: its camera and microphone decode in veil-patient.
    await app.click('#start-camera');
    await device.waitForLog(/subscribed to the clinician/, 'subscribed', 150);
    await device.waitForLog(/clinician feed: connection connected/, 'clinician feed connected');
    await device.waitForLog(/clinician feed: video decoding [1-9]\d*x[1-9]\d*/, 'clinician video');
    await device.waitForLog(/stats: clinician audio [1-9]\d* buffers decoded/, 'clinician audio',
      150);
    await waitFor(() => {
      const counts = [...device.log().matchAll(/stats: clinician video (\d+) frames decoded/g)]
        .map((match) => Number(match[1]));
      return counts.length >= 2 && counts[0] > 0 && counts[counts.length - 1] > counts[0];
    }, { attempts: 150, intervalMs: 200, what: 'clinician video frames growing in veil-patient' });

    // Relay evidence 1: the pair webrtcbin selected uses a relay candidate on both webrtcbins.
    await device.waitForLog(/send: ICE selected local candidate relay/, 'send pair is relayed');
    await device.waitForLog(/clinician feed: ICE selected local candidate relay/,
      'receive pair is relayed');
    assert.doesNotMatch(device.log(), /ICE selected local candidate (host|srflx|prflx)/);
    const clinician = await app.evaluate(() => window.veilApp.report());
    assert.equal(clinician.subscriber.localCandidateType, 'relay');
    assert.equal(clinician.publisher.localCandidateType, 'relay');

    // Relay evidence 2, from the SFU's side (Janus Admin API handle_info): every media handle's
    // selected pair has a relay remote candidate, i.e. Janus hears every participant (the two
    // veil-patient webrtcbins included) from a coturn relay address. Had veil-patient used host
    // candidates, two of the four handles would show host or prflx.
    const pairs = (await janusHandles(stack)).flatMap((info) =>
      [...JSON.stringify(info).matchAll(/"selected-pair":"([^"]+)"/g)].map((m) => m[1]));
    console.log(`# Janus selected pairs: ${JSON.stringify(pairs)}`);
    assert.ok(pairs.length >= 4, `four media handles with a selected pair: ${pairs}`);
    for (const pair of pairs) assert.match(pair, /<->.*\[relay,udp\]/, pair);

    // The participant's TURN credential was issued with its token and audited; veil-patient
    // never logs its participant id.
    const issued = stack.auditEvents().filter((e) => e.event === 'turn.issue' &&
      !e.actor.startsWith('acct-'));
    assert.equal(issued.length, 1, 'one TURN credential for the patient (the invite redeem)');
    const participant = issued[0].actor;
    assert.doesNotMatch(device.log(), new RegExp(participant), 'veil-patient never logs its id');
  });

test('veil-patient leaves cleanly', async () => {
  const result = await device.stop();
  console.log(device.log());
  assert.equal(result.code, 0, device.log());
  assert.match(device.log(), /left the consultation/);
  device = null;
});
