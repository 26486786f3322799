// Media-path benchmark body; see bench/media/run (which builds the stamping veil-patient and
// enters the network namespace). Prints a table; asserts nothing.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

import { sleep, startStack, waitFor } from '../../tests/integration/lib/stack.mjs';
import {
  checkInNetns, openBrowser, openViewer, startPatient,
} from '../../tests/integration/e2e_patient.mjs';

const clip = '/usr/share/doc/opencv-doc/examples/data/Megamind.avi';
const secondsArg = process.argv.indexOf('--seconds');
const measureSeconds = secondsArg > 0 ? Number(process.argv[secondsArg + 1]) : 15;
const configs = [
  { codec: 'vp8', width: 640, height: 360 },
  { codec: 'vp8', width: 1280, height: 720 },
  { codec: 'h264', width: 1280, height: 720 },
  { codec: 'vp9', width: 1280, height: 720 },
];
const fps = 30;
const consultation = 'bench';
const ticksPerSecond = 100;  // USER_HZ on Linux

function cpuTicks(pid) {
  // Fields after the ")" of the command name: utime is the 12th, stime the 13th.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

// Page side: read the stamp (see client/src/latency_stamp.h) from every presented frame.
const installStampReader = () => {
  const video = document.getElementById('video');
  const cell = 16;
  const bits = 24;
  const canvas = new OffscreenCanvas((bits + 2) * cell, cell);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  const result = { latencies: [], unreadable: 0, decoded: 0 };
  const luma = (data, index) => {
    const i = (cell / 2 * canvas.width + index * cell + cell / 2) * 4;
    return (data[i] + data[i + 1] + data[i + 2]) / 3;
  };
  const onFrame = (now, metadata) => {
    context.drawImage(video, 0, 0, canvas.width, cell, 0, 0, canvas.width, cell);
    const data = context.getImageData(0, 0, canvas.width, cell).data;
    const white = luma(data, 0);
    const black = luma(data, 1);
    if (white - black > 128) {
      let value = 0;
      for (let b = 0; b < bits; b += 1) value = value * 2 + (luma(data, b + 2) > (white + black) / 2);
      const shown = Math.round(performance.timeOrigin + metadata.expectedDisplayTime) % 2 ** bits;
      result.latencies.push((shown - value + 2 ** bits) % 2 ** bits);
    } else {
      result.unreadable += 1;
    }
    result.decoded = metadata.presentedFrames;
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
  window.stamps = result;
};

const percentile = (values, p) => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

async function measure(stack, browser, config) {
  console.error(`bench: ${config.codec} ${config.width}x${config.height}`);
  const started = performance.now();
  const patient = startPatient({ serverUrl: stack.serverUrl, consultation,
    token: stack.mintToken(consultation, 'patient'), source: `file:${clip}`,
    args: ['--codec', config.codec, '--width', String(config.width), '--height',
      String(config.height), '--fps', String(fps), '--latency-stamp'] });
  try {
    await patient.waitForLog(/veil-patient: published/, 'publish');
    const publishMs = performance.now() - started;
    await patient.waitForLog(/connection-state connected/, 'connected');

    const page = await browser.context.newPage();
    const opened = performance.now();
    await page.goto(`${stack.serverUrl}/view/${consultation}#token=${
      stack.mintToken(consultation, 'viewer')}`);
    await waitFor(() => page.evaluate(() => document.getElementById('video').videoWidth > 0),
      { attempts: 1500, intervalMs: 20, what: 'first frame' }).catch(async (error) => {
      console.error(await page.evaluate(() => JSON.stringify(window.veilViewer)));
      console.error(patient.log());
      console.error(stack.janusLog().split('\n').slice(-15).join('\n'));
      throw error;
    });
    const firstFrameMs = performance.now() - opened;
    await page.evaluate(installStampReader);
    await sleep(3000);  // let the encoder and jitter buffer settle

    const ticksBefore = cpuTicks(patient.pid);
    const decodedBefore = await page.evaluate(() => window.stamps.decoded);
    await page.evaluate(() => { window.stamps.latencies = []; });
    await sleep(measureSeconds * 1000);
    const ticks = cpuTicks(patient.pid) - ticksBefore;
    const stamps = await page.evaluate(() => window.stamps);
    await page.close();
    // veil-patient's own periodic line: redaction rate and mean time per frame.
    const stats = [...patient.log().matchAll(
      /stats: ([\d.]+) fps redacted, redaction ([\d.]+) ms mean/g)].pop();
    return {
      ...config,
      publishMs,
      firstFrameMs,
      p50: percentile(stamps.latencies, 50),
      p95: percentile(stamps.latencies, 95),
      samples: stamps.latencies.length,
      unreadable: stamps.unreadable,
      cpu: (100 * ticks) / ticksPerSecond / measureSeconds,
      decodedFps: (stamps.decoded - decodedBefore) / measureSeconds,
      redactedFps: stats ? stats[1] : '?',
      redactMs: stats ? stats[2] : '?',
    };
  } finally {
    await patient.stop();
  }
}

async function main() {
  checkInNetns();
  // One demo consultation (demo tokens are valid only there); each row publishes anew and its
  // patient leaves (DELETE) before the next row starts.
  const stack = await startStack({ demoConsultation: consultation });
  const browser = await openBrowser();
  const rows = [];
  try {
    for (const config of configs) {
      rows.push(await measure(stack, browser, config));
    }
  } finally {
    await browser.close();
    await stack.stop();
  }
  const header = ['codec', 'size', 'start→published ms', 'viewer open→1st frame ms',
    'g2g p50 ms', 'g2g p95 ms', 'stamps', 'CPU % of a core', 'redacted fps', 'redact ms/frame',
    'decoded fps'];
  const lines = rows.map((r) => [r.codec, `${r.width}x${r.height}@${fps}`, r.publishMs.toFixed(0),
    r.firstFrameMs.toFixed(0), String(r.p50), String(r.p95), `${r.samples}`,
    r.cpu.toFixed(0), r.redactedFps, r.redactMs, r.decodedFps.toFixed(1)]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const format = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  const os = await import('node:os');
  console.log(`media bench: ${measureSeconds} s per row, clip ${clip}, ${os.cpus().length} cores, `
    + `load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} (machine shared)`);
  console.log(format(header));
  console.log(format(widths.map((w) => '-'.repeat(w))));
  for (const line of lines) console.log(format(line));
}

main().catch((error) => {
  console.error(`media bench failed: ${error.stack || error}`);
  process.exit(1);
});
