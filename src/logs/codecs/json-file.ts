/**
 * Docker's json-file format: one JSON object per line,
 *
 *   {"log":"hello\n","stream":"stdout","attrs":{"tag":"web"},"time":"2024-05-01T10:00:00.123456789Z"}
 *
 * `log` is the line with its newline (none on a piece of a longer line), written as Go
 * writes it (<, >, & and control bytes escaped, bytes that are not UTF-8 as \ufffd);
 * `attrs` only when labels, env or tag asked for some; `time` Go's RFC3339Nano in UTC.
 */
import type { FileHandle } from 'node:fs/promises';
import { startOfLastLines } from '../../util/last-lines.js';
import { goJsonBytes, goJsonStringMap } from '../go-json.js';
import { endsLine, parseRfc3339, rfc3339Nano, type LogMessage, type LogRecord } from '../message.js';
import type { LogCodec } from '../files/file-set.js';

const NEWLINE = 0x0a;

/** The `"attrs":{…}` member's value, once per container; null without attributes. */
export function jsonAttrs(attrs: Readonly<Record<string, string>>): string | null {
  return Object.keys(attrs).length > 0 ? goJsonStringMap(attrs) : null;
}

/** One line of the file, its newline included. */
export function encodeJsonLine(m: LogMessage, attrs: string | null): Buffer {
  return Buffer.from(jsonLineText(m, attrs), 'utf8');
}

/** The same as text (the writer joins many before making bytes of them). */
export function jsonLineText(m: LogMessage, attrs: string | null): string {
  const newline = endsLine(m);
  let s = '{';
  if (newline || m.line.length > 0) s += `"log":${goJsonBytes(m.line, newline ? '\\n' : '')},`;
  s += m.stream === 'stdout' ? '"stream":"stdout",' : '"stream":"stderr",';
  if (attrs !== null) s += `"attrs":${attrs},`;
  return `${s}"time":"${rfc3339Nano(m.time)}"}\n`;
}

interface JsonLine {
  log?: unknown;
  stream?: unknown;
  time?: unknown;
  attrs?: unknown;
}

export const jsonFileCodec: LogCodec = {
  decode(buf: Buffer, out: LogRecord[]): number {
    let start = 0;
    let nl: number;
    while ((nl = buf.indexOf(NEWLINE, start)) >= 0) {
      const r = parseJsonLine(buf.toString('utf8', start, nl));
      if (r) out.push(r);
      start = nl + 1;
    }
    return start;
  },
  async tailOffset(fh: FileHandle, size: number, n: number): Promise<number> {
    return startOfLastLines(fh, size, n);
  },
};

function parseJsonLine(text: string): LogRecord | null {
  let v: JsonLine;
  try {
    v = JSON.parse(text) as JsonLine;
  } catch {
    return null; // a torn line (a crash in the middle of a write) is skipped
  }
  const time = typeof v.time === 'string' ? parseRfc3339(v.time) : null;
  if (!time || (v.stream !== 'stdout' && v.stream !== 'stderr')) return null;
  const attrs: [string, string][] = [];
  if (v.attrs !== null && typeof v.attrs === 'object') {
    for (const [k, val] of Object.entries(v.attrs as Record<string, unknown>)) if (typeof val === 'string') attrs.push([k, val]);
  }
  return { stream: v.stream, line: Buffer.from(typeof v.log === 'string' ? v.log : '', 'utf8'), time, attrs };
}

