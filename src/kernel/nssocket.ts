/**
 * Sockets that live in another network namespace but are served by the daemon.
 *
 * A socket belongs to the namespace of the thread that created it, and Node cannot
 * switch namespaces, so a helper does it: `nsenter --net=<ns> node nssocket-child.js`,
 * forked with an IPC channel (fork's execPath is setpriv, execArgv carries setpriv's and
 * nsenter's arguments and the path of node; the channel's fd survives the execs).
 * setpriv's parent-death signal kills the helper the moment the daemon dies: a helper
 * outliving a SIGKILLed daemon would keep 127.0.0.11:53 bound in the container's
 * namespace, and the restarted daemon could not serve it again. The helper binds
 * or connects what it is asked for and passes each socket back over the channel
 * (SCM_RIGHTS, via process.send(msg, handle)); the daemon then serves it from its own
 * event loop and the helper's copy is closed. The helper starts in tens of
 * milliseconds (Node's start-up), so callers keep one alive while they need it
 * (`NetnsAgent`) or use `openSocketsInNetns` for one batch.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { fileURLToPath } from 'node:url';
import { systemError } from '../errors.js';
import { guardStdio, ignoreStreamErrors } from '../util/streams.js';

export type SocketSpec =
  /** A UDP socket bound to address:port (port 0: any). Optional: undefined if it fails. */
  | { readonly kind: 'udp4' | 'udp6'; readonly address: string; readonly port: number; readonly optional?: boolean }
  /** A listening TCP socket. */
  | { readonly kind: 'tcp-listen'; readonly address: string; readonly port: number; readonly backlog?: number }
  /** A TCP connection made from inside the namespace. */
  | { readonly kind: 'tcp-connect'; readonly address: string; readonly port: number; readonly timeoutMs?: number };

export type HandleFor<S extends SocketSpec> = S extends { kind: 'udp4' | 'udp6' }
  ? S extends { optional: true }
    ? dgram.Socket | undefined
    : dgram.Socket
  : S extends { kind: 'tcp-listen' }
    ? net.Server
    : net.Socket;

export type HandlesFor<S extends readonly SocketSpec[]> = { -readonly [K in keyof S]: S[K] extends SocketSpec ? HandleFor<S[K]> : never };

export type NsHandle = dgram.Socket | net.Server | net.Socket;

/** Messages between the daemon and the helper (JSON over the IPC channel). */
export type AgentRequest = { op: 'open'; id: number; specs: SocketSpec[] };
export type AgentReply =
  | { kind: 'handle'; id: number; index: number }
  | { kind: 'absent'; id: number; index: number; message: string }
  | { kind: 'error'; id: number; index: number; message: string };

function isAgentReply(m: unknown): m is AgentReply {
  if (typeof m !== 'object' || m === null) return false;
  const r = m as Record<string, unknown>;
  return (r.kind === 'handle' || r.kind === 'absent' || r.kind === 'error') && typeof r.id === 'number' && typeof r.index === 'number';
}

interface PendingOpen {
  specs: readonly SocketSpec[];
  results: Array<NsHandle | undefined>;
  remaining: number;
  resolve: (handles: Array<NsHandle | undefined>) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

const CHILD = fileURLToPath(new URL('./nssocket-child.js', import.meta.url));

export function describeSpec(s: SocketSpec): string {
  const host = s.address.includes(':') ? `[${s.address}]` : s.address;
  return `${s.kind} ${host}:${s.port}`;
}

function closeHandle(h: NsHandle | undefined): void {
  try {
    if (h instanceof dgram.Socket) h.close();
    else if (h instanceof net.Server) h.close();
    else h?.destroy();
  } catch {
    // already closed
  }
}

function matchesSpec(h: unknown, s: SocketSpec): h is NsHandle {
  if (s.kind === 'udp4' || s.kind === 'udp6') return h instanceof dgram.Socket;
  if (s.kind === 'tcp-listen') return h instanceof net.Server;
  return h instanceof net.Socket;
}

/**
 * A helper process inside one network namespace that opens sockets on request.
 * Start it, call `open` as often as needed, `close()` when done (idempotent).
 */
export class NetnsAgent {
  private readonly pending = new Map<number, PendingOpen>();
  private nextId = 1;
  private stderr = '';
  private exited: string | undefined;

