// Threat-model claim C31: veil-patient keeps session credentials in memory only and writes no
// media (nor anything else) to disk.
//
// The real veil-patient runs a whole consultation (invite redeemed, admitted, publishing redacted
// video, decoding the clinician's audio, leaving) under
//   strace -f -y -e trace=<every syscall that creates, opens for writing, writes, renames, links
//                          or removes a file>
// with a fresh HOME, TMPDIR and XDG_* directories, taking the invite from a file (--invite-file).
// Asserted: no file outside /dev and /proc was opened for writing or created, no write went to a
// regular file, nothing was renamed, linked, removed or created as a directory; the fresh
// directories hold only the invite file afterwards; while it runs after the redeem, the invite
// code and anything shaped like a token (JWT) appear neither in its /proc/<pid>/cmdline nor in
// /proc/<pid>/environ; its stdout/stderr carry neither. Given the invite as a URL argument
// (--invite URL: argv is world-readable in /proc), veil-patient overwrites it in its own argv at
// start-up. Controls: the same trace analysis flags a shell that writes one file, and the cmdline
// check flags a process holding the invite in its arguments.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { startStack, waitFor, listFiles, processTree } from './lib/stack.mjs';
import { launchBrowser } from './lib/browser.mjs';
import { patientBin, stillSource, checkInNetns } from './e2e_patient.mjs';
import { startDevice, clinicianCreatesConsultation, admitAndTalk } from
  './lib/claims-consultation.mjs';

process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';  // node's own fetches to the self-signed stack

const CLINICIAN = { username: 'dr-c31', password: 'a clinic passphrase for c31' };
const FILE_SYSCALLS = ['open', 'openat', 'openat2', 'creat', 'rename', 'renameat', 'renameat2',
  'unlink', 'unlinkat', 'mkdir', 'mkdirat', 'link', 'linkat', 'symlink', 'symlinkat', 'truncate',
  'ftruncate', 'write', 'pwrite64', 'writev', 'pwritev', 'pwritev2', 'mknod', 'mknodat'];
const JWT = /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/;
let stack;
let browser;
let app;
let work;
let device;

// A fresh home for one traced run: HOME, TMPDIR and every XDG base directory inside it.
function freshHome(name) {
  const home = join(work, name);
  const env = { PATH: process.env.PATH, HOME: home, TMPDIR: join(home, 'tmp'),
    XDG_CACHE_HOME: join(home, 'cache'), XDG_CONFIG_HOME: join(home, 'config'),
    XDG_DATA_HOME: join(home, 'data'), XDG_STATE_HOME: join(home, 'state'),
    XDG_RUNTIME_DIR: join(home, 'run') };
  for (const dir of [home, env.TMPDIR, env.XDG_CACHE_HOME, env.XDG_CONFIG_HOME, env.XDG_DATA_HOME,
    env.XDG_STATE_HOME, env.XDG_RUNTIME_DIR]) mkdirSync(dir, { recursive: true, mode: 0o700 });
  return { home, env, trace: join(work, `${name}.strace`) };
}

function traced(run, command, args) {
  return startDevice(['-f', '-qq', '-y', '-s', '0', '-e', `trace=${FILE_SYSCALLS.join(',')}`,
    '-o', run.trace, command, ...args], { command: 'strace', env: run.env });
}

