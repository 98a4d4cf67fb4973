/**
 * The drivers that keep the output in files `docker logs` reads: json-file (Docker's
 * default) and local, and the local-format cache kept beside the drivers that send the
 * output elsewhere (Docker's dual logging).
 *
 *   <container dir>/<id>-json.log[.N[.gz]]          json-file (inspect's LogPath)
 *   <container dir>/local-logs/container.log[.N…]   local
 *   <container dir>/container-cached.log[.N…]       the cache
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { LogDriver, LogOpts } from '../driver.js';
import { extraAttributes, logTag, type LogInfo } from '../info.js';
import { jsonAttrs, jsonFileCodec, jsonLineText } from '../codecs/json-file.js';
import { encodeLocalEntry, localAttrBytes, localAttrs, localCodec } from '../codecs/local.js';
import { LogFileSet } from '../files/file-set.js';
import { RotatingWriter, type EncodedEntry, type RotationPolicy } from '../files/writer.js';
import { atoi, fromHumanSize, parseBool } from '../go-parse.js';
import type { LogMessage } from '../message.js';

export const jsonFileDriver: LogDriver<RotationPolicy> = {
  name: 'json-file',
  keys: ['max-size', 'max-file', 'compress'],
  unknownKey: (k) => `unknown log opt '${k}' for json-file log driver`,
  readable: true,
  parse(opts: LogOpts): RotationPolicy {
    let maxSize = -1;
    if (opts['max-size'] !== undefined) {
      maxSize = fromHumanSize(opts['max-size']);
      if (maxSize <= 0) throw new Error('max-size must be a positive number');
    }
    let maxFiles = 1;
    if (opts['max-file'] !== undefined) {
      maxFiles = atoi(opts['max-file']);
      if (maxFiles < 1) throw new Error('max-file cannot be less than 1');
    }
    let compress = false;
    if (opts.compress !== undefined) {
      compress = parseBool(opts.compress);
      if (compress && (maxFiles === 1 || maxSize === -1)) throw new Error('compress cannot be true when max-file is less than 2 or max-size is not set');
    }
    return { maxSize, maxFiles, compress };
  },
};

/** Docker's local defaults: 20 MiB files, 5 of them, the rotated ones compressed (100 MB kept). */
export const LOCAL_DEFAULTS: RotationPolicy = { maxSize: 20 * 1024 * 1024, maxFiles: 5, compress: true };

export const localDriver: LogDriver<RotationPolicy> = {
  name: 'local',
  keys: ['max-size', 'max-file', 'compress'],
  unknownKey: (k) => `unknown log opt '${k}' for log driver local`,
  readable: true,
  parse: (opts) => parseLocal(opts, ''),
};

/** local's options; `prefix` names the cache's own ("cache-") in errors and keys. */
export function parseLocal(opts: LogOpts, prefix: string): RotationPolicy {
  const p = { ...LOCAL_DEFAULTS };
  const get = (k: string): string | undefined => opts[prefix + k];
  const size = get('max-size');
  if (size !== undefined) p.maxSize = wrap(() => fromHumanSize(size), `invalid value for ${prefix}max-size: ${size}`);
  const files = get('max-file');
  if (files !== undefined) p.maxFiles = wrap(() => atoi(files), `invalid value for ${prefix}max-file: ${files}`);
  const compress = get('compress');
  if (compress !== undefined) p.compress = wrap(() => parseBool(compress), `invalid boolean value for ${prefix}compress`);
  if (p.maxSize < 0) throw new Error(`${prefix}max-size must not be negative`);
  if (p.maxFiles < 0) throw new Error(`${prefix}max-file must not be negative`);
  if (p.compress && p.maxFiles <= 1) throw new Error('compression cannot be enabled when max file count is 1');
  return p;
}

function wrap<T>(f: () => T, context: string): T {
  try {
    return f();
  } catch (e: unknown) {
    throw new Error(`${context}: ${(e as Error).message}`);
  }
}

export type FileFormat = 'json-file' | 'local';

/** Where a container's files of each kind live. */
export function logFilePath(containerDir: string, id: string, kind: FileFormat | 'cache'): string {
  if (kind === 'json-file') return join(containerDir, `${id}-json.log`);
  if (kind === 'local') return join(containerDir, 'local-logs', 'container.log');
  return join(containerDir, 'container-cached.log');
}

export function fileSetFor(path: string, format: FileFormat): LogFileSet {
  return new LogFileSet(path, format === 'json-file' ? jsonFileCodec : localCodec);
}

/** The attributes json-file and local store with each entry: the extras, and the tag only when asked. */
function storedAttrs(info: LogInfo): Record<string, string> {
  const extra = extraAttributes(info);
  if (info.config.tag) {
    const tag = logTag(info, '');
    if (tag !== '') extra.tag = tag;
  }
  return extra;
}

/** A container's output written in one of the two file formats. */
export class FileSink {
  private constructor(
    readonly set: LogFileSet,
    private readonly writer: RotatingWriter,
    private readonly encode: (m: LogMessage) => Buffer | string,
  ) {}

  static async open(set: LogFileSet, format: FileFormat, policy: RotationPolicy, info: LogInfo | null, warn: (m: string) => void): Promise<FileSink> {
    const attrs = info ? storedAttrs(info) : {};
    let encode: (m: LogMessage) => Buffer | string;
    if (format === 'json-file') {
      const a = jsonAttrs(attrs);
      encode = (m) => jsonLineText(m, a);
    } else {
      const a = localAttrBytes(localAttrs(attrs));
      encode = (m) => encodeLocalEntry(m, a);
    }
    await mkdir(join(set.path, '..'), { recursive: true, mode: 0o700 });
    return new FileSink(set, await RotatingWriter.open(set, policy, warn), encode);
  }

  async write(batch: readonly LogMessage[]): Promise<void> {
    const entries: EncodedEntry[] = batch.map((m) => ({ bytes: this.encode(m), time: m.time }));
    await this.writer.write(entries);
  }

  async close(): Promise<void> {
    await this.writer.close();
  }
}
