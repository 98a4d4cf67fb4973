/**
 * syslog, as Docker's driver (srslog) writes it. Each line (empty ones skipped) gets a
 * newline and one of the formats, PRI being facility | severity (info for stdout, err
 * for stderr), PROCID the daemon's pid, the time the line was read, in local time:
 *
 *   (default)     <PRI>Jan _2 15:04:05 TAG[PID]: MSG
 *   rfc3164       <PRI>Jan _2 15:04:05 HOSTNAME TAG[PID]: MSG
 *   rfc5424       <PRI>1 2006-01-02T15:04:05Z07:00 HOSTNAME TAG PID TAG - MSG
 *   rfc5424micro  as rfc5424, the time with microseconds
 *
 * over udp://, tcp://, tcp+tls:// (rfc5424 there is framed by octet counting: "LEN MSG"),
 * unix:// and unixgram://, or the local syslog socket when no address is given. A write
 * that fails reconnects once and tries again, as srslog does; then the message is lost.
 */
import { readFileSync, statSync } from 'node:fs';
import type { Destination, DriverContext, LogDriver, LogOpts } from '../driver.js';
import { logTag, type LogInfo } from '../info.js';
import { localParts, type LogMessage, type LogTime } from '../message.js';
import { dialError, StreamConn, UdpConn, type StreamTarget } from '../transport/stream.js';
import type { UnixgramSender } from '../transport/unixgram.js';

export type SyslogFormat = '' | 'rfc3164' | 'rfc5424' | 'rfc5424micro';

export interface SyslogConfig {
  /** '' is the local syslog (/dev/log …). */
  proto: '' | 'udp' | 'tcp' | 'tcp+tls' | 'unix' | 'unixgram';
  /** host:port, or a socket path. */
  address: string;
  facility: number;
  format: SyslogFormat;
  tls: { ca?: string; cert?: string; key?: string; skipVerify: boolean };
}

const FACILITIES: Record<string, number> = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9, authpriv: 10, ftp: 11,
  local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
};

const LOCAL_PATHS = ['/dev/log', '/var/run/syslog', '/var/run/log'];

export const syslogDriver: LogDriver<SyslogConfig> = {
  name: 'syslog',
  keys: ['syslog-address', 'syslog-facility', 'syslog-tls-ca-cert', 'syslog-tls-cert', 'syslog-tls-key', 'syslog-tls-skip-verify', 'syslog-format'],
  unknownKey: (k) => `unknown log opt '${k}' for syslog log driver`,
  readable: false,
  parse: parseSyslog,
  destination: (info, config, ctx) => new Syslog(info, config, ctx),
};

function parseSyslog(opts: LogOpts): SyslogConfig {
  const { proto, address } = parseAddress(opts['syslog-address'] ?? '');
  const format = (opts['syslog-format'] ?? '') as SyslogFormat;
  if (!['', 'rfc3164', 'rfc5424', 'rfc5424micro'].includes(format)) throw new Error('Invalid syslog format');
  return {
    proto,
    address,
    facility: parseFacility(opts['syslog-facility'] ?? ''),
    format,
    tls: {
      ...(opts['syslog-tls-ca-cert'] ? { ca: opts['syslog-tls-ca-cert'] } : {}),
      ...(opts['syslog-tls-cert'] ? { cert: opts['syslog-tls-cert'] } : {}),
      ...(opts['syslog-tls-key'] ? { key: opts['syslog-tls-key'] } : {}),
      // Docker takes the key's presence, whatever its value.
      skipVerify: 'syslog-tls-skip-verify' in opts,
    },
  };
}

