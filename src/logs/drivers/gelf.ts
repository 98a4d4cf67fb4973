/**
 * GELF 1.1, as Docker's driver (go-gelf) sends it. Each line (empty ones skipped) is
 *
 *   {"version":"1.1","host":H,"short_message":LINE,"timestamp":SECONDS.MILLIS,"level":6|3,
 *    "_command":…,"_container_id":…,"_container_name":…,"_created":…,"_image_id":…,
 *    "_image_name":…,"_tag":…, and the labels/env attributes as "_<key>"}
 *
 * Over UDP compressed (gzip by default, at speed, or zlib, or none) and, past 1420
 * bytes, cut into chunks: 0x1e 0x0f, an 8-byte message ID, the chunk's number and the
 * count, then 1408 bytes (128 chunks at most). Over TCP uncompressed, each message ended
 * by a zero byte; a failed write reconnects (gelf-tcp-max-reconnect times, 3 by default,
 * gelf-tcp-reconnect-delay seconds apart, 1 by default).
 */
import { randomBytes } from 'node:crypto';
import { constants, deflateSync, gzipSync } from 'node:zlib';
import type { Destination, LogDriver, LogOpts } from '../driver.js';
import { goJsonBytes, goJsonString } from '../go-json.js';
import { atoi } from '../go-parse.js';
import { command, extraAttributes, logTag, plainName, type LogInfo } from '../info.js';
import { byBytes } from '../go-json.js';
import { parseRfc3339, rfc3339Nano, timeToMs, type LogMessage } from '../message.js';
import { StreamConn, UdpConn } from '../transport/stream.js';

export interface GelfConfig {
  proto: 'udp' | 'tcp';
  host: string;
  port: number;
  compression: 'gzip' | 'zlib' | 'none';
  level: number;
  maxReconnect: number;
  reconnectDelayMs: number;
}

export const CHUNK_SIZE = 1420;
const CHUNK_HEADER = 12;
const CHUNK_DATA = CHUNK_SIZE - CHUNK_HEADER;

export const gelfDriver: LogDriver<GelfConfig> = {
  name: 'gelf',
  keys: ['gelf-address', 'gelf-compression-level', 'gelf-compression-type', 'gelf-tcp-max-reconnect', 'gelf-tcp-reconnect-delay'],
  unknownKey: (k) => `unknown log opt ${JSON.stringify(k)} for gelf log driver`,
  readable: false,
  parse: parseGelf,
  destination: (info, config) => new Gelf(info, config),
};

function parseGelf(opts: LogOpts): GelfConfig {
  const address = opts['gelf-address'] ?? '';
  if (address === '') throw new Error('gelf-address is a required parameter');
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)/.exec(address);
  const scheme = m?.[1]?.toLowerCase();
  if (scheme !== 'udp' && scheme !== 'tcp') throw new Error('gelf: endpoint needs to be TCP or UDP');
  const hp = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d*)$/.exec(m![2]!);
  if (!hp) throw new Error('gelf: please provide gelf-address as proto://host:port');
  const c: GelfConfig = { proto: scheme, host: hp[1] ?? hp[2]!, port: Number(hp[3]), compression: 'gzip', level: 1, maxReconnect: 3, reconnectDelayMs: 1000 };
  const unknownValue = (k: string, v: string): Error => new Error(`unknown value ${JSON.stringify(v)} for log opt ${JSON.stringify(k)} for gelf log driver`);
  for (const [k, v] of Object.entries(opts)) {
    if (k === 'gelf-compression-level' || k === 'gelf-compression-type') {
      if (scheme !== 'udp') throw new Error('compression is only supported on UDP');
      if (k === 'gelf-compression-type') {
        if (v !== 'gzip' && v !== 'zlib' && v !== 'none') throw unknownValue(k, v);
        c.compression = v;
      } else {
        const n = /^[+-]?\d+$/.test(v) ? Number(v) : NaN;
        if (!(n >= -1 && n <= 9)) throw unknownValue(k, v);
        c.level = n;
      }
    } else if (k === 'gelf-tcp-max-reconnect' || k === 'gelf-tcp-reconnect-delay') {
      if (scheme !== 'tcp') throw new Error(`${JSON.stringify(k)} is only valid for TCP`);
      let n = -1;
      try {
        n = atoi(v);
      } catch {
        /* below */
      }
      if (n < 0) throw new Error(`${JSON.stringify(k)} must be a positive integer`);
      if (k === 'gelf-tcp-max-reconnect') c.maxReconnect = n;
      else c.reconnectDelayMs = n * 1000;
    }
  }
  return c;
}