  private constructor(
    readonly nsPath: string,
    private readonly child: ChildProcess,
    private readonly timeoutMs: number,
  ) {
    guardStdio(child);
    child.stderr?.on('data', (b: Buffer) => {
      if (this.stderr.length < 4096) this.stderr += b.toString();
    });
    child.on('message', (m: unknown, handle: unknown) => this.onMessage(m, handle));
    child.on('error', (e: Error) => this.onGone(e.message));
    // 'close' rather than 'exit': nsenter's stderr has been read by then.
    child.on('close', (code, signal) => this.onGone(`helper exited (${signal ?? `code ${code}`})`));
  }

  /** Fork the helper into the namespace at `nsPath`. Failures surface on `open`. */
  static start(nsPath: string, opts: { timeoutMs?: number } = {}): NetnsAgent {
    const child = fork(CHILD, [nsPath], {
      execPath: 'setpriv',
      execArgv: ['--pdeathsig', 'KILL', '--', 'nsenter', `--net=${nsPath}`, '--', process.execPath],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'json',
    });
    return new NetnsAgent(nsPath, child, opts.timeoutMs ?? 10_000);
  }

  /** Whether the helper still runs (and can take requests). */
  get alive(): boolean {
    return this.exited === undefined;
  }

  /**
   * Open `specs` inside the namespace; resolves with the handles in the same order.
   * All or nothing: on failure, handles already received are closed.
   */
  async open<const S extends readonly SocketSpec[]>(specs: S): Promise<HandlesFor<S>> {
    return new Promise<Array<NsHandle | undefined>>((resolve, reject) => {
      if (this.exited !== undefined) return reject(this.failure(this.exited));
      if (specs.length === 0) return resolve([]);
      const id = this.nextId++;
      const timer = setTimeout(() => this.settle(id, this.failure(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      this.pending.set(id, { specs, results: new Array(specs.length), remaining: specs.length, resolve, reject, timer });
      const req: AgentRequest = { op: 'open', id, specs: [...specs] };
      this.child.send(req, (e: Error | null) => {
        // A helper that could not start breaks the channel before its exit is seen:
        // give the exit (and nsenter's message) a moment to arrive.
        if (e) setTimeout(() => this.settle(id, this.failure(e.message)), 500).unref();
      });
    }) as Promise<HandlesFor<S>>;
  }

  /** Stop the helper. Idempotent; pending requests fail. */
  close(): void {
    this.onGone('helper closed');
    if (this.child.connected) this.child.disconnect();
    if (this.child.exitCode === null && this.child.signalCode === null) {
      // The helper exits on disconnect; make sure of it.
      setTimeout(() => {
        if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
      }, 2000).unref();
    }
  }

  private onMessage(m: unknown, handle: unknown): void {
    if (!isAgentReply(m)) return closeHandle(handle as NsHandle | undefined);
    const p = this.pending.get(m.id);
    const spec = p?.specs[m.index];
    if (p === undefined || spec === undefined) {
      if (handle !== undefined) closeHandle(handle as NsHandle);
      return;
    }
    if (m.kind === 'error') return this.settle(m.id, systemError(`cannot open ${describeSpec(spec)} in ${this.nsPath}: ${m.message}`));
    if (m.kind === 'handle' && !matchesSpec(handle, spec)) {
      closeHandle(handle as NsHandle | undefined);
      return this.settle(m.id, systemError(`helper sent no ${spec.kind} socket for ${describeSpec(spec)}`));
    }
    // A connection may be reset before its user listens: that user learns it from 'close'.
    if (handle instanceof net.Socket) ignoreStreamErrors(handle);
    p.results[m.index] = m.kind === 'handle' ? (handle as NsHandle) : undefined;
    if (--p.remaining === 0) this.settle(m.id, undefined);
  }

  private settle(id: number, error: Error | undefined): void {
    const p = this.pending.get(id);
    if (p === undefined) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (error === undefined) return p.resolve(p.results);
    for (const h of p.results) closeHandle(h);
    p.reject(error);
  }

  private onGone(reason: string): void {
    if (this.exited === undefined) this.exited = reason;
    for (const id of [...this.pending.keys()]) this.settle(id, this.failure(reason));
  }

  private failure(reason: string): Error {
    const detail = this.stderr.trim();
    return systemError(`socket helper in ${this.nsPath}: ${reason}${detail ? `: ${detail}` : ''}`);
  }
}

/** Open one batch of sockets in a namespace with a short-lived helper. */
export async function openSocketsInNetns<const S extends readonly SocketSpec[]>(nsPath: string, specs: S): Promise<HandlesFor<S>> {
  const agent = NetnsAgent.start(nsPath);
  try {
    return await agent.open(specs);
  } finally {
    agent.close();
  }
}
