// Helpers for the media end-to-end tests: run veil-patient, open the clinician viewer in headless
// Chromium, read pixels, data-channel state and audio level from it, decode an SFU tap.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

import { repoDir, sleep, waitFor } from './lib/stack.mjs';
import { patientBin, startDevice } from './lib/device.mjs';

export { patientBin };
const buildDir = process.env.VEIL_BUILD_DIR || join(repoDir, 'build');
export const blurBin = process.env.VEIL_BLUR_BIN || join(buildDir, 'cli/veil-blur');
// A still with a person close to the camera and a detailed background (Debian's python3-imageio
// sample, 640x360 copy in tests/data): every received frame should match one offline redaction.
export const stillSource = join(repoDir, 'tests/data/reference/frames-360p/astronaut.png');

export function checkInNetns() {
  if (!process.env.VEIL_NETNS_IF || !process.env.VEIL_NETNS_ADDR) {
    throw new Error('run through tests/integration/lib/in-netns (Janus does no ICE on loopback)');
  }
  // Hard-fail unless we really are in the test's own namespace.
  execFileSync(join(repoDir, 'tests/integration/lib/netns-guard'), { stdio: 'inherit' });
}

// veil-patient with a demo token (no invite): see lib/device.mjs for the handle.
export function startPatient({ serverUrl, consultation, token, source, args = [] }) {
  return startDevice(['--server', serverUrl, '--consultation', consultation, '--token', token,
    '--ice-address', process.env.VEIL_NETNS_ADDR, '--source', source, ...args],
  { stopMs: 10000 });
}

// veil-blur's redaction of the same still: what the engine produces offline.
export function offlineRedaction(source, workDir) {
  const expected = join(workDir, 'expected.png');
  execFileSync(blurBin, ['--mode', 'background', '--quiet', source, expected]);
  return expected;
}

// One frame (`frame` path or `raw` grab) → metrics; `frames` (paths) → a list of metrics.
export function analyse({ source, expected, frame, frames, raw, leakControl }) {
  const args = [join(repoDir, 'tests/integration/e2e_pixels.py'), '--source', source,
    '--expected', expected];
  if (leakControl) args.push('--leak-control');
  else if (raw) args.push('--frame-raw', raw.path, '--width', String(raw.width),
    '--height', String(raw.height));
  else for (const path of frames || [frame]) args.push('--frame', path);
  return JSON.parse(execFileSync('/usr/bin/python3', args).toString());
}

