// Threat-model claim C24: no Veil component contacts a service outside the deployment at run time.
//
// A whole consultation: Janus (shipped config), coturn (shipped config; the clinician's media is
// relay-only through it), veil-server with TLS and the real veil-patient joining from the invite
// run in this test's namespace; the clinician's app runs in Chromium in the veth's PEER namespace
// (the clinician's machine, reaching the server through a plain TCP forwarder on the veth address
// that stands in for the hospital's reverse proxy). Meanwhile every frame that leaves the test
// namespace through its only non-loopback link is captured on the far end of the veth
// (lib/claims-capture.mjs), from before Janus starts until after everything has stopped.
// Deployment components reach each other on their own addresses (127.0.0.1 and the veth address,
// both local, so on `lo`); anything else — the default route, multicast, the resolver named in
// /etc/resolv.conf — has to cross the veth. The assertion: nothing crossed it but traffic to the
// clinician's address and the kernel's own IPv6 link upkeep. (This test found veil-patient's ICE
// agent — libnice, UPnP-IGD on by default — multicasting SSDP searches for the home router to
// 239.255.255.250:1900; veil-patient now turns UPnP off and a test below keeps it so.)
//
// Scope: every process of the deployment and the patient device. The clinician's Chromium is out
// of scope on purpose (it is the clinician's browser, not a Veil component; in this namespace it
// looked up update.googleapis.com, accounts.google.com and content-autofill.googleapis.com despite
// the --disable-* flags). DNS: a lookup goes to the nameserver in /etc/resolv.conf, which must be a
// non-loopback address (checked first), so it would cross the veth and count. Not covered: IPv6
// destinations (the namespace has no IPv6 route, so such a connect fails locally before any packet
// exists) and contacts a component would only make in other configurations or after longer runs.
// Frames are attributed to processes by their source port where the socket was still open at a
// /proc snapshot (every 500 ms). Control (last test): the same capture does catch veil-patient
// pointed at an outside address and at a name that needs DNS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack } from './lib/stack.mjs';
import { launchBrowser } from './lib/browser.mjs';
import { stillSource, checkInNetns } from './e2e_patient.mjs';
import { startCapture, outsideContacts, watchSocketOwners } from './lib/claims-capture.mjs';
import { startDevice, clinicianCreatesConsultation, admitAndTalk, forwardTcp,
  chromiumInPeerNamespace } from './lib/claims-consultation.mjs';

process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';  // node's own fetches to the self-signed stack

const CLINICIAN = { username: 'dr-c24', password: 'a clinic passphrase for c24' };
let capture;
let stack;
let browser;
let device;
let work;
let frames;
let owners = {};
let forwarder;
const address = process.env.VEIL_NETNS_ADDR;
let clinicianAddress;  // the peer end of the veth (lib/in-netns)

// One line per distinct sender, destination and question, with how often it was seen.
function describe(list) {
  const counts = new Map();
  for (const f of list) {
    const key = JSON.stringify({ from: owners[f.sport] || 'unknown', kind: f.kind, proto: f.proto,
      dst: f.dst, dport: f.dport, dns: f.dns, text: f.text });
    counts.set(key, (counts.get(key) || 0) + 1);
  }
  return [...counts].map(([key, n]) => `${n} x ${key}`).join('\n');
}

before(async () => {
  checkInNetns();
  work = mkdtempSync(join(tmpdir(), 'veil-c24-'));
});

after(async () => {
  await device?.stop();
  await browser?.close();
  await stack?.stop();
  await capture?.stop().catch(() => {});
  forwarder?.close();
  rmSync(work, { recursive: true, force: true });
});

test('DNS would leave through the veth: every resolver in /etc/resolv.conf is non-loopback',
  () => {
    const servers = readFileSync('/etc/resolv.conf', 'utf8').split('\n')
      .map((line) => line.trim().match(/^nameserver\s+(\S+)/)).filter(Boolean).map((m) => m[1]);
    for (const server of servers) {
      assert.ok(!/^(127\.|::1$)/.test(server), `resolver ${server} is on loopback: DNS would not` +
        ' cross the veth and this test would not see lookups');
    }
  });

