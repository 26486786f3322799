// Threat-model claim C28 for coturn: what the shipped deploy/coturn configuration logs, and where.
//
// coturn is started through deploy/coturn/run-coturn as deploy/systemd/veil-coturn.service does
// (--state-dir, --log-file), veil-server issues the per-session TURN credentials, and a relay-only
// consultation runs through it: the clinician's app (`/app?relay=1`) and a patient stand-in page
// (relay-only, lib/patient-page.mjs) in Chromium, both directions decoding, then both hang up.
// Chromium runs in the veth's peer namespace, so the clients' address (VEIL_NETNS_ADDR .2) differs
// from coturn's own (.1) and can be looked for in the log.
//
// Measured here (coturn 4.6.1, Debian 12): at the shipped verbosity (no `verbose`) coturn logs
// its start-up only — no session line, so no TURN username and no client address. (docs/
// security-design.md §10 and docs/deployment.md §4 say the session lines carry both; that holds
// only with `verbose`.) Asserted: the log goes to the configured file only (coturn's stdout and
// stderr carry no address or username), the file is readable by its owner only, and it holds no
// client address, no TURN username or session line, and none of the display name, clinician
// account, consultation id, invite code, token, TURN credential or static secret.
// Control: the same checks, run on a log of the same configuration plus `verbose` (one TURN
// allocation by turnutils_uclient from the peer namespace), do find the TURN username.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, mkdirSync, readFileSync, statSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack, repoDir, waitFor, sleep } from './lib/stack.mjs';
import { launchBrowser } from './lib/browser.mjs';
import { patientRedeem, patientStatus, patientPublish, patientSubscribe, patientReport } from
  './lib/patient-page.mjs';
import { checkInNetns } from './e2e_patient.mjs';
import { peerNamespace } from './lib/claims-capture.mjs';
import { clinicianCreatesConsultation, forwardTcp, chromiumInPeerNamespace } from
  './lib/claims-consultation.mjs';

process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';  // node's own fetches to the self-signed stack

const CLINICIAN = { username: 'dr-c28-account', password: 'a clinic passphrase for c28' };
const DISPLAY_NAME = 'Cordelia Twentyeight';
const address = process.env.VEIL_NETNS_ADDR;
let clientAddress;
let work;
let coturn;
let coturnOutput = '';
let coturnExited;
let stack;
let browser;
let forwarder;
let logFile;
let turnSecret;
let issued;  // what veil-server gave the patient: participant id, token, TURN credentials
let app;

// Keeps every RTCPeerConnection a page creates reachable, so the test can hang up.
const recordPeerConnections = () => {
  const Original = window.RTCPeerConnection;
  window.claimsPeerConnections = [];
  window.RTCPeerConnection = function RecordedPeerConnection(...args) {
    const connection = new Original(...args);
    window.claimsPeerConnections.push(connection);
    return connection;
  };
  window.RTCPeerConnection.prototype = Original.prototype;
};

// What in a coturn log identifies a client: session lines, TURN usernames, the client address.
function identifyingLines(log, client) {
  return log.split('\n').filter((line) => /session \d|user <[^>]+>|username=<[^>]+>|remote /
    .test(line) || line.includes(client));
}

