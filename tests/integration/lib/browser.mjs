// Headless Debian Chromium through playwright-core, launched as shared/transport-notes.md says
// (fresh profile per launch, no network services, fake camera and microphone for publishers).
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function launchBrowser({ fakeMedia = false, ignoreHTTPSErrors = false } = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'veil-chromium-'));
  const args = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--autoplay-policy=no-user-gesture-required'];
  if (fakeMedia) args.push('--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.VEIL_CHROMIUM || '/usr/bin/chromium', headless: true, args,
    // The test server's certificate is self-signed (generated on first run, as in the demo).
    ignoreHTTPSErrors,
  });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

// Runs in the page: publishes the fake camera + microphone + one data channel to veil-server's
// WHIP endpoint exactly as veil-patient does (complete offer, max-bundle), then sends
// {"mode","state","seq"} JSON every 200 ms. Returns what the endpoint answered.
export async function publishFromPage(page, { consultation, token }) {
  return page.evaluate(async ({ consultation, token }) => {
    const media = await navigator.mediaDevices.getUserMedia({
      video: { width: 640, height: 360, frameRate: 15 }, audio: true });
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    for (const track of media.getTracks()) pc.addTransceiver(track, { direction: 'sendonly' });
    const channel = pc.createDataChannel('veil-state');
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((done) => {
      if (pc.iceGatheringState === 'complete') { done(); return; }
      pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete') done();
      });
      setTimeout(done, 3000);
    });
    const response = await fetch(`/api/v1/consultations/${consultation}/whip`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/sdp' },
      body: pc.localDescription.sdp,
    });
    const body = await response.text();
    const result = { status: response.status, location: response.headers.get('Location'),
      contentType: response.headers.get('Content-Type'), body };
    if (response.status !== 201) return result;
    await pc.setRemoteDescription({ type: 'answer', sdp: body });
    let seq = 0;
    channel.onopen = () => {
      window.veilPublisher.timer = setInterval(() => {
        seq += 1;
        channel.send(JSON.stringify({ mode: 'background', state: 'normal', seq }));
      }, 200);
    };
    window.veilPublisher = { pc, channel, location: result.location };
    return result;
  }, { consultation, token });
}