export async function openBrowser() {
  const profile = mkdtempSync(join(tmpdir(), 'veil-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--autoplay-policy=no-user-gesture-required'],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

// Page-side probes, installed once the viewer is live. They only read what the page renders.
const pageProbes = () => {
  const video = document.getElementById('video');
  const probe = {
    frames: 0,
    modes: [],  // [frameCount, mode] each time the data channel's mode changes
    nonNormal: 0,
    thumbnail(size = [32, 18]) {
      const canvas = new OffscreenCanvas(size[0], size[1]);
      const context = canvas.getContext('2d', { willReadFrequently: true });
      context.drawImage(video, 0, 0, size[0], size[1]);
      const rgba = context.getImageData(0, 0, size[0], size[1]).data;
      const luma = [];
      for (let i = 0; i < rgba.length; i += 4) luma.push((rgba[i] + rgba[i + 1] + rgba[i + 2]) / 3);
      return luma;
    },
    // Counts presented frames until the picture differs from `reference` by more than
    // `threshold` (mean absolute luma difference of the thumbnail), at most `limit` frames.
    framesUntilChange(reference, threshold, limit) {
      return new Promise((resolve) => {
        let counted = 0;
        const check = () => {
          counted += 1;
          const now = probe.thumbnail();
          let sum = 0;
          for (let i = 0; i < now.length; i += 1) sum += Math.abs(now[i] - reference[i]);
          if (sum / now.length > threshold || counted >= limit) {
            resolve({ frames: counted, difference: sum / now.length });
          } else {
            video.requestVideoFrameCallback(check);
          }
        };
        video.requestVideoFrameCallback(check);
      });
    },
    async audioLevel(durationMs = 1500) {
      const track = video.srcObject.getAudioTracks()[0];
      if (!track) return { rms: 0, reason: 'no audio track' };
      const audio = new AudioContext();
      await audio.resume();
      const source = audio.createMediaStreamSource(new MediaStream([track]));
      const analyser = audio.createAnalyser();
      analyser.fftSize = 2048;
      source.connect(analyser);
      const samples = new Float32Array(analyser.fftSize);
      let best = 0;
      const end = performance.now() + durationMs;
      while (performance.now() < end) {
        await new Promise((done) => setTimeout(done, 50));
        analyser.getFloatTimeDomainData(samples);
        let sum = 0;
        for (const s of samples) sum += s * s;
        best = Math.max(best, Math.sqrt(sum / samples.length));
      }
      await audio.close();
      return { rms: best, state: track.readyState };
    },
  };
  const tick = () => { probe.frames += 1; video.requestVideoFrameCallback(tick); };
  video.requestVideoFrameCallback(tick);
  let lastMode = null;
  setInterval(() => {
    const last = window.veilViewer && window.veilViewer.last;
    if (!last) return;
    if (last.mode !== lastMode) { lastMode = last.mode; probe.modes.push([probe.frames, last.mode]); }
    if (last.state !== 'normal') probe.nonNormal += 1;
  }, 10);
  window.e2e = probe;
};

// Test instrumentation: keeps the page's RTCPeerConnections reachable so a test can read their
// stats (the viewer keeps its own in a closure).
const recordPeerConnections = () => {
  const Original = window.RTCPeerConnection;
  window.e2ePeerConnections = [];
  window.RTCPeerConnection = function RecordedPeerConnection(...args) {
    const connection = new Original(...args);
    window.e2ePeerConnections.push(connection);
    return connection;
  };
  window.RTCPeerConnection.prototype = Original.prototype;
};

// The mime type of the video the viewer is decoding (e.g. "video/H264").
export function receivedVideoCodec(page) {
  return page.evaluate(async () => {
    for (const connection of window.e2ePeerConnections || []) {
      const stats = await connection.getStats();
      for (const report of stats.values()) {
        if (report.type === 'inbound-rtp' && report.kind === 'video' && report.codecId) {
          return stats.get(report.codecId).mimeType;
        }
      }
    }
    return null;
  });
}

export async function openViewer(browser, url) {
  const page = await browser.context.newPage();
  await page.addInitScript(recordPeerConnections);
  await page.goto(url);
  await waitFor(() => page.evaluate(() => window.veilViewer && window.veilViewer.phase === 'live'),
    { attempts: 150, intervalMs: 200, what: 'viewer live' });
  await waitFor(() => page.evaluate(() => {
    const video = document.getElementById('video');
    return video.videoWidth > 0 && video.readyState >= 2;
  }), { attempts: 150, intervalMs: 200, what: 'first decoded frame in the viewer' });
  await page.evaluate(pageProbes);
  return page;
}

// Saves the frame the page's <video id=`videoId`> shows now as raw RGBA and returns where.
export async function grabFrame(page, workDir, name, videoId = 'video') {
  const frame = await page.evaluate((id) => {
    const video = document.getElementById(id);
    const canvas = new OffscreenCanvas(video.videoWidth, video.videoHeight);
    const context = canvas.getContext('2d', { willReadFrequently: true });
    context.drawImage(video, 0, 0);
    const rgba = context.getImageData(0, 0, canvas.width, canvas.height).data;
    let binary = '';
    for (let i = 0; i < rgba.length; i += 0x8000) {
      binary += String.fromCharCode.apply(null, rgba.subarray(i, i + 0x8000));
    }
    return { width: canvas.width, height: canvas.height, base64: btoa(binary) };
  }, videoId);
  const path = join(workDir, `${name}.rgba`);
  writeFileSync(path, Buffer.from(frame.base64, 'base64'));
  return { path, width: frame.width, height: frame.height };
}

// Receives a keyed rtp_forward of the publisher's VP8 on 127.0.0.1:`port` and writes each decoded
// frame as PNG into a fresh directory. Returns a handle; stop() ends the receiver.
export function startTapDecoder(port, workDir) {
  const dir = mkdtempSync(join(workDir, 'tap-'));
  const child = spawn('gst-launch-1.0', ['-q', 'udpsrc', 'address=127.0.0.1', `port=${port}`,
    'caps=application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000', '!',
    'rtpjitterbuffer', 'latency=200', '!', 'rtpvp8depay', '!', 'vp8dec', '!', 'videoconvert', '!',
    'pngenc', '!', 'multifilesink', `location=${join(dir, 'frame%05d.png')}`, 'max-files=20'],
  { stdio: ['ignore', 'ignore', 'pipe'] });
  let errors = '';
  child.stderr.on('data', (chunk) => { errors += chunk.toString(); });
  const exited = new Promise((done) => child.on('exit', done));
  return {
    dir,
    frames: () => readdirSync(dir).filter((name) => name.endsWith('.png')).sort(),
    // Frames decoded so far (multifilesink keeps only the newest files, numbered from 0).
    decoded() {
      const names = this.frames();
      return names.length === 0 ? 0 : Number(names[names.length - 1].match(/\d+/)[0]) + 1;
    },
    errors: () => errors,
    async stop() {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(3000)]);
    },
  };
}
