/**
 * A health probe run as dockerd's cmdProbe runs it: an exec instance (the same path as
 * docker exec, so exec_create, exec_start and exec_die are logged for each probe) with
 * the container's user, working directory and environment, stdout and stderr together
 * into ProbeOutput. A process still running at the timeout is killed and counts as a
 * failure (-1, "Health check exceeded timeout (30s)"); one that never started gives -1
 * and the runtime's message. The instance is forgotten once it ends.
 */
import { finished } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type { ExecSession } from '../../runtime/index.js';
import type { ExecManager } from './execs.js';
import { ProbeOutput } from './health.js';
import type { ProbeOutcome, ProbeRunner } from './health-monitor.js';

/** How long the exec may take to start; its own time does not count against the probe's timeout (dockerd's). */
const START_TIMEOUT_MS = 30_000;
/** After a kill, how long to wait for the probe's end before leaving it (so dying probes do not pile up). */
const KILL_GRACE_MS = 2_000;

export function execProbes(execs: ExecManager): ProbeRunner {
  return async (c, probe, signal) => {
    const inst = await execs.create(
      c.id,
      { cmd: probe.argv, env: [], workingDir: '', user: '', tty: false, attachStdin: false, attachStdout: true, attachStderr: true, privileged: false, detachKeys: [] },
      { transient: true },
    );
    const session = await startWithin(execs.start(inst.id).then((s) => s.session), START_TIMEOUT_MS, `timed out starting health check for container ${c.id}`);
    const output = new ProbeOutput();
    for (const stream of [session.stdout, session.stderr]) stream.on('data', (b: Buffer) => output.write(b));
    const ended = await raceTimeout(session, probe.timeoutMs, signal);
    if (ended === 'timeout' || ended === 'aborted') {
      session.kill('SIGKILL');
      await raceTimeout(session, KILL_GRACE_MS);
      session.close();
      const out = output.text();
      return { exitCode: -1, output: `Health check exceeded timeout (${probe.timeoutText})${out === '' ? '' : `: ${out}`}` };
    }
    await Promise.all([drained(session.stdout), drained(session.stderr)]);
    if (ended.error !== undefined) return { exitCode: -1, output: `OCI runtime exec failed: ${ended.error}: unknown` };
    return { exitCode: ended.exitCode, output: output.text() } satisfies ProbeOutcome;
  };
}

/** The session's exit, or why we stopped waiting for it. */
async function raceTimeout(session: ExecSession, ms: number, signal?: AbortSignal): Promise<Awaited<ExecSession['exit']> | 'timeout' | 'aborted'> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      session.exit,
      new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms))),
      new Promise<'aborted'>((resolve) => {
        if (signal?.aborted) resolve('aborted');
        onAbort = () => resolve('aborted');
        signal?.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

/** The session once started; past `ms`, an error (and the session, if it ever starts, is killed). */
async function startWithin(starting: Promise<ExecSession>, ms: number, message: string): Promise<ExecSession> {
  let timer: NodeJS.Timeout | undefined;
  let late = false;
  try {
    return await Promise.race([
      starting,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          late = true;
          reject(new Error(message));
        }, ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (late) {
      starting.then(
        (s) => {
          s.kill('SIGKILL');
          s.close();
        },
        () => undefined,
      );
    }
  }
}

/** Resolves once the stream has ended (or failed): all its output has been read. */
async function drained(stream: Readable): Promise<void> {
  await finished(stream).catch(() => undefined);
}