function parseAddress(address: string): { proto: SyslogConfig['proto']; address: string } {
  if (address === '') return { proto: '', address: '' };
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)([^?#]*)/.exec(address);
  const scheme = m?.[1]?.toLowerCase() ?? '';
  if (scheme === 'unix' || scheme === 'unixgram') {
    const path = m![3]!;
    try {
      statSync(path);
    } catch (e: unknown) {
      throw new Error(`stat ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
    }
    return { proto: scheme, address: path };
  }
  if (scheme !== 'udp' && scheme !== 'tcp' && scheme !== 'tcp+tls') throw new Error(`unsupported scheme: '${scheme}'`);
  let host = m![2]!;
  if (/^\[[^\]]*\]$/.test(host) || !host.includes(':')) host = `${host}:514`;
  else if (!/^\[[^\]]*\]:\d*$/.test(host) && !/^[^:[\]]*:\d*$/.test(host)) throw new Error(`address ${host}: too many colons in address`);
  return { proto: scheme, address: host };
}

function parseFacility(f: string): number {
  if (f === '') return FACILITIES.daemon! << 3;
  if (f in FACILITIES) return FACILITIES[f]! << 3;
  if (/^[+-]?\d+$/.test(f) && Number(f) >= 0 && Number(f) <= 23) return Number(f) << 3;
  throw new Error('invalid syslog facility');
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number): string => String(n).padStart(2, '0');

/** Go's time.Stamp in local time: "Jan _2 15:04:05". */
export function stamp(t: LogTime): string {
  const l = localParts(t);
  return `${MONTHS[l.month]} ${String(l.day).padStart(2, ' ')} ${p2(l.hour)}:${p2(l.minute)}:${p2(l.second)}`;
}

/** RFC 3339 in local time, with `digits` of fraction (0: none). */
export function localRfc3339(t: LogTime, digits: number): string {
  const l = localParts(t);
  const frac = digits > 0 ? `.${String(t.nsec).padStart(9, '0').slice(0, digits)}` : '';
  return `${l.year}-${p2(l.month + 1)}-${p2(l.day)}T${p2(l.hour)}:${p2(l.minute)}:${p2(l.second)}${frac}${l.offset}`;
}

/** One message, formatted and framed for the transport. */
export function syslogMessage(
  m: LogMessage,
  o: { facility: number; format: SyslogFormat; proto: SyslogConfig['proto']; hostname: string; tag: string; pid: number },
): Buffer {
  const pri = o.facility | (m.stream === 'stderr' ? 3 : 6);
  const content = Buffer.concat([m.line, Buffer.from('\n')]);
  let head: string;
  if (o.format === 'rfc3164') head = `<${pri}>${stamp(m.time)} ${o.hostname} ${o.tag}[${o.pid}]: `;
  else if (o.format === 'rfc5424' || o.format === 'rfc5424micro') {
    head = `<${pri}>1 ${localRfc3339(m.time, o.format === 'rfc5424micro' ? 6 : 0)} ${o.hostname} ${o.tag} ${o.pid} ${o.tag} - `;
  } else head = `<${pri}>${stamp(m.time)} ${o.tag}[${o.pid}]: `;
  const msg = Buffer.concat([Buffer.from(head, 'utf8'), content]);
  // RFC 5425's octet counting, as Docker frames rfc5424 over TLS.
  if (o.proto === 'tcp+tls' && o.format !== '' && o.format !== 'rfc3164') return Buffer.concat([Buffer.from(`${msg.length} `), msg]);
  return msg;
}

type Conn = { kind: 'stream'; conn: StreamConn } | { kind: 'udp'; conn: UdpConn } | { kind: 'dgram'; conn: UnixgramSender };

class Syslog implements Destination {
  private readonly tag: string;
  private conn: Conn | null = null;

  constructor(
    info: LogInfo,
    private readonly config: SyslogConfig,
    private readonly ctx: DriverContext,
  ) {
    this.tag = logTag(info, '{{.ID}}');
    this.hostname = info.hostname;
  }

  private readonly hostname: string;

  async connect(): Promise<void> {
    await this.close();
    const c = this.config;
    if (c.proto === 'udp') {
      const [host, port] = splitHostPort(c.address);
      this.conn = { kind: 'udp', conn: await UdpConn.open(host, port) };
    } else if (c.proto === 'unixgram') {
      this.conn = { kind: 'dgram', conn: await this.datagrams(c.address) };
    } else if (c.proto === '') {
      this.conn = await this.local();
    } else {
      const conn = new StreamConn(this.streamTarget());
      await conn.connect();
      this.conn = { kind: 'stream', conn };
    }
  }

  async send(batch: readonly LogMessage[]): Promise<void> {
    for (const m of batch) {
      if (m.line.length === 0) continue;
      const data = syslogMessage(m, { ...this.config, hostname: this.hostname, tag: this.tag, pid: this.ctx.pid });
      try {
        if (!this.conn) throw new Error('not connected');
        await write(this.conn, data);
      } catch {
        await this.connect();
        await write(this.conn!, data);
      }
    }
  }

  async close(): Promise<void> {
    const c = this.conn;
    this.conn = null;
    if (c?.kind === 'dgram') c.conn.release();
    else c?.conn.close();
  }

  private streamTarget(): StreamTarget {
    const c = this.config;
    if (c.proto === 'unix') return { kind: 'unix', path: c.address };
    const [host, port] = splitHostPort(c.address);
    if (c.proto === 'tcp') return { kind: 'tcp', host, port };
    return { kind: 'tls', host, port, tls: tlsOptions(c.tls) };
  }

  private async datagrams(path: string): Promise<UnixgramSender> {
    const s = this.ctx.unixgram(path);
    try {
      await s.probe();
      return s;
    } catch (e: unknown) {
      s.release();
      const err = dialError({ kind: 'unix', path }, Object.assign(new Error((e as Error).message), { code: errnoOf((e as Error).message) }));
      throw new Error(err.message.replace(/^dial unix /, 'dial unixgram '));
    }
  }

  /** srslog's unixSyslog: unixgram then unix stream, on each of the usual paths. */
  private async local(): Promise<Conn> {
    for (const path of LOCAL_PATHS) {
      try {
        return { kind: 'dgram', conn: await this.datagrams(path) };
      } catch {
        /* next */
      }
    }
    for (const path of LOCAL_PATHS) {
      const conn = new StreamConn({ kind: 'unix', path });
      try {
        await conn.connect();
        return { kind: 'stream', conn };
      } catch {
        /* next */
      }
    }
    throw new Error('Unix syslog delivery error');
  }
}

async function write(c: Conn, data: Buffer): Promise<void> {
  if (c.kind === 'stream') await c.conn.write(data);
  else await c.conn.send(data);
}

function splitHostPort(hp: string): [string, number] {
  const i = hp.lastIndexOf(':');
  return [hp.slice(0, i).replace(/^\[(.*)\]$/, '$1'), Number(hp.slice(i + 1))];
}

/** go-connections' tlsconfig.Client: the CA, the client's key pair, or no verification. */
function tlsOptions(t: SyslogConfig['tls']): import('node:tls').ConnectionOptions {
  const read = (file: string, what: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (e: unknown) {
      throw new Error(`Could not read ${what} ${JSON.stringify(file)}: ${(e as Error).message}`);
    }
  };
  return {
    ...(t.ca ? { ca: read(t.ca, 'CA certificate') } : {}),
    ...(t.cert && t.key ? { cert: read(t.cert, 'certificate'), key: read(t.key, 'key') } : {}),
    rejectUnauthorized: !t.skipVerify,
  };
}

function errnoOf(reason: string): string {
  if (/No such file/i.test(reason)) return 'ENOENT';
  if (/refused/i.test(reason)) return 'ECONNREFUSED';
  if (/Permission denied/i.test(reason)) return 'EACCES';
  if (/Protocol wrong type/i.test(reason)) return 'EPROTOTYPE';
  return '';
}
