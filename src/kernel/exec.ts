/**
 * Running the kernel's own tools (ip, nft, sysctl …). Every spawn of such a tool in
 * berth goes through here, so failures carry the command and its stderr, and the
 * few places that must recognise a kernel answer by its text do so in one function.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { spawnViaHelper, type ToolOutcome } from './spawner.js';
import { systemError, BerthError } from '../errors.js';
import { guardStdio } from '../util/streams.js';

export interface RunOptions {
  /** Bytes written to the tool's stdin (ip -batch -, nft -f -). */
  input?: string;
  /** Run inside the network namespace bound at this path (nsenter --net=PATH). */
  netns?: string;
}

export class KernelCommandError extends BerthError {
  constructor(
    readonly argv: readonly string[],
    readonly stderr: string,
    readonly exitCode: number | null,
  ) {
    super('System', `${argv.join(' ')}: ${stderr.trim() || `exit code ${exitCode}`}`);
  }
}

/** BERTH_TRACE_EXEC=1: every tool run is written to stderr with its duration (perf work). */
const TRACE = process.env.BERTH_TRACE_EXEC === '1';

/** Run a tool with an argv array (never a shell string); resolve with its stdout. */
export async function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  const argv = opts.netns ? ['nsenter', `--net=${opts.netns}`, '--', cmd, ...args] : [cmd, ...args];
  if (!TRACE) return runArgv(argv, cmd, opts.input);
  const t0 = performance.now();
  const traced = runArgv(argv, cmd, opts.input);
  const line = (ok: boolean) => `exec ${(performance.now() - t0).toFixed(1)} ms${ok ? '' : ' (failed)'}: ${argv.join(' ')}${opts.input ? ` <<< ${JSON.stringify(opts.input.slice(0, 200))}` : ''}\n`;
  traced.then(
    () => process.stderr.write(line(true)),
    () => process.stderr.write(line(false)),
  );
  return traced;
}

async function runArgv(argv: readonly string[], cmd: string, input: string | undefined): Promise<string> {
  const viaHelper = await spawnViaHelper(argv, input ?? '');
  const o: ToolOutcome = viaHelper && viaHelper.kind !== 'unavailable' ? viaHelper : await spawnHere(argv, input);
  if (o.kind === 'failed') throw systemError(`cannot run ${cmd}: ${o.message}`);
  if (o.kind === 'exited' && o.code === 0) return o.stdout;
  throw new KernelCommandError(argv, o.stderr, o.kind === 'exited' ? o.code : null);
}

/** The daemon's own spawn(): when the helper is off or gone. */
async function spawnHere(argv: readonly string[], input?: string): Promise<ToolOutcome> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    guardStdio(child); // the tool may exit before reading all input; its exit tells the rest
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => resolve({ kind: 'failed', message: e.message }));
    child.on('close', (code, signal) => {
      const [stdout, stderr] = [Buffer.concat(out).toString(), Buffer.concat(err).toString()];
      resolve(code === null ? { kind: 'signaled', signal: signal ? osConstants.signals[signal] : 0, stdout, stderr } : { kind: 'exited', code, stdout, stderr });
    });
    child.stdin.end(input ?? '');
  });
}

/**
 * Start a tool that runs for a while and whose streams the caller reads and writes (runc
 * exec): stdout and stderr are pipes, stdin one when asked for; every stream has the
 * error listener an unhandled failure would otherwise end the daemon for.
 */
export function startTool(cmd: string, args: readonly string[], opts: { stdin: boolean }): ChildProcess {
  const child = spawn(cmd, args, { stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  guardStdio(child);
  return child;
}

/** Run a tool whose stdout is JSON (ip -json …). Empty output means an empty list. */
export async function runJson<T>(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<T[]> {
  const out = (await run(cmd, args, opts)).trim();
  return out === '' ? [] : (JSON.parse(out) as T[]);
}

/**
 * The one place that reads kernel error text: does this failure mean the object
 * is already gone (delete of a missing link/table) or already there?
 */
export function kernelSays(e: unknown, what: 'missing' | 'exists'): boolean {
  if (!(e instanceof KernelCommandError)) return false;
  const text = e.stderr;
  return what === 'missing'
    ? /Cannot find|does not exist|No such (file or directory|process|device)|Address not found|Cannot assign requested address|filter handle not found|specified priority\/protocol not found|must match existing qdisc/i.test(text)
    : /File exists|already exists|Exclusivity flag on/i.test(text);
}
