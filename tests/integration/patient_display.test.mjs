// veil-patient's windows under a real X server (Xvfb, inside this test's network namespace): in a
// consultation with a Chromium clinician, `--display auto` with DISPLAY set opens one window with
// the clinician's decoded video and one with the preview of exactly what is sent. Both must exist
// with their titles (xwininfo) and show real pictures (xwd); the preview must be the redacted
// picture, never the raw source: it is close to the frame the clinician's page decodes and far
// from the source still (whose background the redaction replaced).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor, sleep } from './lib/stack.mjs';
import { startDevice } from './lib/device.mjs';
import { openConsultation, admitFirstWaiting, startClinicianStack }
  from './lib/clinician-app.mjs';
import { stillSource, checkInNetns, grabFrame } from './e2e_patient.mjs';

process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';  // node's own fetches to the self-signed stack

const CLINICIAN = { username: 'dr-screen', password: 'two windows passphrase' };
const PREVIEW_TITLE = 'Veil - what the clinician sees of you';
const CLINICIAN_TITLE = 'Veil - clinician';
let xvfb;
let display;
let clinicianStack;  // the stack and the clinician's Chromium
let stack;
let app;
let device;
let work;

// Xvfb picks a free display number and writes it to fd 3.
async function startXvfb() {
  const child = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1280x800x24', '-nolisten',
    'tcp'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
  let number = '';
  child.stdio[3].on('data', (chunk) => { number += chunk.toString(); });
  await waitFor(() => /^\d+\n/.test(number), { attempts: 50, intervalMs: 100, what: 'Xvfb' });
  return { child, display: `:${number.trim()}` };
}

// "0x...": the id of the top-level window whose name contains `title`, or null.
function windowId(title) {
  const tree = execFileSync('xwininfo', ['-root', '-tree', '-display', display]).toString();
  for (const line of tree.split('\n')) {
    const match = line.match(/^\s+(0x[0-9a-f]+) "([^"]*)"/);
    if (match && match[2].includes(title)) return match[1];
  }
  return null;
}

// Pixel statistics of one window, from xwd's dump (parsed with numpy): size, luma standard
// deviation, the mean absolute difference against `compareWith` (an image file) resized, and
// against `received` (raw RGBA frame grabbed from the clinician's page).
function windowPixels(id, compareWith, received) {
  const dump = join(work, `${id}.xwd`);
  execFileSync('xwd', ['-silent', '-display', display, '-id', id, '-out', dump]);
  const script = `
import json, sys
import numpy as np, cv2
data = open(sys.argv[1], 'rb').read()
h = np.frombuffer(data[:100], dtype='>u4')
header_size, width, height, byte_order, bpp, bpl, ncolors = (int(h[0]), int(h[4]), int(h[5]),
    int(h[7]), int(h[11]), int(h[12]), int(h[19]))
assert bpp == 32, bpp
start = header_size + 12 * ncolors
pixels = np.frombuffer(data[start:start + bpl * height], dtype='<u4' if byte_order == 0 else '>u4')
pixels = pixels.reshape(height, bpl // 4)[:, :width]
masks = [int(m) for m in h[14:17]]
channels = [((pixels & m) >> (m & -m).bit_length() - 1).astype(np.float32) for m in masks]
bgr = np.dstack(channels[::-1]).astype(np.uint8)
out = {'width': width, 'height': height, 'std': float(bgr.mean(axis=2).std())}
if len(sys.argv) > 2:
    ref = cv2.imread(sys.argv[2], cv2.IMREAD_COLOR)
    ref = cv2.resize(ref, (width, height), interpolation=cv2.INTER_AREA)
    out['mad'] = float(np.abs(ref.astype(np.float32) - bgr.astype(np.float32)).mean())
    out['madSelf'] = float(np.abs(cv2.GaussianBlur(ref, (0, 0), 0.8).astype(np.float32)
        - ref.astype(np.float32)).mean())
if len(sys.argv) > 3:
    w, h2 = int(sys.argv[4]), int(sys.argv[5])
    rgba = np.fromfile(sys.argv[3], dtype=np.uint8).reshape(h2, w, 4)
    got = cv2.resize(cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGR), (width, height),
                     interpolation=cv2.INTER_AREA)
    out['madReceived'] = float(np.abs(got.astype(np.float32) - bgr.astype(np.float32)).mean())
print(json.dumps(out))
`;
  const args = ['-c', script, dump];
  if (compareWith) args.push(compareWith);
  if (received) args.push(received.path, String(received.width), String(received.height));
  return JSON.parse(execFileSync('/usr/bin/python3', args).toString());
}

