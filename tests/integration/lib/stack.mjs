// Starts the media stack the way a deployment does — Janus with our shipped config (through
// deploy/janus/run-janus) and veil-server — for integration tests running inside lib/in-netns.
// Every secret is fresh per run and lives in a temp dir removed by stop().
//
//   import { startStack } from './lib/stack.mjs';
//   const stack = await startStack({ demoConsultation: 'c1' });
//   stack.serverUrl, stack.janusUrl, stack.mintToken('c1', 'viewer'), stack.tap(...), ...
//   const stack = await startStack({ tls: true, turn: true,
//     clinicians: [{ username: 'dr-a', password: '...' }] });
//   stack.origin (https), stack.auditEvents(), stack.pids(), ...
//   await stack.stop();
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync, readdirSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const repoDir = process.env.VEIL_REPO || resolve(here, '../../..');
const buildDir = process.env.VEIL_BUILD_DIR || join(repoDir, 'build');
export const serverBin = process.env.VEIL_SERVER_BIN || join(buildDir, 'server/veil-server');
export const sfuTapBin = process.env.VEIL_SFU_TAP_BIN || join(buildDir, 'server/veil-sfu-tap');

export const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

// Polls `probe` until it returns a truthy value; bounded in attempts and time.
export async function waitFor(probe, { attempts = 100, intervalMs = 200, what = 'condition' } = {}) {
  let lastError;
  for (let i = 0; i < attempts; i += 1) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out waiting for ${what}${lastError ? `: ${lastError.message}` : ''}`);
}

function startProcess(command, args, options) {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = { text: '' };
  const keep = (chunk) => { output.text += chunk.toString(); };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((done) => child.on('exit', (code, signal) => done({ code, signal })));
  return { child, output, exited };
}

async function stopProcess(proc, timeoutMs = 10000) {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return proc.exited;
  proc.child.kill('SIGTERM');
  const result = await Promise.race([proc.exited, sleep(timeoutMs).then(() => null)]);
  if (result) return result;
  proc.child.kill('SIGKILL');
  return proc.exited;
}

// Every file below `dir`, as paths relative to it (symlinks listed, not followed).
export function listFiles(dir, prefix = '') {
  const files = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const relative = prefix ? `${prefix}/${name}` : name;
    const info = statSync(path, { throwIfNoEntry: false });
    if (info && info.isDirectory()) files.push(...listFiles(path, relative));
    else files.push(relative);
  }
  return files.sort();
}

// Adds a local clinician account to the server's database (password on stdin, as documented).
export function addClinician(dbFile, { username, password, admin = false }) {
  const args = ['add-clinician', '--db', dbFile, '--username', username];
  if (admin) args.push('--admin');
  execFileSync(serverBin, args, { input: `${password}\n` });
}

// Every pid in the process tree rooted at `pid` (for CPU accounting from /proc).
export function processTree(pid) {
  const pids = [pid];
  for (let i = 0; i < pids.length; i += 1) {
    let children = '';
    try {
      for (const task of readdirSync(`/proc/${pids[i]}/task`)) {
        children += ` ${readFileSync(`/proc/${pids[i]}/task/${task}/children`, 'utf8')}`;
      }
    } catch (_) { /* exited */ }
    for (const child of children.split(/\s+/).filter(Boolean)) pids.push(Number(child));
  }
  return pids;
}

// utime + stime of one process in clock ticks (USER_HZ = 100 on Linux); 0 once it has exited.
export function processTicks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch (_) {
    return 0;
  }
}

// utime + stime of a process tree in clock ticks.
export function cpuTicks(rootPid) {
  return processTree(rootPid).reduce((sum, pid) => sum + processTicks(pid), 0);
}

// Busy and total jiffies of the whole machine (all cores), from /proc/stat.
export function machineTicks() {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1)
    .map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  return { busy: total - fields[3] - fields[4], total };
}

export async function startStack({ demoConsultation, serverPort = 18080, janusPort = 8088,
  janusAdminPort = 7088, tls = false, tlsPort = 18443, turn = false, turnPort = 3478,
  clinicians = [], extraServerArgs = [] } = {}) {
  const iface = process.env.VEIL_NETNS_IF;
  if (!iface) throw new Error('run this test through tests/integration/lib/in-netns');
  const work = mkdtempSync(join(tmpdir(), 'veil-stack-'));
  const adminKeyFile = join(work, 'janus-admin.key');
  const secretFile = join(work, 'server.secret');
  const adminKey = randomBytes(24).toString('base64url');
  writeFileSync(adminKeyFile, `${adminKey}\n`, { mode: 0o600 });
  writeFileSync(secretFile, `${randomBytes(48).toString('base64url')}\n`, { mode: 0o600 });
  const janusState = join(work, 'janus');
  const janusUrl = `http://127.0.0.1:${janusPort}/janus`;
  const janusAdminUrl = `http://127.0.0.1:${janusAdminPort}/admin`;
  const serverUrl = `http://127.0.0.1:${serverPort}`;

  const dbFile = join(work, 'veil.db');
  for (const clinician of clinicians) addClinician(dbFile, clinician);

  const janus = startProcess(join(repoDir, 'deploy/janus/run-janus'), [
    '--admin-key-file', adminKeyFile, '--interface', iface, '--state-dir', janusState,
    '--api-port', String(janusPort), '--admin-port', String(janusAdminPort)]);
  const started = [janus];
  try {
    await waitFor(async () => {
      const reply = await fetch(janusUrl, { method: 'POST',
        body: JSON.stringify({ janus: 'info', transaction: 'ready' }) });
      return reply.ok;
    }, { what: `Janus at ${janusUrl}\n${janus.output.text}` });
  } catch (error) {
    await stopProcess(janus);
    throw error;
  }


  let coturn = null;
  const turnSecretFile = join(work, 'turn.secret');
  const address = process.env.VEIL_NETNS_ADDR;
  if (turn) {
    writeFileSync(turnSecretFile, `${randomBytes(24).toString('base64url')}\n`, { mode: 0o600 });
    coturn = startProcess(join(repoDir, 'deploy/coturn/run-coturn'), ['--secret-file', turnSecretFile,
      '--listen-address', address, '--janus-address', address, '--port', String(turnPort),
      '--state-dir', join(work, 'coturn')]);
    started.push(coturn);
  }

  const serverArgs = ['--listen', `127.0.0.1:${serverPort}`, '--janus', janusUrl,
    '--janus-admin-key-file', adminKeyFile, '--secret-file', secretFile,
    '--web-dir', join(repoDir, 'web'), '--db', dbFile, ...extraServerArgs];
  if (tls) {
    serverArgs.push('--listen-tls', `127.0.0.1:${tlsPort}`, '--tls-self-signed-dir', join(work, 'tls'));
  }
  if (turn) {
    serverArgs.push('--turn-secret-file', turnSecretFile, '--turn-url',
      `turn:${address}:${turnPort}?transport=udp`);
  }
  if (demoConsultation) serverArgs.push('--demo-consultation', demoConsultation);
  const server = startProcess(serverBin, serverArgs);
  started.push(server);
  try {
    await waitFor(async () => (await fetch(`${serverUrl}/healthz`)).ok,
      { what: `veil-server health\n${server.output.text}` });
  } catch (error) {
    // Leave nothing running behind a failed start (the test's after() has no stack to stop).
    for (const proc of started.reverse()) await stopProcess(proc);
    throw error;
  }

  const origin = tls ? `https://127.0.0.1:${tlsPort}` : serverUrl;
  const stack = {
    work, adminKey, adminKeyFile, secretFile, janusState, janusUrl, janusAdminUrl, serverUrl,
    origin, dbFile, turnSecretFile: turn ? turnSecretFile : null,
    tlsCertFile: tls ? join(work, 'tls/server.crt') : null,
    janusLog: () => janus.output.text,
    serverLog: () => server.output.text,
    coturnLog: () => {
      try { return readFileSync(join(work, 'coturn/turnserver.log'), 'utf8'); } catch (_) { return ''; }
    },
    pids: () => ({ server: server.child.pid, janus: janus.child.pid, coturn: coturn?.child.pid }),
    // The audit log as parsed rows (through the documented `audit-export` command).
    auditEvents() {
      return execFileSync(serverBin, ['audit-export', '--db', dbFile]).toString().trim()
        .split('\n').filter(Boolean).map((line) => JSON.parse(line));
    },
    mintToken(consultation, role, ttl = 300) {
      return execFileSync(serverBin, ['mint-token', '--secret-file', secretFile,
        '--consultation', consultation, '--role', role, '--ttl', String(ttl)]).toString().trim();
    },
    // Room id, secret and PIN the server derives for a consultation (test-only knowledge).
    roomInfo(consultation) {
      return JSON.parse(execFileSync(sfuTapBin, ['room-info', '--secret-file', secretFile,
        '--consultation', consultation]).toString());
    },
    // Keyed rtp_forward of the consultation's publisher to 127.0.0.1 ports; returns Janus's reply.
    tap(consultation, { videoPort, audioPort, dataPort }) {
      const args = ['forward', '--janus', janusUrl, '--janus-admin-key-file', adminKeyFile,
        '--secret-file', secretFile, '--consultation', consultation, '--host', '127.0.0.1',
        '--video-port', String(videoPort)];
      if (audioPort) args.push('--audio-port', String(audioPort));
      if (dataPort) args.push('--data-port', String(dataPort));
      return JSON.parse(execFileSync(sfuTapBin, args).toString());
    },
    serverExit: server.exited,
    async stop({ keepWork = false } = {}) {
      const serverResult = await stopProcess(server);
      const janusResult = await stopProcess(janus);
      if (coturn) await stopProcess(coturn);
      if (!keepWork) rmSync(work, { recursive: true, force: true });
      return { serverResult, janusResult };
    },
  };
  return stack;
}
