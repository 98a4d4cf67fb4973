/**
 * An independent reader of berth's embedded store file (<data-root>/store/berth.db), so
 * the chaos checks compare the API with what is on disk without trusting the daemon's
 * own reader. Format (src/store/local.ts): one transaction per line, an 8-hex crc32 of
 * the JSON, a space, the JSON `[[key, value|null], …]`; the last value of a key wins and
 * null deletes it. A line whose checksum fails ends the log (a torn tail never committed).
 */
import * as fs from 'node:fs';
import { crc32 } from 'node:zlib';

export interface StoreFile {
  data: Map<string, unknown>;
  /** Committed transactions read. */
  lines: number;
  /** Bytes after the last good line (a torn tail; the daemon cuts it off at open). */
  tornBytes: number;
}

export function readStoreFile(file: string): StoreFile {
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e: unknown) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const data = new Map<string, unknown>();
  let lines = 0;
  let good = 0;
  for (const line of text.split('\n')) {
    if (line === '') break;
    const entries = decode(line);
    if (!entries) break;
    for (const [k, v] of entries) {
      if (v === null) data.delete(k);
      else data.set(k, v);
    }
    lines += 1;
    good += Buffer.byteLength(line) + 1;
  }
  return { data, lines, tornBytes: Buffer.byteLength(text) - good };
}

function decode(line: string): [string, unknown][] | undefined {
  if (line.indexOf(' ') !== 8) return undefined;
  const body = line.slice(9);
  if (crc32(body).toString(16).padStart(8, '0') !== line.slice(0, 8)) return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    if (!Array.isArray(parsed)) return undefined;
    return parsed.filter((e): e is [string, unknown] => Array.isArray(e) && typeof e[0] === 'string');
  } catch {
    return undefined;
  }
}

/** The values under a key prefix, keyed by the rest of the key. */
export function byPrefix(store: StoreFile, prefix: string): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [k, v] of store.data) if (k.startsWith(prefix)) out.set(k.slice(prefix.length), v);
  return out;
}
