/**
 * `berth exec`: checks the container exists, creates the exec, then either starts it
 * detached or streams it (hijacked `POST /exec/{id}/start`) and exits with the
 * command's exit code from `GET /exec/{id}/json`.
 */
import { readFileSync } from 'node:fs';
import type { CommandContext } from '../../context.js';
import { CliError } from '../../errors.js';
import { runSession } from '../../hijack-stream.js';
import { readKvFiles, withEnvValue } from '../../kvfile.js';
import { validateEnv } from '../../opts.js';
import type { CommandSpec } from '../../registry.js';
import { isTerminal, ttySize } from '../../terminal.js';
import { checkTty, inspectContainer, monitorTtySize } from './attach-helpers.js';
import { containerPath, type ExecInspect } from './wire.js';

const execPath = (id: string, suffix: string): string => `/exec/${encodeURIComponent(id)}${suffix}`;

/** `--env-file` then `-e` values, bare names looked up in the user's environment. */
function execEnv(ctx: CommandContext): string[] | null {
  const lookupEnv = (name: string): string | undefined => ctx.env[name];
  const vars = [
    ...readKvFiles(ctx.flags.list('env-file'), { readFile: (path) => readFileSync(path, 'utf8'), lookupEnv }),
    ...ctx.flags.list('env').map((e) => withEnvValue(e, lookupEnv)),
  ];
  return vars.length > 0 ? vars : null;
}

async function run(ctx: CommandContext): Promise<number> {
  const { flags } = ctx;
  const [container, ...cmd] = ctx.args as [string, ...string[]];
  const detach = flags.bool('detach');
  const tty = flags.bool('tty');
  const attachStdin = !detach && flags.bool('interactive');
  const config = {
    User: flags.string('user'),
    Privileged: flags.bool('privileged'),
    Tty: tty,
    ...(tty ? { ConsoleSize: consoleSize(ctx) } : {}),
    AttachStdin: attachStdin,
    AttachStderr: !detach,
    AttachStdout: !detach,
    Detach: false,
    DetachKeys: flags.string('detach-keys'),
    Env: execEnv(ctx),
    WorkingDir: flags.string('workdir'),
    Cmd: cmd,
  };
  // The existence check comes first so "No such container" wins over TTY complaints.
  await inspectContainer(ctx.client, container);
  if (!detach) checkTty(ctx.io, attachStdin, tty);
  const created = await ctx.client.json<{ Id?: unknown }>('POST', containerPath(container, '/exec'), { body: config });
  const id = typeof created?.Id === 'string' ? created.Id : '';
  if (id === '') throw new CliError('exec ID empty');
  const startBody = { Detach: detach, Tty: tty, ...(tty ? { ConsoleSize: consoleSize(ctx) } : {}) };
  if (detach) {
    await ctx.client.send('POST', execPath(id, '/start'), { body: startBody });
    return 0;
  }
  const connection = await ctx.client.hijack('POST', execPath(id, '/start'), { body: startBody });
  const stopResize = tty && isTerminal(ctx.io.stdin) ? monitorTtySize(ctx, { kind: 'exec', id }) : (): void => {};
  try {
    await runSession({
      connection,
      ...(attachStdin ? { stdin: ctx.io.stdin } : {}),
      stdout: ctx.io.stdout,
      stderr: tty ? ctx.io.stdout : ctx.io.stderr,
      tty,
      detachKeys: config.DetachKeys,
    });
  } finally {
    stopResize();
  }
  const inspect = await ctx.client.json<ExecInspect>('GET', execPath(id, '/json'));
  return typeof inspect?.ExitCode === 'number' ? inspect.ExitCode : 0;
}

function consoleSize(ctx: CommandContext): [number, number] {
  const { height, width } = ttySize(ctx.io.stdout);
  return [height, width];
}

export const containerExec: CommandSpec = {
  path: ['container', 'exec'],
  usage: '[OPTIONS] CONTAINER COMMAND [ARG...]',
  summary: 'Execute a command in a running container',
  flags: [
    { name: 'detach', short: 'd', type: 'bool', help: 'Detached mode: run command in the background' },
    { name: 'detach-keys', type: 'string', help: 'Override the key sequence for detaching a container' },
    { name: 'env', short: 'e', type: 'list', help: 'Set environment variables', validate: validateEnv },
    { name: 'env-file', type: 'list', help: 'Read in a file of environment variables' },
    { name: 'interactive', short: 'i', type: 'bool', help: 'Keep STDIN open even if not attached' },
    { name: 'privileged', type: 'bool', help: 'Give extended privileges to the command' },
    { name: 'tty', short: 't', type: 'bool', help: 'Allocate a pseudo-TTY' },
    { name: 'user', short: 'u', type: 'string', help: 'Username or UID (format: "<name|uid>[:<group|gid>]")' },
    { name: 'workdir', short: 'w', type: 'string', help: 'Working directory inside the container' },
  ],
  args: { min: 2 },
  interspersed: false,
  run,
};
