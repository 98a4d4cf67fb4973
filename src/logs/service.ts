/**
 * The containers' logging, as the engine and the API see it: the daemon's default
 * driver and options (reloaded on SIGHUP), each create's LogConfig settled against
 * them, a shipper per running container (opened before its process runs: a driver that
 * cannot start fails the start, as in Docker), the files `docker logs` reads, and what
 * a daemon restart picks up again.
 */
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { notImplemented, systemError } from '../errors.js';
import { bufferLimit, checkLogConfig, DEFAULT_LOG_CONFIG, DRIVERS, driverOptions, settleLogConfig, usesCache, type LogConfig } from './config.js';
import { Delivery } from './delivery.js';
import type { Destination, DriverContext } from './driver.js';
import { fileSetFor, FileSink, logFilePath, parseLocal, type FileFormat } from './drivers/files.js';
import type { RotationPolicy } from './files/writer.js';
import type { LogFileSet } from './files/file-set.js';
import type { LogInfo } from './info.js';
import { Shipper } from './shipper.js';
import { Spool } from './spool.js';
import { UnixgramSender } from './transport/unixgram.js';

/** What the service is told about a container. */
export interface LoggedContainer {
  id: string;
  config: LogConfig;
  /** Facts for the drivers (tags, fields); built by the engine. */
  info: Omit<LogInfo, 'config' | 'hostname'>;
}

export interface LogServiceDeps {
  /** The container's folder (its log files live there). */
  containerDir(id: string): string;
  /** Ask conmon to start a fresh spool file. */
  reopenSpool(id: string): Promise<void>;
  log: { info(msg: string): void; warn(msg: string): void };
  /** journald's socket (BERTH_JOURNAL_SOCKET in tests). */
  journalSocket?: string;
}

/** conmon's own limit on the spool while no daemon takes from it. */
export const SPOOL_MAX_BYTES = 64 * 1024 * 1024;
/** How long an exited container's destination may take for what is still queued. */
const DRAIN_MS = 5000;

interface Running {
  shipper: Shipper;
  delivery: Delivery | null;
}

export class LogService {
  private defaults: LogConfig = DEFAULT_LOG_CONFIG;
  private readonly running = new Map<string, Running>();
  private readonly sets = new Map<string, LogFileSet>();
  private readonly unixgrams = new Map<string, UnixgramSender>();
  private readonly ctx: DriverContext;

  constructor(private readonly deps: LogServiceDeps) {
    this.ctx = {
      journalSocket: deps.journalSocket ?? '/run/systemd/journal/socket',
      pid: process.pid,
      unixgram: (path) => UnixgramSender.acquire(this.unixgrams, path),
      warn: (m) => deps.log.warn(m),
    };
  }

  /** The daemon's --log-driver and --log-opt; throws "failed to set log opts: …" as dockerd. */
  setDefaults(c: LogConfig): void {
    try {
      checkLogConfig(c.type, c.config);
    } catch (e: unknown) {
      throw new Error(Object.keys(c.config).length > 0 ? `failed to set log opts: ${(e as Error).message}` : (e as Error).message);
    }
    this.defaults = { type: c.type, config: { ...c.config } };
  }

  get defaultConfig(): LogConfig {
    return this.defaults;
  }

  /** A create's LogConfig with the daemon's defaults; InvalidParameter with Docker's words. */
  settle(requested: { type: string; config: Readonly<Record<string, string>> | null }): LogConfig {
    return settleLogConfig(requested, this.defaults);
  }

  /** conmon's file for the container (null: the none driver, conmon keeps nothing). */
  spoolPath(id: string, config: LogConfig): string | null {
    return config.type === 'none' ? null : join(this.deps.containerDir(id), 'container.log');
  }

  /** inspect's LogPath: the json-file's path, else "" (as dockerd). */
  logPath(id: string, config: LogConfig): string {
    return config.type === 'json-file' ? logFilePath(this.deps.containerDir(id), id, 'json-file') : '';
  }

  /**
   * Before the container's process runs: open its driver (a failure fails the start,
   * with Docker's "failed to initialize logging driver: …") and start shipping.
   */
  async starting(c: LoggedContainer): Promise<void> {
    await this.open(c, true);
  }

  /** After a daemon restart, for a container still running: ship again from where the last daemon stopped. */
  restored(c: LoggedContainer): void {
    this.open(c, false).catch((e: unknown) => this.warn(c, `${(e as Error).message}`));
  }

  /** After the daemon restarted: an exited container's spool not yet shipped goes to its files now. */
  async leftover(c: LoggedContainer): Promise<void> {
    const spool = this.spoolPath(c.id, c.config);
    if (spool === null || this.running.has(c.id) || !existsSync(spool)) return;
    await this.open(c, false);
    await this.exited(c.id);
  }