before(async () => {
  checkInNetns();
  work = mkdtempSync(join(tmpdir(), 'veil-display-'));
  ({ child: xvfb, display } = await startXvfb());
  clinicianStack = await startClinicianStack({ tls: true, clinicians: [CLINICIAN] });
  ({ stack, app } = clinicianStack);
});

after(async () => {
  await device?.stop();
  await clinicianStack?.stop();
  xvfb?.kill('SIGTERM');
  if (work) rmSync(work, { recursive: true, force: true });
});

test('veil-patient shows the clinician and exactly what it sends in two titled windows',
  async () => {
    const { inviteUrl } = await openConsultation(app, stack.origin, CLINICIAN);

    device = startDevice(['--invite', inviteUrl, '--ca-file', stack.tlsCertFile,
      '--ice-address', process.env.VEIL_NETNS_ADDR, '--source', `file:${stillSource}`,
      '--fps', '15', '--width', '640', '--height', '360', '--audio-out', 'discard'],
    { env: { ...process.env, DISPLAY: display } });
    const waitLog = (pattern, what) => device.waitForLog(pattern, what, 200);

    await admitFirstWaiting(app);
    await waitLog(/preview window open/, 'preview window');
    await waitLog(/published/, 'published');
    // Without a window manager both windows open at +0+0 and the later one covers the earlier:
    // read the preview before the clinician's window exists.
    const previewId = await waitFor(() => windowId(PREVIEW_TITLE),
      { attempts: 100, intervalMs: 200, what: 'the preview window in xwininfo -root -tree' });
    await sleep(1000);  // a few frames drawn
    // What the clinician's page decodes of veil-patient's video right now (a still source, so
    // every sent frame is the same picture up to codec loss).
    await waitFor(() => app.evaluate(() => document.getElementById('patient-video').videoWidth > 0),
      { attempts: 100, intervalMs: 200, what: 'patient video on the clinician page' });
    const received = await grabFrame(app, work, 'received', 'patient-video');
    const preview = windowPixels(previewId, stillSource, received);

    await app.click('#start-camera');
    await waitLog(/clinician feed: video decoding [1-9]\d*x[1-9]\d*/, 'clinician video decoding');
    const clinicianId = await waitFor(() => windowId(CLINICIAN_TITLE),
      { attempts: 100, intervalMs: 200, what: 'the clinician window in xwininfo -root -tree' });
    await sleep(1000);
    const clinician = windowPixels(clinicianId);
    assert.equal(windowId(PREVIEW_TITLE), previewId, 'both windows open at once');
    console.log(`# windows: preview ${JSON.stringify(preview)}, clinician ${JSON.stringify(clinician)}`);
    assert.deepEqual([preview.width, preview.height], [640, 360], 'preview at the sent size');
    assert.ok(clinician.width > 0 && clinician.height > 0);
    // Not blank: a real picture has luma spread (a black or single-colour window has ~0).
    assert.ok(preview.std > 10, `preview shows a picture (std ${preview.std})`);
    assert.ok(clinician.std > 5, `clinician window shows a picture (std ${clinician.std})`);
    // Redacted, not raw: far from the source still (the hidden background), while a raw
    // picture would be within a slight blur of it.
    assert.ok(preview.mad > 5 * Math.max(preview.madSelf, 1),
      `preview differs from the raw source (mad ${preview.mad}, blur ${preview.madSelf})`);
    // ... and it is what the clinician receives: far closer to the received frame than to the
    // raw source (the difference left is the codec's).
    assert.ok(preview.madReceived * 4 < preview.mad,
      `preview matches the clinician's received frame (mad ${preview.madReceived} vs raw ${preview.mad})`);

    const { code } = await device.stop();
    assert.equal(code, 0, device.log());
    assert.match(device.log(), /left the consultation/);
    // The windows close with the device.
    assert.equal(windowId(PREVIEW_TITLE), null);
    assert.equal(windowId(CLINICIAN_TITLE), null);
    device = null;
  });