test('a full consultation runs while every frame leaving the namespace is captured', async () => {
  capture = await startCapture();
  const watcher = watchSocketOwners();
  stack = await startStack({ tls: true, turn: true, clinicians: [CLINICIAN],
    extraServerArgs: ['--public-origin', `https://${address}:18443`] });
  forwarder = forwardTcp(address, 18443, 18443);
  clinicianAddress = chromiumInPeerNamespace();
  browser = await launchBrowser({ fakeMedia: true, ignoreHTTPSErrors: true });
  const app = await clinicianCreatesConsultation(browser, stack, CLINICIAN,
    { relay: true, origin: `https://${address}:18443` });
  // veil-patient trusts the demo certificate, which names 127.0.0.1, not the forwarder's address.
  const inviteFile = join(work, 'invite');
  writeFileSync(inviteFile, `${app.inviteUrl.replace(address, '127.0.0.1')}\n`, { mode: 0o600 });
  device = startDevice(['--invite-file', inviteFile, '--ca-file', stack.tlsCertFile,
    '--ice-address', process.env.VEIL_NETNS_ADDR, '--source', `file:${stillSource}`,
    '--fps', '15', '--audio-out', 'discard', '--display-name', 'C24 Patient']);
  await admitAndTalk(app.page, device);
  // The clinician's media really went through coturn (relay-only page).
  const report = await app.page.evaluate(() => window.veilApp.report());
  assert.equal(report.subscriber.localCandidateType, 'relay', JSON.stringify(report));

  assert.equal((await device.stop()).code, 0, device.log());
  device = null;
  await browser.close();
  browser = null;
  await stack.stop();
  stack = null;
  frames = await capture.stop();
  capture = null;
  watcher.stop();
  owners = watcher.owners();
});

const toClinician = (f) => f.dst === clinicianAddress && (f.kind === 'ipv4' || f.kind === 'arp');
// libnice's UPnP-IGD (on by default) multicasts SSDP M-SEARCH for the home router's
// WANIPConnection/WANPPPConnection service, and the kernel then reports its multicast membership
// (IGMP). veil-patient turns it off (pinIceAddress); this is the check that it stays off.
const isSsdp = (f) => f.kind === 'ipv4' && f.dst === '239.255.255.250' && f.dport === 1900;
const isIgmp = (f) => f.kind === 'ipv4' && f.proto === 2;

test('nothing left the namespace but traffic to the clinician and the kernel\'s IPv6 link upkeep',
  () => {
    assert.ok(frames, 'the consultation ran');
    assert.ok(frames.some(toClinician), 'the capture saw the deployment answering the clinician');
    const contacts = outsideContacts(frames).filter((f) => !toClinician(f));
    assert.deepEqual(contacts, [], `frames to outside the deployment:\n${describe(contacts)}`);
    console.log(`captured ${frames.length} frames on the veth; ` +
      `${frames.filter(toClinician).length} to the clinician, ` +
      `${frames.filter((f) => f.kind === 'ipv6').length} kernel IPv6 upkeep`);
  });

test('veil-patient sends no UPnP (SSDP) search to the local network', () => {
  assert.ok(frames, 'the consultation ran');
  const upnp = outsideContacts(frames).filter((f) => isSsdp(f) || isIgmp(f));
  assert.deepEqual(upnp, [], `UPnP discovery left the namespace:\n${describe(upnp)}`);
});

test('control: the capture catches veil-patient contacting an outside address and resolving a name',
  async () => {
    capture = await startCapture();
    for (const server of ['https://192.0.2.10:443', 'https://veil-c24-control.invalid']) {
      const stray = startDevice(['--server', server, '--consultation', 'c24', '--token', 'x',
        '--ice-address', process.env.VEIL_NETNS_ADDR, '--source', 'test', '--no-audio',
        '--audio-out', 'none']);
      const result = await stray.exited;
      assert.notEqual(result.code, 0, stray.log());
    }
    const caught = outsideContacts(await capture.stop());
    capture = null;
    assert.ok(caught.some((f) => f.kind === 'ipv4' && f.dst === '192.0.2.10' && f.dport === 443),
      `a TCP connection attempt to 192.0.2.10:443 was captured:\n${describe(caught)}`);
    assert.ok(caught.some((f) => f.kind === 'ipv4' && f.dport === 53),
      `a DNS query was captured:\n${describe(caught)}`);
  });