// Everything in an strace log that put something on disk: successful opens for writing or
// creating outside /dev and /proc, writes to a regular file, renames, links, removals, mkdirs.
// Returns distinct "call path" strings (paths of renames and links: "from -> to").
export function fileEffects(traceText) {
  const effects = new Set();
  const writeFlags = /O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|O_APPEND/;
  for (const line of traceText.split('\n')) {
    const call = line.match(/^(?:\d+\s+)?(\w+)\((.*)\)\s+=\s+(-?\d+)/);
    if (!call || Number(call[3]) < 0) continue;  // unfinished, resumed or failed
    const [, name, args] = call;
    const paths = [...args.matchAll(/"([^"]*)"/g)].map((m) => m[1]);
    if (/^(open|openat|openat2|creat)$/.test(name)) {
      if ((name === 'creat' || writeFlags.test(args)) && !/^\/(dev|proc)\//.test(paths[0] ?? '')) {
        effects.add(`${name} ${paths[0]}`);
      }
    } else if (/^(write|pwrite64|writev|pwritev|pwritev2|ftruncate)$/.test(name)) {
      const target = args.match(/^\d+<([^>]*)>/)?.[1] ?? '';
      if (target.startsWith('/') && !/^\/dev\//.test(target)) effects.add(`${name} ${target}`);
    } else {
      effects.add(`${name} ${paths.join(' -> ')}`);
    }
  }
  return [...effects];
}

// What GStreamer itself does on a fresh home, whoever the application: it caches its plugin
// registry under $XDG_CACHE_HOME/gstreamer-1.0 (written to a temp file, then renamed), and ORC
// (its SIMD code generator) backs JIT code with a file it unlinks at once (orcexec.*, mmapped).
// Neither holds session data; the registry's content is checked separately.
function isGstreamerHousekeeping(effect, env) {
  const cache = `${env.XDG_CACHE_HOME}/gstreamer-1.0`;
  const registry = `${cache}/registry\\.[\\w-]+\\.bin`;
  const orc = `(${env.XDG_RUNTIME_DIR}|${env.TMPDIR}|${env.HOME})/orcexec\\.\\w+`;
  return new RegExp(`^(mkdir ${cache}|(openat|write|writev) ${registry}\\.tmp\\w+|` +
    `rename(at2?)? ${registry}\\.tmp\\w+ -> ${registry}|(openat|unlink|ftruncate) ${orc})$`)
    .test(effect);
}

// The invite code or a token in a process's command line or initial environment.
function secretsInProc(pid, inviteCode) {
  const found = [];
  for (const part of ['cmdline', 'environ']) {
    const text = readFileSync(`/proc/${pid}/${part}`).toString().replaceAll('\0', ' ');
    if (text.includes(inviteCode)) found.push(`${part}: invite code`);
    if (JWT.test(text)) found.push(`${part}: token`);
  }
  return found;
}

function patientPid(stracePid) {
  return processTree(stracePid).find((pid) => {
    try { return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'veil-patient'; } catch (_) {
      return false;
    }
  });
}

before(async () => {
  checkInNetns();
  work = mkdtempSync(join(tmpdir(), 'veil-c31-'));
  stack = await startStack({ tls: true, clinicians: [CLINICIAN] });
  browser = await launchBrowser({ fakeMedia: true, ignoreHTTPSErrors: true });
  app = await clinicianCreatesConsultation(browser, stack, CLINICIAN);
});

after(async () => {
  await device?.stop();
  await browser?.close();
  await stack?.stop();
  rmSync(work, { recursive: true, force: true });
});

test('control: the trace analysis flags a process that writes one file', async () => {
  const run = freshHome('control');
  const shell = traced(run, '/bin/sh', ['-c', 'printf x > "$HOME/probe"']);
  assert.equal((await shell.exited).code, 0, shell.log());
  const effects = fileEffects(readFileSync(run.trace, 'utf8'));
  assert.ok(effects.some((e) => e.includes(`${run.home}/probe`)), effects.join('\n'));
});

let run;
let inviteFile;
let deviceLog = '';

test('veil-patient runs a whole consultation under strace with a fresh home', async () => {
  run = freshHome('patient');
  inviteFile = join(run.home, 'invite');
  writeFileSync(inviteFile, `${app.inviteUrl}\n`, { mode: 0o600 });
  device = traced(run, patientBin, ['--invite-file', inviteFile, '--ca-file', stack.tlsCertFile,
    '--ice-address', process.env.VEIL_NETNS_ADDR, '--source', `file:${stillSource}`,
    '--fps', '15', '--audio-out', 'discard', '--display-name', 'C31 Patient']);
  await admitAndTalk(app.page, device);

  // After the redeem, while it holds the session token: nothing in cmdline or environ.
  const pid = await waitFor(() => patientPid(device.pid), { what: 'veil-patient under strace' });
  assert.deepEqual(secretsInProc(pid, app.inviteCode), []);

  // SIGTERM to strace would only detach it: stop veil-patient itself (it leaves cleanly).
  process.kill(pid, 'SIGTERM');
  const result = await Promise.race([device.exited, new Promise((done) => setTimeout(done, 15000))]);
  deviceLog = device.log();
  assert.ok(result, `veil-patient did not stop:\n${deviceLog}`);
  assert.equal(result.code, 0, deviceLog);
  device = null;
});

test('it created, wrote, renamed or removed no file but GStreamer\'s plugin registry cache',
  () => {
    const effects = fileEffects(readFileSync(run.trace, 'utf8'));
    console.log(`file effects (GStreamer housekeeping allowed):\n${effects.join('\n')}`);
    const own = effects.filter((effect) => !isGstreamerHousekeeping(effect, run.env));
    assert.deepEqual(own, [], `file effects of veil-patient:\n${own.join('\n')}`);
    const left = listFiles(run.home);
    assert.deepEqual(left.filter((f) => !/^cache\/gstreamer-1\.0\/registry\.[\w-]+\.bin$/.test(f)),
      ['invite'], 'the fresh home holds the invite file and the registry cache only');
    for (const file of left.filter((f) => f !== 'invite')) {
      const bytes = readFileSync(join(run.home, file)).toString('latin1');
      assert.ok(!bytes.includes(app.inviteCode) && !JWT.test(bytes), `${file} holds a secret`);
    }
  });

test('its output carries no invite code and no token', () => {
  assert.match(deviceLog, /published/, 'the output is the whole run\'s');
  assert.ok(!deviceLog.includes(app.inviteCode), 'invite code in the output');
  assert.doesNotMatch(deviceLog, JWT, 'token in the output');
});

test('control: the cmdline check flags an invite given as a command-line argument', async () => {
  const code = 'C31controlCodeC31controlCodeC31controlCode1';
  const holder = startDevice(['-c', 'sleep 30', 'invite-holder',
    `https://192.0.2.10:443/join#invite=${code}`], { command: '/bin/sh' });
  let found = [];
  try {
    found = secretsInProc(holder.pid, code);
  } finally {
    await holder.stop();
  }
  assert.ok(found.includes('cmdline: invite code'), found.join(','));
});

test('veil-patient given --invite URL overwrites it in its own argv before doing anything with it',
  async () => {
    const code = 'C31argvCodeC31argvCodeC31argvCodeC31argv012';  // 43 characters, like a real code
    // A server that accepts and never answers: veil-patient stays alive in its TLS handshake
    // while its /proc entry is read (an unreachable address can fail at once and end it).
    const held = [];
    const silent = createServer((socket) => { held.push(socket); });
    await new Promise((done) => silent.listen(0, process.env.VEIL_NETNS_ADDR, done));
    const url = `https://${process.env.VEIL_NETNS_ADDR}:${silent.address().port}/join#invite=${code}`;
    const exposed = startDevice(['--invite', url,
      '--ice-address', process.env.VEIL_NETNS_ADDR, '--source', 'test', '--no-audio']);
    let found;
    try {
      // Printed right after the overwrite, before the first request.
      await exposed.waitForLog(/credential on the command line is readable/, 'the argv warning');
      await waitFor(() => held.length > 0, { what: 'veil-patient connected to the silent server' });
      found = secretsInProc(exposed.pid, code);
    } finally {
      await exposed.stop();
      for (const socket of held) socket.destroy();
      silent.close();
    }
    assert.deepEqual(found, [], 'the invite is still in /proc/PID/cmdline');
    assert.ok(!exposed.log().includes(code), 'invite code in the output');
  });
