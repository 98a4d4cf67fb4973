/** /containers/{id}/exec and /exec/{id}/… */
import type { ExecManager } from '../../engine/containers/execs.js';
import { invalid, messageOf, systemError } from '../../errors.js';
import { detachKeysOf, endWithMessage, hijack, pipeSession } from '../hijack.js';
import type { Router } from '../router.js';
import { asObject, commandList, optBool, optConsoleSize, optString, stringList } from '../wire.js';

export function execRoutes(router: Router, execs: ExecManager): void {
  router
    .add('POST', '/containers/{id}/exec', async (req) => {
      const o = asObject(await req.json(), 'exec');
      const inst = await execs.create(req.params.id!, {
        cmd: commandList(o, 'Cmd'),
        env: stringList(o, 'Env'),
        workingDir: optString(o, 'WorkingDir') ?? '',
        user: optString(o, 'User') ?? '',
        tty: optBool(o, 'Tty') ?? false,
        detachKeys: detachKeysOf(optString(o, 'DetachKeys')),
        attachStdin: optBool(o, 'AttachStdin') ?? false,
        attachStdout: optBool(o, 'AttachStdout') ?? false,
        attachStderr: optBool(o, 'AttachStderr') ?? false,
        privileged: optBool(o, 'Privileged') ?? false,
        ...consoleSizeOf(o),
      });
      return { status: 201, body: { Id: inst.id } };
    })
    .add('POST', '/exec/{id}/start', async (req) => {
      const o = asObject(await req.json(), 'exec start');
      const inst = execs.startable(req.params.id!);
      const detach = optBool(o, 'Detach') ?? false;
      // As dockerd: the start's Tty (docker-py sends it there), not the create's, says
      // whether the output is framed; a ConsoleSize counts only with it.
      const tty = optBool(o, 'Tty') ?? false;
      const start = tty ? consoleSizeOf(o) : {};
      if (detach) {
        const { session, settled } = await execs.start(inst.id, start);
        session.stdout.resume();
        session.stderr.resume();
        session.stdin?.end();
        if (session.pid === 0) {
          const failed = await settled;
          if (failed.error !== undefined) throw failed.exitCode === 126 || failed.exitCode === 127 ? invalid(failed.error) : systemError(failed.error);
        }
        return { status: 200 };
      }
      // The process starts while the 101 goes out alone; its output waits in the session.
      const starting = execs.start(inst.id, start).then(
        (ok) => ({ ok }),
        (failed: unknown) => ({ failed }),
      );
      const socket = await hijack(req, tty);
      const outcome = await starting;
      if ('failed' in outcome) {
        endWithMessage(socket, tty, `${messageOf(outcome.failed)}\r\n`);
        return { handled: true };
      }
      const started = outcome.ok;
      await pipeSession(socket, started.session, {
        tty,
        stdin: inst.req.attachStdin,
        stdout: inst.req.attachStdout,
        stderr: inst.req.attachStderr,
        // As dockerd: the end of the client's input closes the process's stdin only without a tty.
        closeStdinOnEnd: !inst.req.tty,
        // A command the runtime could not start is reported in the stream, as dockerd does.
        endAfter: started.settled.then((x) => (x.error === undefined ? undefined : `${x.error}\r\n`)),
        detachKeys: inst.req.detachKeys,
      });
      return { handled: true };
    })
    .add('POST', '/exec/{id}/resize', async (req) => {
      await execs.resize(req.params.id!, { rows: Number(req.query.get('h') ?? 24), cols: Number(req.query.get('w') ?? 80) });
      return { status: 200 };
    })
    .add('GET', '/exec/{id}/json', async (req) => {
      const e = execs.get(req.params.id!);
      const [entrypoint = '', ...args] = e.req.cmd;
      return {
        status: 200,
        body: {
          ID: e.id,
          Running: e.running,
          ExitCode: e.exitCode,
          ProcessConfig: { tty: e.req.tty, entrypoint, arguments: args, privileged: e.req.privileged, user: e.req.user },
          OpenStdin: e.req.attachStdin,
          OpenStderr: e.req.attachStderr,
          OpenStdout: e.req.attachStdout,
          CanRemove: false,
          ContainerID: e.containerId,
          DetachKeys: '',
          Pid: e.pid,
        },
      };
    });
}

/** ConsoleSize as an optional field (Docker takes it from API 1.42 on; older clients never send it). */
function consoleSizeOf(o: Record<string, unknown>): { consoleSize?: { rows: number; cols: number } } {
  const size = optConsoleSize(o, 'ConsoleSize');
  return size ? { consoleSize: size } : {};
}