before(async () => {
  checkInNetns();
  work = mkdtempSync(join(tmpdir(), 'veil-c28-'));
  turnSecret = randomBytes(24).toString('base64url');
  const secretFile = join(work, 'turn.secret');
  writeFileSync(secretFile, `${turnSecret}\n`, { mode: 0o600 });
  mkdirSync(join(work, 'log'), { mode: 0o700 });  // the operator's LogsDirectory=
  logFile = join(work, 'log', 'turnserver.log');
  coturn = spawn(join(repoDir, 'deploy/coturn/run-coturn'), ['--secret-file', secretFile,
    '--listen-address', address, '--janus-address', address, '--state-dir', join(work, 'state'),
    '--log-file', logFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  coturn.stdout.on('data', (chunk) => { coturnOutput += chunk.toString(); });
  coturn.stderr.on('data', (chunk) => { coturnOutput += chunk.toString(); });
  coturnExited = new Promise((done) => coturn.on('exit', done));
  const origin = `https://${address}:18443`;
  stack = await startStack({ tls: true, clinicians: [CLINICIAN], extraServerArgs: [
    '--turn-secret-file', secretFile, '--turn-url', `turn:${address}:3478?transport=udp`,
    '--public-origin', origin] });
  stack.origin = origin;
  forwarder = forwardTcp(address, 18443, 18443);
  clientAddress = chromiumInPeerNamespace();
  browser = await launchBrowser({ fakeMedia: true, ignoreHTTPSErrors: true });
});

after(async () => {
  await browser?.close();
  await stack?.stop();
  forwarder?.close();
  if (coturn && coturn.exitCode === null) {
    coturn.kill('SIGTERM');
    await Promise.race([coturnExited, sleep(5000)]);
  }
  rmSync(work, { recursive: true, force: true });
});

test('a relay-only consultation through the shipped coturn config carries media both ways',
  async () => {
    await browser.context.addInitScript(recordPeerConnections);
    app = await clinicianCreatesConsultation(browser, stack, CLINICIAN, { relay: true });
    const patient = await browser.context.newPage();
    await patient.goto(`${stack.origin}/join`);
    const redeemed = await patientRedeem(patient,
      { invite: app.inviteCode, displayName: DISPLAY_NAME, relay: true });
    assert.equal(redeemed.status, 200);
    issued = redeemed.json;
    assert.ok(issued.turn, 'TURN credentials come with the session');

    await app.page.click('#waiting li button');
    await waitFor(async () => (await patientStatus(patient)).json.state === 'admitted',
      { what: 'admission' });
    assert.equal((await patientPublish(patient)).status, 201);
    await waitFor(async () => {
      const r = await app.page.evaluate(() => window.veilApp.report());
      return r.subscriber && r.subscriber.framesDecoded > 10;
    }, { attempts: 200, what: 'patient video at the clinician through TURN' });
    await app.page.click('#start-camera');
    await waitFor(async () => (await patientStatus(patient)).json.clinician_publishing,
      { what: 'clinician publishing' });
    assert.equal((await patientSubscribe(patient)).status, 201);
    await waitFor(async () => (await patientReport(patient)).subscriber.framesDecoded > 10,
      { attempts: 200, what: 'clinician video at the patient through TURN' });
    const report = await patientReport(patient);
    assert.equal(report.subscriber.localCandidateType, 'relay', JSON.stringify(report));

    // Hang up (Chromium releases its allocations), give coturn time to log, then stop it the way
    // systemd does so everything it would write is on disk.
    for (const page of [patient, app.page]) {
      await page.evaluate(() => window.claimsPeerConnections.forEach((pc) => pc.close()));
    }
    await sleep(3000);
    coturn.kill('SIGTERM');
    assert.ok(await Promise.race([coturnExited.then(() => true), sleep(10000)]), 'coturn stopped');
  });

test('coturn logs to the configured file only, readable by its owner only', () => {
  const mode = statSync(logFile).mode & 0o777;
  assert.equal(mode & 0o077, 0, `log file mode ${mode.toString(8)}`);
  assert.match(readFileSync(logFile, 'utf8'), /log file opened/);
  assert.deepEqual(identifyingLines(coturnOutput, clientAddress), [],
    `coturn's stdout/stderr: ${coturnOutput}`);
});

test('the log holds no client address, no TURN username or session line, and no name, ' +
  'account, consultation, invite, token, credential or secret', () => {
  const log = readFileSync(logFile, 'utf8');
  assert.deepEqual(identifyingLines(log, clientAddress), [], `coturn log:\n${log}`);
  for (const [what, secret] of Object.entries({ 'display name': DISPLAY_NAME,
    'clinician account': CLINICIAN.username, 'consultation id': issued.consultation,
    'participant id': issued.participant, 'invite code': app.inviteCode, token: issued.token,
    'TURN username': issued.turn.username, 'TURN credential': issued.turn.credential,
    'static secret': turnSecret })) {
    if (secret) assert.ok(!log.includes(secret), `coturn log holds the ${what}`);
  }
  console.log(`coturn log: ${log.split('\n').length} lines, all start-up; none names a client`);
});

test('control: with `verbose` added, the same checks find the TURN username in session lines',
  async () => {
    const dir = join(work, 'verbose');
    mkdirSync(dir);
    const secret = randomBytes(24).toString('base64url');
    const log = join(dir, 'turnserver.log');
    const conf = readFileSync(join(repoDir, 'deploy/coturn/turnserver.conf.in'), 'utf8')
      .replaceAll('@LISTEN_ADDR@', address).replaceAll('@RELAY_ADDR@', address)
      .replaceAll('@PORT@', '3479').replaceAll('@REALM@', 'veil.local')
      .replaceAll('@JANUS_MEDIA_ADDR@', address).replaceAll('@STATIC_AUTH_SECRET@', secret)
      .replaceAll('@MIN_PORT@', '50000').replaceAll('@MAX_PORT@', '50100')
      .replaceAll('@LOG_FILE@', log);
    writeFileSync(join(dir, 'turnserver.conf'), `${conf}\nverbose\n`, { mode: 0o600 });
    const server = spawn('turnserver', ['-c', join(dir, 'turnserver.conf'), '--pidfile',
      join(dir, 'pid')], { stdio: 'ignore' });
    const stopped = new Promise((done) => server.on('exit', done));
    try {
      await waitFor(() => /Total General servers/.test(readFileSync(log, 'utf8')),
        { what: 'verbose coturn started' });
      const username = `${Math.floor(Date.now() / 1000) + 600}:control`;
      const password = createHmac('sha1', secret).update(username).digest('base64');
      // One allocation from the clients' machine (the peer namespace) toward the allowed peer.
      // Its exit status does not matter (nothing answers at the peer); coturn's log does.
      spawnSync('ip', ['netns', 'exec', peerNamespace(), 'timeout', '8', 'turnutils_uclient',
        '-n', '2', '-m', '1', '-c', '-u', username, '-w', password, '-e', address, '-r', '3480',
        '-p', '3479', address], { stdio: 'ignore' });
      await sleep(1000);
      const text = readFileSync(log, 'utf8');
      const found = identifyingLines(text, clientAddress);
      console.log(`verbose coturn: ${found.length} lines name a client, ` +
        `${found.filter((line) => line.includes(clientAddress)).length} with its address:\n` +
        `${found.slice(0, 4).join('\n')}`);
      assert.ok(found.some((line) => line.includes(username)), `username logged:\n${text}`);
      assert.ok(found.some((line) => /session \d/.test(line)), 'session lines logged');
    } finally {
      server.kill('SIGTERM');
      await Promise.race([stopped, sleep(5000)]);
    }
  });