/** The fields every message of the container carries, as Go marshals the map: keys sorted. */
export function gelfExtra(info: LogInfo): string {
  const extra: Record<string, string> = {
    _container_id: info.containerId,
    _container_name: plainName(info),
    _image_id: info.imageId,
    _image_name: info.imageName,
    _command: command(info),
    _tag: logTag(info, '{{.ID}}'),
    _created: createdText(info.created),
  };
  Object.assign(extra, extraAttributes(info, (k) => (k.startsWith('_') ? k : `_${k}`)));
  return Object.keys(extra)
    .sort(byBytes)
    .map((k) => `${goJsonString(k)}:${goJsonString(extra[k]!)}`)
    .join(',');
}

/** Go's encoding of a time.Time: RFC 3339 with the fraction's trailing zeros dropped. */
function createdText(created: string): string {
  const t = parseRfc3339(created);
  return t ? rfc3339Nano(t) : created;
}

/** The message's JSON. */
export function gelfJson(m: LogMessage, host: string, extra: string): Buffer {
  const seconds = Math.floor(timeToMs(m.time)) / 1000;
  const level = m.stream === 'stderr' ? 3 : 6;
  const head = `{"version":"1.1","host":${goJsonString(host)},"short_message":${goJsonBytes(m.line)},"timestamp":${seconds},"level":${level}`;
  return Buffer.from(`${head}${extra ? `,${extra}` : ''}}`, 'utf8');
}

/** The datagrams of one UDP message: compressed, then chunked past CHUNK_SIZE. */
export function gelfDatagrams(json: Buffer, compression: GelfConfig['compression'], level: number): Buffer[] {
  const z = level === -1 ? constants.Z_DEFAULT_COMPRESSION : level;
  const body = compression === 'gzip' ? gzipSync(json, { level: z }) : compression === 'zlib' ? deflateSync(json, { level: z }) : json;
  if (body.length <= CHUNK_SIZE) return [body];
  // go-gelf's count: one more than the whole chunks (so an exact multiple ends with an empty one).
  const count = Math.floor(body.length / CHUNK_DATA) + 1;
  if (count > 128) throw new Error(`msg too large, would need ${count} chunks`);
  const id = randomBytes(8);
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const head = Buffer.from([0x1e, 0x0f, ...id, i, count]);
    out.push(Buffer.concat([head, body.subarray(i * CHUNK_DATA, (i + 1) * CHUNK_DATA)]));
  }
  return out;
}

class Gelf implements Destination {
  private readonly extra: string;
  private readonly host: string;
  private udp: UdpConn | null = null;
  private tcp: StreamConn | null = null;

  constructor(
    info: LogInfo,
    private readonly config: GelfConfig,
  ) {
    this.extra = gelfExtra(info);
    this.host = info.hostname;
  }

  async connect(): Promise<void> {
    const { proto, host, port } = this.config;
    const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    try {
      if (proto === 'udp') this.udp = await UdpConn.open(host, port);
      else {
        this.tcp = new StreamConn({ kind: 'tcp', host, port });
        await this.tcp.connect();
      }
    } catch (e: unknown) {
      throw new Error(`gelf: cannot connect to GELF endpoint: ${where} ${(e as Error).message}`);
    }
  }

  async send(batch: readonly LogMessage[]): Promise<void> {
    for (const m of batch) {
      if (m.line.length === 0) continue;
      const json = gelfJson(m, this.host, this.extra);
      if (this.config.proto === 'udp') {
        this.udp ??= await UdpConn.open(this.config.host, this.config.port);
        for (const d of gelfDatagrams(json, this.config.compression, this.config.level)) await this.udp.send(d);
      } else await this.sendTcp(Buffer.concat([json, Buffer.from([0])]));
    }
  }

  /** go-gelf's TCP writer: write; on failure wait, reconnect, write again, up to maxReconnect times. */
  private async sendTcp(data: Buffer): Promise<void> {
    const { maxReconnect, reconnectDelayMs, host, port } = this.config;
    this.tcp ??= new StreamConn({ kind: 'tcp', host, port });
    let last: unknown;
    for (let i = 0; i <= maxReconnect; i++) {
      try {
        await this.tcp.write(data);
        return;
      } catch (e: unknown) {
        last = e;
        await new Promise((r) => setTimeout(r, reconnectDelayMs));
        await this.tcp.connect().catch((err: unknown) => (last = err));
      }
    }
    throw new Error(`Maximum reconnection attempts was reached; giving up: ${(last as Error).message}`);
  }

  async close(): Promise<void> {
    this.udp?.close();
    this.tcp?.close();
  }
}
