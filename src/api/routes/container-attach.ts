/**
 * POST /containers/{id}/attach, with dockerd's semantics: `logs` replays what the
 * container has printed (from its log), `stream` gives its output as it comes (and takes
 * stdin); with both, the replay runs on into the live output; without `stream` the
 * connection ends after the replay, and with neither at once. A container that is not
 * running is streamed from its next start (docker start -a).
 */
import { PassThrough, type Duplex } from 'node:stream';
import { conflict, messageOf } from '../../errors.js';
import type { ContainerEngine } from '../../engine/containers/engine.js';
import type { ContainerRecord } from '../../engine/containers/model.js';
import type { StdioSession } from '../../runtime/index.js';
import { logConfigOf } from '../../engine/containers/logging.js';
import type { LogFileSet } from '../../logs/files/file-set.js';
import { readLogFiles } from '../../logs/files/reader.js';
import type { LogService } from '../../logs/service.js';
import { detachKeysOf, endWithMessage, frame, hijack, pipeSession } from '../hijack.js';
import type { ApiRequest, Reply } from '../router.js';
import { boolParam } from '../wire.js';
import { drained } from '../../util/streams.js';

export async function attachContainer(req: ApiRequest, engine: ContainerEngine, logService: LogService): Promise<Reply> {
  const name = req.params.id!;
  const c = engine.find(name);
  // Refused before the connection is taken over, as dockerd's ContainerAttach.
  if (c.state.paused) throw conflict(`container ${name} is paused, unpause the container before attach`);
  if (c.state.status === 'restarting') throw conflict(`container ${name} is restarting, wait until the container is running`);
  const q = req.query;
  const want = { stdin: boolParam(q, 'stdin'), stdout: boolParam(q, 'stdout'), stderr: boolParam(q, 'stderr') };
  const tty = c.spec.process.tty;
  const detachKeys = detachKeysOf(q.get('detachKeys') ?? undefined);
  const logs = boolParam(q, 'logs');
  const stream = boolParam(q, 'stream');
  const socket = await hijack(req, tty);
  const pipeOpts = { tty, ...want, closeStdinOnEnd: c.spec.process.stdinOnce && !tty, detachKeys };
  let files: LogFileSet | undefined;
  if (logs) {
    try {
      files = logService.reader({ id: c.id, config: logConfigOf(c) });
    } catch (e: unknown) {
      endWithMessage(socket, tty, `Error attaching: ${messageOf(e)}\n`);
      return { handled: true };
    }
    if (c.state.status === 'running') await logService.sync(c.id);
  }
  if (files && stream) {
    await pipeSession(socket, followLog(engine, c, files, want.stdin), pipeOpts);
    return { handled: true };
  }
  if (files) {
    const failure = await replayLog(socket, files, { tty, ...want });
    if (failure === undefined) socket.end();
    else endWithMessage(socket, tty, `Error attaching: ${failure}\n`);
    return { handled: true };
  }
  const live = stream ? settle(engine.attach(c.id, want.stdin)) : undefined;
  // A container removed before its next start ends the stream: that start never comes.
  const removed = live !== undefined && c.state.status !== 'running' ? engine.wait(c.id, 'removed').catch(() => 0) : undefined;
  const session = live === undefined ? undefined : await untilClosed(socket, live, removed);
  if (session === undefined) {
    socket.end();
    return { handled: true };
  }
  await pipeSession(socket, session, pipeOpts);
  return { handled: true };
}

/**
 * logs and stream together: the output comes from following the log, the one record of
 * all of it in order (a live attach and a replay read apart could each miss what conmon
 * printed between them); stdin, if asked for, goes to the live session from the start.
 * Ends when the container exits (a stopped one: at the end of its next run).
 */
function followLog(engine: ContainerEngine, c: ContainerRecord, files: LogFileSet, stdin: boolean): StdioSession {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stop = new AbortController();
  const exited = engine.wait(c.id, c.state.status === 'running' ? 'not-running' : 'next-exit').catch(() => 0);
  void (async () => {
    try {
      for await (const e of readLogFiles(files, { follow: true, signal: stop.signal, ends: exited })) {
        const out = e.stream === 'stdout' ? stdout : stderr;
        if (!out.write(e.line)) await drained(out);
        if (stop.signal.aborted) break;
      }
    } catch {
      // the log went with the container: the stream just ends
    }
    stdout.end();
    stderr.end();
  })();
  const live = stdin ? settle(engine.attach(c.id, true)) : undefined;
  const input = stdin ? new PassThrough() : null;
  void live?.then((s) => {
    if (!s) return;
    s.stdout.resume(); // its output comes from the log
    s.stderr.resume();
    if (input && s.stdin) input.pipe(s.stdin);
  });
  let closed = false;
  return {
    stdin: input,
    stdout,
    stderr,
    resize: async () => undefined, // the container's tty is resized through its own route
    close: () => {
      if (closed) return;
      closed = true;
      stop.abort();
      stdout.destroy();
      stderr.destroy();
      void live?.then((s) => s?.close());
    },
  };
}

/** The session, or undefined when the attach failed (the process ended meanwhile): the stream just ends. */
async function settle(attaching: Promise<StdioSession>): Promise<StdioSession | undefined> {
  return attaching.catch(() => undefined);
}

/**
 * The session once it comes (a container not running gives it at its next start), or
 * undefined if the client leaves or `giveUp` resolves first; a session that comes
 * later is closed at once.
 */
async function untilClosed(socket: Duplex, live: Promise<StdioSession | undefined>, giveUp?: Promise<unknown>): Promise<StdioSession | undefined> {
  if (socket.destroyed) {
    void live.then((s) => s?.close());
    return undefined;
  }
  return new Promise((resolve) => {
    let gone = false;
    const leave = (): void => {
      gone = true;
      resolve(undefined);
    };
    socket.once('close', leave);
    void giveUp?.then(leave);
    void live.then((s) => {
      socket.off('close', leave);
      if (gone) s?.close();
      else resolve(s);
    });
  });
}

/**
 * Write the container's log so far on the stream (each entry on its own stream, framed
 * without a tty). Returns why it could not, in dockerd's words, or undefined.
 */
async function replayLog(socket: Duplex, files: LogFileSet, want: { tty: boolean; stdout: boolean; stderr: boolean }): Promise<string | undefined> {
  try {
    for await (const e of readLogFiles(files)) {
      if (socket.destroyed) return undefined;
      if (!(e.stream === 'stdout' ? want.stdout : want.stderr)) continue;
      if (!socket.write(want.tty ? e.line : frame(e.stream === 'stdout' ? 1 : 2, e.line))) await drained(socket);
    }
  } catch (e: unknown) {
    return messageOf(e);
  }
  return undefined;
}
