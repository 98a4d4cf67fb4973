/**
 * journald: each message one datagram on the journal's native socket, Docker's fields
 * in the native protocol (KEY=value lines; a value holding a newline as KEY, newline,
 * its length as 64-bit little-endian, the bytes, newline):
 *
 *   PRIORITY (6 stdout, 3 stderr), MESSAGE (the line), CONTAINER_ID (12), CONTAINER_ID_FULL,
 *   CONTAINER_NAME, CONTAINER_TAG and SYSLOG_IDENTIFIER (the tag, {{.ID}} by default),
 *   IMAGE_NAME, CONTAINER_LOG_EPOCH (this driver instance), CONTAINER_LOG_ORDINAL (1, 2 …),
 *   SYSLOG_TIMESTAMP, CONTAINER_PARTIAL_ID/ORDINAL/LAST (and CONTAINER_PARTIAL_MESSAGE=true
 *   on all but the last piece) for pieces of a long line, and the labels/env attributes
 *   (keys upper-cased, other characters "_", leading "_" dropped).
 *
 * Where no journal listens the start fails as Docker's does: "journald is not enabled
 * on this host". berth cannot read the journal back: `docker logs` reads the cache.
 */
import { randomBytes } from 'node:crypto';
import type { Destination, DriverContext, LogDriver } from '../driver.js';
import { extraAttributes, logTag, plainName, type LogInfo } from '../info.js';
import { rfc3339Nano, type LogMessage } from '../message.js';
import type { UnixgramSender } from '../transport/unixgram.js';

export const journaldDriver: LogDriver<null> = {
  name: 'journald',
  keys: [],
  unknownKey: (k) => `unknown log opt '${k}' for journald log driver`,
  readable: false,
  parse: () => null,
  destination: (info, _config, ctx) => new Journald(info, ctx),
};

/** sanitizeKeyMod: journal field names are upper-case letters, digits and "_", not starting with "_". */
export function journalKey(k: string): string {
  let out = '';
  for (const ch of k) {
    let c = ch;
    if (c >= 'a' && c <= 'z') c = c.toUpperCase();
    else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) c = '_';
    if (out === '' && c === '_') continue;
    out += c;
  }
  return out;
}

/** One field in the native protocol. */
export function journalField(name: string, value: Buffer | string): Buffer {
  const v = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  if (!v.includes(0x0a)) return Buffer.concat([Buffer.from(`${name}=`), v, Buffer.from('\n')]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(v.length));
  return Buffer.concat([Buffer.from(`${name}\n`), len, v, Buffer.from('\n')]);
}

/** The fields every message of a container carries, after PRIORITY and MESSAGE. */
export function journalVars(info: LogInfo, epoch: string): [string, string][] {
  const tag = logTag(info, '{{.ID}}');
  const vars: [string, string][] = [
    ['CONTAINER_ID', info.containerId.slice(0, 12)],
    ['CONTAINER_ID_FULL', info.containerId],
    ['CONTAINER_NAME', plainName(info)],
    ['CONTAINER_TAG', tag],
    ['IMAGE_NAME', info.imageName],
    ['SYSLOG_IDENTIFIER', tag],
    ['CONTAINER_LOG_EPOCH', epoch],
  ];
  for (const [k, v] of Object.entries(extraAttributes(info, journalKey))) vars.push([k, v]);
  return vars;
}

/** The container's fields in the native protocol, made once. */
export function journalVarBytes(vars: readonly [string, string][]): Buffer {
  return Buffer.concat(vars.map(([k, v]) => journalField(k, v)));
}

/** One message as its datagram: PRIORITY, MESSAGE, the container's fields, then this message's own. */
export function journalDatagram(m: LogMessage, vars: Buffer | readonly [string, string][], ordinal: number): Buffer {
  const fixed = Buffer.isBuffer(vars) ? vars : journalVarBytes(vars);
  let tail = `SYSLOG_TIMESTAMP=${rfc3339Nano(m.time)}\n`;
  if (m.partial) {
    tail += `CONTAINER_PARTIAL_ID=${m.partial.id}\nCONTAINER_PARTIAL_ORDINAL=${m.partial.ordinal}\nCONTAINER_PARTIAL_LAST=${m.partial.last}\n`;
    if (!m.partial.last) tail += 'CONTAINER_PARTIAL_MESSAGE=true\n';
  }
  tail += `CONTAINER_LOG_ORDINAL=${ordinal}\n`;
  const binary = m.line.includes(0x0a);
  const head = m.stream === 'stderr' ? 'PRIORITY=3\nMESSAGE' : 'PRIORITY=6\nMESSAGE';
  const out = Buffer.allocUnsafe(head.length + (binary ? 9 : 1) + m.line.length + 1 + fixed.length + tail.length);
  let pos = out.write(head, 0, 'latin1');
  if (binary) {
    out[pos++] = 0x0a;
    out.writeBigUInt64LE(BigInt(m.line.length), pos);
    pos += 8;
  } else out[pos++] = 0x3d; // =
  pos += m.line.copy(out, pos);
  out[pos++] = 0x0a;
  pos += fixed.copy(out, pos);
  out.write(tail, pos, 'latin1');
  return out;
}

class Journald implements Destination {
  private readonly vars: Buffer;
  private ordinal = 0;
  private sender: UnixgramSender | null = null;

  constructor(
    info: LogInfo,
    private readonly ctx: DriverContext,
  ) {
    this.vars = journalVarBytes(journalVars(info, randomBytes(32).toString('hex')));
  }

  async connect(): Promise<void> {
    this.sender ??= this.ctx.unixgram(this.ctx.journalSocket);
    try {
      await this.sender.probe();
    } catch {
      throw new Error('journald is not enabled on this host');
    }
  }

  async send(batch: readonly LogMessage[]): Promise<void> {
    this.sender ??= this.ctx.unixgram(this.ctx.journalSocket);
    for (const m of batch) await this.sender.send(journalDatagram(m, this.vars, ++this.ordinal));
  }

  async close(): Promise<void> {
    this.sender?.release();
    this.sender = null;
  }
}
