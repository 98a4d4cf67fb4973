/**
 * fluentd's forward protocol, as Docker's driver (fluent-logger-golang) speaks it: each
 * line one msgpack message [tag, time, record, option] over TCP, TLS or a unix socket,
 *
 *   record  {"container_id", "container_name" (with its "/"), "source", "log"} and the
 *           labels/env attributes; pieces of a long line add partial_message, partial_id,
 *           partial_ordinal, partial_last
 *   time    whole seconds, or EventTime with nanoseconds (fluentd-sub-second-precision)
 *   option  {"chunk": id} with fluentd-request-ack, and the server's {"ack": id} awaited
 *
 * Connected at start unless fluentd-async (then the start never waits for it); a failed
 * write reconnects, fluentd-retry-wait apart growing by half each time (at most 60 s),
 * up to fluentd-max-retries times. fluentd-buffer-limit bounds the messages waiting.
 */
import { randomBytes } from 'node:crypto';
import type { Destination, LogDriver, LogOpts } from '../driver.js';
import { extraAttributes, logTag, type LogInfo } from '../info.js';
import { parseBool, parseDuration, parseUint32, ramInBytes } from '../go-parse.js';
import type { LogMessage } from '../message.js';
import { decodeAck, EventTime, pack, Writer, type Packable } from '../codecs/msgpack.js';
import { StreamConn, type StreamTarget } from '../transport/stream.js';

export interface FluentdConfig {
  target: StreamTarget;
  async: boolean;
  /** Messages that may wait (Docker's BufferLimit counts messages). */
  bufferLimit: number;
  retryWaitMs: number;
  maxRetries: number;
  subSecond: boolean;
  requestAck: boolean;
  writeTimeoutMs: number;
  asyncReconnectMs: number;
}

const MAX_RETRY_WAIT_MS = 60_000;

export const fluentdDriver: LogDriver<FluentdConfig> = {
  name: 'fluentd',
  keys: [
    'fluentd-address', 'fluentd-async', 'fluentd-async-reconnect-interval', 'fluentd-buffer-limit', 'fluentd-max-retries',
    'fluentd-request-ack', 'fluentd-retry-wait', 'fluentd-sub-second-precision', 'fluentd-write-timeout', 'fluentd-read-timeout',
  ],
  unknownKey: (k) => `unknown log opt '${k}' for fluentd log driver`,
  readable: false,
  parse: parseFluentd,
  destination: (info, config) => new Fluentd(info, config),
};

function parseFluentd(opts: LogOpts): FluentdConfig {
  let target: StreamTarget;
  try {
    target = parseAddress(opts['fluentd-address'] ?? '');
  } catch (e: unknown) {
    throw new Error(`invalid fluentd-address (${opts['fluentd-address'] ?? ''}): ${(e as Error).message}`);
  }
  const set = (k: string): string | undefined => (opts[k] ? opts[k] : undefined);
  const duration = (k: string, v: string): number => {
    const ms = parseDuration(v);
    if (ms < 0) throw new Error(`invalid value for ${k}: value must be a duration that is non-negative`);
    return ms;
  };
  const c: FluentdConfig = {
    target,
    async: set('fluentd-async') ? parseBool(opts['fluentd-async']!) : false,
    bufferLimit: set('fluentd-buffer-limit') ? ramInBytes(opts['fluentd-buffer-limit']!) : 1024 * 1024,
    retryWaitMs: set('fluentd-retry-wait') ? Math.trunc(parseDuration(opts['fluentd-retry-wait']!)) : 1000,
    maxRetries: 2147483647,
    subSecond: set('fluentd-sub-second-precision') ? parseBool(opts['fluentd-sub-second-precision']!) : false,
    requestAck: set('fluentd-request-ack') ? parseBool(opts['fluentd-request-ack']!) : false,
    writeTimeoutMs: 0,
    asyncReconnectMs: 0,
  };
  if (set('fluentd-max-retries')) {
    const n = parseUint32(opts['fluentd-max-retries']!);
    if (n > 2147483647) throw new Error('invalid fluentd-max-retries: value out of range');
    c.maxRetries = n;
  }
  const interval = set('fluentd-async-reconnect-interval');
  if (interval) {
    let ms: number;
    try {
      ms = parseDuration(interval);
    } catch (e: unknown) {
      throw new Error(`invalid value for fluentd-async-reconnect-interval: ${(e as Error).message}`);
    }
    if (ms !== 0 && (ms < 100 || ms > 10_000)) {
      throw new Error(`invalid value for fluentd-async-reconnect-interval: value ("${interval}") must be between 100ms and 10s`);
    }
    c.asyncReconnectMs = ms;
  }
  for (const k of ['fluentd-write-timeout', 'fluentd-read-timeout']) {
    const v = set(k);
    if (!v) continue;
    let ms: number;
    try {
      ms = duration(k, v);
    } catch (e: unknown) {
      if ((e as Error).message.startsWith('invalid value')) throw e;
      throw new Error(`invalid value for ${k}: value must be a duration: ${(e as Error).message}`);
    }
    if (k === 'fluentd-write-timeout') c.writeTimeoutMs = ms;
  }
  return c;
}

