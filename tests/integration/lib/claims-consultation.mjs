// Shared steps for the claims_* tests (docs/threat-model.md claims checked end to end): a real
// veil-patient process joining from an invite, the clinician's side in a Chromium page of the real
// web app, and the Janus Admin API read with the stack's admin secret.
//
//   const app = await clinicianCreatesConsultation(browser, stack, CLINICIAN);  // {page, inviteUrl}
//   const device = startDevice(['--invite-file', f, ...]);
//   await admitAndTalk(app.page, device);
//   const handles = await janusHandles(stack);  // handle_info of every live handle
import { createServer, connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './stack.mjs';
import { openConsultation, admitFirstWaiting } from './clinician-app.mjs';

// veil-patient (or a `command` wrapping it) as the claims tests start it.
export { startDevice } from './device.mjs';

const here = dirname(fileURLToPath(import.meta.url));

// Signs the clinician in to /app (optionally relay-only ICE) and creates a consultation.
export async function clinicianCreatesConsultation(browser, stack, clinician,
  { relay = false, origin = stack.origin } = {}) {
  const page = await browser.context.newPage();
  const { inviteUrl, invite } = await openConsultation(page, origin, clinician,
    { query: relay ? '?relay=1' : '' });
  return { page, inviteUrl, inviteCode: invite };
}

// The clinician admits the waiting device; both sides then send and decode media.
export async function admitAndTalk(page, device) {
  await device.waitForLog(/waiting: the clinician has not admitted you yet/, 'waiting');
  await admitFirstWaiting(page);
  await device.waitForLog(/published/, 'published', 300);
  await waitFor(async () => {
    const r = await page.evaluate(() => window.veilApp.report());
    return r.subscriber && r.subscriber.framesDecoded > 10;
  }, { attempts: 150, what: 'veil-patient video decoded on the clinician page' });
  await page.click('#start-camera');
  await device.waitForLog(/subscribed to the clinician/, 'veil-patient subscribed', 150);
  await device.waitForLog(/stats: clinician audio [1-9]\d* buffers decoded/,
    'clinician audio decoded in veil-patient', 150);
}

// One Janus Admin API request (the admin secret is the stack's fresh admin key).
export async function janusAdmin(stack, request) {
  const reply = await fetch(stack.janusAdminUrl, { method: 'POST', body: JSON.stringify({
    ...request, admin_secret: stack.adminKey, transaction: `claims-${Date.now()}` }) });
  const json = await reply.json();
  if (json.janus !== 'success') throw new Error(`Janus admin ${request.janus}: ${JSON.stringify(json)}`);
  return json;
}

// handle_info of every handle of every live Janus session.
export async function janusHandles(stack) {
  const infos = [];
  const { sessions } = await janusAdmin(stack, { janus: 'list_sessions' });
  for (const session of sessions) {
    const { handles } = await janusAdmin(stack, { janus: 'list_handles', session_id: session });
    for (const handle of handles) {
      const { info } = await janusAdmin(stack,
        { janus: 'handle_info', session_id: session, handle_id: handle });
      infos.push(info);
    }
  }
  return infos;
}

// A plain TCP forwarder (what a hospital's TCP load balancer does): connections to
// `address:port` are piped to 127.0.0.1:`targetPort`. `connections()` counts them.
export function forwardTcp(address, port, targetPort) {
  let count = 0;
  const server = createServer((client) => {
    count += 1;
    const upstream = connect(targetPort, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  }).listen(port, address);
  return { connections: () => count, close: () => server.close() };
}

// Makes lib/browser.mjs start Chromium in the veth's peer namespace (the clinician's or patient's
// own machine, address VEIL_NETNS_ADDR with .2): its traffic to the deployment then crosses the
// veth from a different address, and its own background traffic stays out of the test namespace.
export function chromiumInPeerNamespace() {
  process.env.VEIL_CHROMIUM = join(here, 'claims-chromium-in-peer.sh');
  return process.env.VEIL_NETNS_ADDR.replace(/\.1$/, '.2');
}
