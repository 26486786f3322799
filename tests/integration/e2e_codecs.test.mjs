// H.264 and VP9 publishing (VP8, the default, is covered by e2e_media): for each, veil-patient
// publishes the still through Janus (shipped config) and the clinician viewer in headless Chromium
// decodes frames at the configured size that carry the redaction and keep the patient sharp.
// Runs inside lib/in-netns.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { startStack, waitFor } from './lib/stack.mjs';
import {
  analyse, checkInNetns, grabFrame, offlineRedaction, openBrowser, openViewer,
  receivedVideoCodec, startPatient, stillSource,
} from './e2e_patient.mjs';

const consultation = 'e2e-codecs';
let stack;
let browser;
let work;
let expected;

before(async () => {
  checkInNetns();
  work = mkdtempSync(join(tmpdir(), 'veil-e2e-codecs-'));
  expected = offlineRedaction(stillSource, work);
  stack = await startStack({ demoConsultation: consultation });
  browser = await openBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (stack) await stack.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

for (const [codec, sdpName] of [['h264', 'H264'], ['vp9', 'VP9']]) {
  test(`${codec}: redacted frames decode in the viewer`, { timeout: 120000 }, async () => {
    const patient = startPatient({ serverUrl: stack.serverUrl, consultation,
      token: stack.mintToken(consultation, 'patient'), source: `file:${stillSource}`,
      args: ['--codec', codec, '--width', '640', '--height', '360', '--fps', '30'] });
    let page = null;
    let passed = false;
    try {
      await patient.waitForLog(/veil-patient: published/, 'publish');
      await patient.waitForLog(/connection-state connected/, 'ICE/DTLS to Janus');
      page = await openViewer(browser, `${stack.serverUrl}/view/${consultation}#token=${
        stack.mintToken(consultation, 'viewer')}`);
      await waitFor(() => page.evaluate(() => window.e2e.frames >= 45 &&
        window.veilViewer.last && window.veilViewer.last.state === 'normal'),
      { attempts: 100, intervalMs: 200, what: `45 ${codec} frames in a normal state` });
      // The browser really decodes this codec.
      assert.equal(await receivedVideoCodec(page), `video/${sdpName}`);
      const frame = await grabFrame(page, work, codec);
      assert.deepEqual([frame.width, frame.height], [640, 360]);
      const metrics = analyse({ source: stillSource, expected, raw: frame });
      console.log(`e2e_codecs: ${codec}: ${JSON.stringify(metrics)}`);
      assert.equal(metrics.blocks_with_surviving_detail, 0, `${codec}: background detail survives`);
      assert.ok(metrics.protected_energy_ratio < 0.1, `${codec}: background keeps energy`);
      assert.ok(metrics.patient_energy_ratio > 0.4, `${codec}: the patient region is not sharp`);
      assert.ok(metrics.psnr_vs_expected > 26, `${codec}: not the redactor's picture`);
      passed = true;
    } finally {
      if (page) await page.close();
      const stopped = await patient.stop();
      if (!passed) {
        console.error(`--- veil-patient log ---\n${patient.log()}`);
        const janusWarnings = stack.janusLog().split('\n').filter((line) => /WARN|ERR/.test(line));
        console.error(`--- Janus warnings (last 10) ---\n${janusWarnings.slice(-10).join('\n')}`);
      }
      assert.equal(stopped.code, 0, `veil-patient exit ${JSON.stringify(stopped)}`);
    }
  });
}