function parseAddress(address: string): StreamTarget {
  if (address === '') return { kind: 'tcp', host: '127.0.0.1', port: 24224 };
  const full = address.includes('://') ? address : `tcp://${address}`;
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)([^?#]*)/.exec(full);
  if (!m) throw new Error(`parse ${JSON.stringify(full)}: invalid URI`);
  const scheme = m[1]!.toLowerCase();
  if (scheme === 'unix') {
    if (m[3]!.replace(/^\/+/, '') === '') throw new Error('path is empty');
    return { kind: 'unix', path: m[3]! };
  }
  if (scheme !== 'tcp' && scheme !== 'tls') throw new Error(`unsupported scheme: '${scheme}'`);
  if (m[3] !== '') throw new Error('should not contain a path element');
  const hp = /^(?:\[([^\]]*)\]|([^:[\]]*))(?::(.*))?$/.exec(m[2]!);
  const host = hp?.[1] ?? hp?.[2] ?? '';
  let port = 24224;
  if (hp?.[3]) {
    if (!/^\d+$/.test(hp[3]) || Number(hp[3]) > 65535) throw new Error(`invalid port: strconv.ParseUint: parsing ${JSON.stringify(hp[3])}: invalid syntax`);
    port = Number(hp[3]);
  }
  const h = host || '127.0.0.1';
  return scheme === 'tls' ? { kind: 'tls', host: h, port, tls: { rejectUnauthorized: true } } : { kind: 'tcp', host: h, port };
}

/** The record of one message. */
export function fluentdRecord(m: LogMessage, info: { id: string; name: string }, extra: Readonly<Record<string, string>>): Record<string, Packable> {
  const r: Record<string, Packable> = { container_id: info.id, container_name: info.name, source: m.stream, log: m.line, ...extra };
  if (m.partial) {
    r.partial_message = 'true';
    r.partial_id = m.partial.id;
    r.partial_ordinal = String(m.partial.ordinal);
    r.partial_last = String(m.partial.last);
  }
  return r;
}

/** One forward-mode message: [tag, time, record, option]. */
export function fluentdMessage(tag: string, m: LogMessage, record: Record<string, Packable>, subSecond: boolean, chunk?: string): Buffer {
  const time = subSecond ? new EventTime(m.time.sec, m.time.nsec) : m.time.sec;
  return pack([tag, time, record, chunk ? { chunk } : {}]);
}

/**
 * The same messages for one container, faster: the tag and the record's fixed pairs
 * (container_id, container_name, the attributes) are packed once.
 */
export class FluentdEncoder {
  private readonly tag: Buffer;
  private readonly fixed: Buffer;
  private readonly fixedPairs: number;

  constructor(tag: string, who: { id: string; name: string }, extra: Readonly<Record<string, string>>) {
    this.tag = pack(tag);
    const pairs: Record<string, string> = { container_id: who.id, container_name: who.name, ...extra };
    delete pairs.source;
    delete pairs.log;
    this.fixedPairs = Object.keys(pairs).length;
    this.fixed = Buffer.concat(Object.entries(pairs).map(([k, v]) => Buffer.concat([pack(k), pack(v)])));
  }