  /** The container's process exited: ship the rest (awaited), let the destination drain (not awaited). */
  async exited(id: string): Promise<void> {
    const r = this.running.get(id);
    if (!r) return;
    this.running.delete(id);
    await r.shipper.finish();
    void r.delivery?.close(DRAIN_MS);
  }

  /** The container is being removed. */
  async removed(id: string): Promise<void> {
    await this.exited(id);
    this.sets.delete(id);
  }

  /** Everything conmon wrote so far is in the files (before `docker logs` reads them). */
  async sync(id: string, timeoutMs = 2000): Promise<void> {
    const r = this.running.get(id);
    if (!r) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([r.shipper.sync(), new Promise<void>((res) => (timer = setTimeout(res, timeoutMs)))]);
    clearTimeout(timer);
  }

  /** The files `docker logs` reads; NotImplemented (501) as dockerd when there are none. */
  reader(c: { id: string; config: LogConfig }): LogFileSet {
    const where = this.fileFor(c.id, c.config);
    if (!where) throw notImplemented('configured logging driver does not support reading');
    return this.setOf(c.id, where.path, where.format);
  }

  /** Stop everything (daemon shutdown): shippers stop where they are, their positions saved; a restart resumes them. */
  async close(): Promise<void> {
    const all = [...this.running.values()];
    this.running.clear();
    let timer: NodeJS.Timeout | undefined;
    const stops = Promise.all(all.map(async (r) => r.shipper.stop()));
    await Promise.race([stops, new Promise<void>((res) => (timer = setTimeout(res, 2000)))]);
    clearTimeout(timer);
    await Promise.all(all.map(async (r) => r.delivery?.close(0)));
  }

  private async open(c: LoggedContainer, failStart: boolean): Promise<void> {
    const spoolPath = this.spoolPath(c.id, c.config);
    if (spoolPath === null || this.running.has(c.id)) return;
    const info: LogInfo = { ...c.info, config: c.config.config, hostname: hostname() };
    const driver = DRIVERS[c.config.type];
    if (!driver) throw systemError(`failed to initialize logging driver: logger: no log driver named '${c.config.type}' is registered`);
    let dest: Destination | null = null;
    try {
      const parsed = driver.parse(driverOptions(c.config.config));
      dest = driver.destination?.(info, parsed, this.ctx) ?? null;
      if (dest) {
        if (failStart) await dest.connect();
        else dest.connect().catch((e: unknown) => this.warn(c, `${driver.name}: ${(e as Error).message}`));
      }
    } catch (e: unknown) {
      await dest?.close();
      throw systemError(`failed to initialize logging driver: ${(e as Error).message}`);
    }
    let sink: FileSink | null = null;
    const file = this.fileFor(c.id, c.config);
    try {
      if (file) {
        const policy = file.cache ? parseLocal(c.config.config, 'cache-') : (driver.parse(driverOptions(c.config.config)) as RotationPolicy);
        sink = await FileSink.open(this.setOf(c.id, file.path, file.format), file.format, policy, file.cache ? null : info, (m) => this.warn(c, m));
      }
    } catch (e: unknown) {
      await dest?.close();
      throw systemError(`failed to initialize logging driver: ${(e as Error).message}`);
    }
    const limits = { bytes: bufferLimit(c.config), ...(dest && 'bufferLimit' in dest ? { messages: (dest as { bufferLimit: number }).bufferLimit } : {}) };
    const delivery = dest ? new Delivery(dest, limits, (m) => this.warn(c, `${driver.name}: ${m}`)) : null;
    const shipper = new Shipper({
      spool: new Spool(spoolPath),
      sink,
      delivery,
      reopenSpool: async () => this.deps.reopenSpool(c.id),
      warn: (m) => this.warn(c, m),
    });
    this.running.set(c.id, { shipper, delivery });
  }

  /** Where `docker logs` reads the container's output, if anywhere. */
  private fileFor(id: string, config: LogConfig): { path: string; format: FileFormat; cache: boolean } | null {
    const dir = this.deps.containerDir(id);
    if (config.type === 'json-file' || config.type === 'local') return { path: logFilePath(dir, id, config.type), format: config.type, cache: false };
    if (usesCache(config)) return { path: logFilePath(dir, id, 'cache'), format: 'local', cache: true };
    return null;
  }

  private setOf(id: string, path: string, format: FileFormat): LogFileSet {
    let s = this.sets.get(id);
    if (!s || s.path !== path) {
      s = fileSetFor(path, format);
      this.sets.set(id, s);
    }
    return s;
  }

  private warn(c: LoggedContainer, msg: string): void {
    this.deps.log.warn(`logs of ${c.info.containerName.replace(/^\//, '')} (${c.id.slice(0, 12)}): ${msg}`);
  }
}
