// veil-patient as a child process for integration tests: its stdout and stderr kept as one log,
// stdin for control lines, a bounded wait for a log line, and a stop that escalates to SIGKILL.
import { spawn } from 'node:child_process';
import { basename, join } from 'node:path';

import { repoDir, sleep, waitFor } from './stack.mjs';

const buildDir = process.env.VEIL_BUILD_DIR || join(repoDir, 'build');
export const patientBin = process.env.VEIL_PATIENT_BIN || join(buildDir, 'client/veil-patient');

// Starts veil-patient with `args`, or `command` (e.g. strace wrapping veil-patient). `env`
// replaces the environment (e.g. a DISPLAY); `stopMs` is how long stop() waits after SIGTERM
// before SIGKILL.
export function startDevice(args, { command = patientBin, env = process.env, stopMs = 15000 } = {}) {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
  const name = basename(command);
  const output = { text: '' };
  const keep = (chunk) => { output.text += chunk.toString(); };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.on('error', (error) => { output.text += `[${name} could not start: ${error.message}]\n`; });
  const exited = new Promise((done) => child.on('exit', (code, signal) => {
    output.text += `[${name} exited: code ${code} signal ${signal}]\n`;
    done({ code, signal });
  }));
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    pid: child.pid,
    log: () => output.text,
    running,
    exited,
    send(line) { child.stdin.write(`${line}\n`); },
    // Resolves with the probe's value once `pattern` is in the log; the error carries the log.
    async waitForLog(pattern, what, attempts = 150) {
      try {
        return await waitFor(() => pattern.test(output.text), { attempts, intervalMs: 200, what });
      } catch (error) {
        error.message += `\n--- veil-patient log ---\n${output.text}`;
        throw error;
      }
    },
    async stop() {
      if (running()) child.kill('SIGTERM');
      const result = await Promise.race([exited, sleep(stopMs).then(() => null)]);
      if (result) return result;
      child.kill('SIGKILL');
      return { ...(await exited), killed: true };
    },
  };
}