  encode(m: LogMessage, subSecond: boolean, chunk?: string): Buffer {
    const w = new Writer();
    w.arrayHeader(4);
    w.raw(this.tag);
    w.value(subSecond ? new EventTime(m.time.sec, m.time.nsec) : m.time.sec);
    w.mapHeader(this.fixedPairs + 2 + (m.partial ? 4 : 0));
    w.raw(this.fixed);
    w.value('source');
    w.value(m.stream);
    w.value('log');
    w.value(m.line);
    if (m.partial) {
      for (const [k, v] of [['partial_message', 'true'], ['partial_id', m.partial.id], ['partial_ordinal', String(m.partial.ordinal)], ['partial_last', String(m.partial.last)]]) {
        w.value(k!);
        w.value(v!);
      }
    }
    w.value(chunk ? { chunk } : {});
    return w.finish();
  }
}

class Fluentd implements Destination {
  private readonly encoder: FluentdEncoder;
  private readonly conn: StreamConn;
  private acks: Buffer = Buffer.alloc(0);
  private ackWaiter: ((ack: string | Error) => void) | null = null;
  private connectedAt = 0;
  private closed = false;

  constructor(
    info: LogInfo,
    private readonly config: FluentdConfig,
  ) {
    this.encoder = new FluentdEncoder(logTag(info, '{{.ID}}'), { id: info.containerId, name: info.containerName }, extraAttributes(info));
    this.conn = new StreamConn(config.target);
  }

  /** Messages that may wait in front of it (fluentd-buffer-limit). */
  get bufferLimit(): number {
    return this.config.bufferLimit;
  }

  async connect(): Promise<void> {
    if (this.config.async) return; // connects when the first message goes
    await this.open();
  }

  async send(batch: readonly LogMessage[]): Promise<void> {
    for (const m of batch) {
      const chunk = this.config.requestAck ? randomBytes(16).toString('base64') : undefined;
      const data = this.encoder.encode(m, this.config.subSecond, chunk);
      await this.writeWithRetry(data, chunk);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.conn.close();
    this.ackWaiter?.(new Error('closed'));
  }

  private async open(): Promise<void> {
    await this.conn.connect((b) => this.onData(b));
    this.connectedAt = Date.now();
    this.acks = Buffer.alloc(0);
  }

  private async writeWithRetry(data: Buffer, chunk: string | undefined): Promise<void> {
    const { maxRetries, retryWaitMs, asyncReconnectMs } = this.config;
    let last: unknown = new Error('not sent');
    for (let i = 0; i < Math.max(1, maxRetries) && !this.closed; i++) {
      try {
        if (asyncReconnectMs > 0 && this.conn.connected && Date.now() - this.connectedAt > asyncReconnectMs) this.conn.close();
        if (!this.conn.connected) await this.open();
        await this.timed(this.conn.write(data));
        if (chunk) await this.timed(this.ack(chunk));
        return;
      } catch (e: unknown) {
        last = e;
        this.conn.close();
        const wait = Math.min(MAX_RETRY_WAIT_MS, retryWaitMs * 1.5 ** (i - 1));
        await new Promise((r) => setTimeout(r, wait));
      }
    }
    throw new Error(`fluent#write: failed to write after ${maxRetries} attempts: ${(last as Error).message}`);
  }

  /** fluentd-write-timeout: a write that takes longer fails (and is retried). */
  private async timed<T>(p: Promise<T>): Promise<T> {
    const ms = this.config.writeTimeoutMs;
    if (ms <= 0) return p;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([p, new Promise<never>((_r, reject) => (timer = setTimeout(() => reject(new Error('i/o timeout')), ms)))]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async ack(chunk: string): Promise<void> {
    const got = await new Promise<string | Error>((resolve) => {
      this.ackWaiter = resolve;
      this.onData(Buffer.alloc(0));
    });
    this.ackWaiter = null;
    if (got instanceof Error) throw got;
    if (got !== chunk) throw new Error(`ack in response and chunk id in request are different: ack=${got} chunk=${chunk}`);
  }

  private onData(b: Buffer): void {
    this.acks = this.acks.length > 0 ? Buffer.concat([this.acks, b]) : b;
    if (!this.ackWaiter) return;
    try {
      const r = decodeAck(this.acks);
      if (!r) return;
      this.acks = this.acks.subarray(r.used);
      this.ackWaiter(r.ack);
    } catch (e: unknown) {
      this.ackWaiter(e as Error);
    }
  }
}
