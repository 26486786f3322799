// The README's first command, `scripts/demo`, as a new user runs it (setup skipped: CI's test
// command has just done it): it must print the clinician URL and a generated password, the
// printed credentials must sign in to the clinician app, the waiting veil-patient must be
// admitted and its redacted video must decode in Chromium; Ctrl-C must stop everything and
// remove the namespace and veth it created. The demo's namespace is nested in this test's own
// (lib/in-netns), under its own name, so a demo running on the host is not disturbed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { waitFor, sleep } from './lib/stack.mjs';
import { launchBrowser } from './lib/browser.mjs';
import { signIn } from './lib/clinician-app.mjs';
import { checkInNetns } from './e2e_patient.mjs';

const DEMO_NAME = `vdt${process.pid % 100000}`;  // namespace and veth names (≤ 12 characters)
let demo;
let output = '';
let browser;
let app;

function netnsNames() {
  return execFileSync('ip', ['netns', 'list']).toString().split('\n')
    .map((line) => line.split(' ')[0]).filter(Boolean);
}

function printed(label) {
  const match = output.match(new RegExp(`${label}:\\s+(\\S+)`));
  return match ? match[1] : null;
}

before(async () => {
  checkInNetns();
  demo = spawn(join(process.env.VEIL_REPO, 'scripts', 'demo'), [], {
    env: { ...process.env, VEIL_DEMO_SKIP_SETUP: '1', VEIL_DEMO_NAME: DEMO_NAME },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  demo.stdout.on('data', (chunk) => { output += chunk.toString(); });
  demo.stderr.on('data', (chunk) => { output += chunk.toString(); });
  demo.exited = new Promise((done) => demo.on('exit', (code, signal) => done({ code, signal })));
});

after(async () => {
  await browser?.close();
  if (demo && demo.exitCode === null && demo.signalCode === null) {
    demo.kill('SIGINT');
    await Promise.race([demo.exited, sleep(20000)]);
    if (demo.exitCode === null && demo.signalCode === null) demo.kill('SIGKILL');
  }
});

test('scripts/demo prints the clinician URL and generated demo credentials', async () => {
  try {
    await waitFor(() => /Press Ctrl-C to stop everything/.test(output) || demo.exitCode !== null,
      { attempts: 600, intervalMs: 200, what: 'the demo ready message' });
  } catch (error) {
    error.message += `\n--- demo output ---\n${output}`;
    throw error;
  }
  assert.equal(demo.exitCode, null, `the demo exited early:\n${output}`);
  assert.equal(printed('Clinician app'), 'https://10.78.0.2:8443/app', output);
  assert.equal(printed('User name'), 'demo-clinician', output);
  assert.match(printed('Password') ?? '', /^[A-Za-z0-9_-]{16,}$/, output);
  assert.ok(netnsNames().includes(DEMO_NAME), 'the demo namespace exists while it runs');
});

test('the printed credentials sign in; the waiting patient is admitted and its video decodes',
  async () => {
    browser = await launchBrowser({ fakeMedia: true, ignoreHTTPSErrors: true });
    app = await browser.context.newPage();
    await signIn(app, 'https://10.78.0.2:8443',
      { username: printed('User name'), password: printed('Password') });
    await app.waitForSelector('#consultations li button');
    await app.click('#consultations li button');  // "Open" the demo's consultation
    await app.waitForSelector('#waiting li', { timeout: 30000 });
    assert.match(await app.textContent('#waiting li'), /Demo patient/);
    await app.click('#waiting li button');  // "Admit" comes first
    await waitFor(async () => {
      const report = await app.evaluate(() => window.veilApp.report());
      return report.subscriber && report.subscriber.framesDecoded > 10;
    }, { attempts: 300, what: 'the demo patient\'s video decoded on the clinician page' });
    await waitFor(async () => (await app.textContent('#mode')) === 'Background hidden',
      { what: 'the device\'s mode shown to the clinician' });
  });

test('Ctrl-C stops the demo and removes its namespace and veth', async () => {
  demo.kill('SIGINT');
  const result = await Promise.race([demo.exited, sleep(30000).then(() => null)]);
  assert.ok(result, `the demo did not stop within 30 s:\n${output}`);
  assert.match(output, /demo: stopped/);
  assert.ok(!netnsNames().includes(DEMO_NAME), 'the demo namespace is gone');
  const links = execFileSync('ip', ['-o', 'link', 'show']).toString();
  assert.ok(!links.includes(`${DEMO_NAME}0`), 'the demo veth is gone');
});
