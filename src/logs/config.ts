/**
 * A container's LogConfig as dockerd settles it at create (mergeAndVerifyLogConfig):
 * the daemon's default driver when none is named, the daemon's options under the
 * container's own when the drivers match (and the cache options in any case), then
 * checked as ValidateLogOpts checks them — mode, max-buffer-size, the cache options,
 * the driver's known keys — and, beyond dockerd (which finds bad values only at start),
 * every value, with the words the driver would fail the start with.
 */
import { invalid } from '../errors.js';
import { Template, TemplateError } from '../util/template/exec.js';
import type { LogDriver, LogOpts } from './driver.js';
import { fileSetFor, jsonFileDriver, localDriver, parseLocal } from './drivers/files.js';
import { journaldDriver } from './drivers/journald.js';
import { syslogDriver } from './drivers/syslog.js';
import { gelfDriver } from './drivers/gelf.js';
import { fluentdDriver } from './drivers/fluentd.js';
import { COMMON_KEYS, goRegexp } from './info.js';
import { parseBool, ramInBytes } from './go-parse.js';

export interface LogConfig {
  type: string;
  config: Record<string, string>;
}

/** The drivers by name. `none` keeps nothing. */
export const DRIVERS: Readonly<Record<string, LogDriver>> = {
  'json-file': jsonFileDriver,
  local: localDriver,
  journald: journaldDriver,
  syslog: syslogDriver,
  gelf: gelfDriver,
  fluentd: fluentdDriver,
} as Record<string, LogDriver>;

/** What `docker info` lists under Plugins.Log. */
export const DRIVER_NAMES: readonly string[] = [...Object.keys(DRIVERS), 'none'].sort();

/** Options every driver takes, the shipper's own (mode, buffer) and the cache's. */
const SHIPPER_KEYS = ['mode', 'max-buffer-size'];
const CACHE_KEYS = ['cache-disabled', 'cache-max-size', 'cache-max-file', 'cache-compress'];

export const DEFAULT_LOG_CONFIG: LogConfig = { type: 'json-file', config: {} };

/** The container's settled LogConfig; throws InvalidParameter with Docker's words. */
export function settleLogConfig(requested: { type: string; config: Readonly<Record<string, string>> | null }, defaults: LogConfig): LogConfig {
  const type = requested.type || defaults.type;
  const config: Record<string, string> = { ...(requested.config ?? {}) };
  for (const [k, v] of Object.entries(defaults.config)) {
    if (!(k in config) && (type === defaults.type || CACHE_KEYS.includes(k))) config[k] = v;
  }
  try {
    checkLogConfig(type, config);
  } catch (e: unknown) {
    throw invalid((e as Error).message);
  }
  return { type, config };
}

/** ValidateLogOpts and the driver's own reading of the values. Throws an Error in Docker's words. */
export function checkLogConfig(type: string, config: LogOpts): void {
  if (type === 'none') return;
  const mode = config.mode ?? '';
  if (!['', 'blocking', 'non-blocking'].includes(mode)) throw new Error(`logger: logging mode not supported: ${mode}`);
  const bufferSize = config['max-buffer-size'];
  if (bufferSize !== undefined) {
    if (mode !== 'non-blocking') throw new Error("logger: max-buffer-size option is only supported with 'mode=non-blocking'");
    try {
      ramInBytes(bufferSize);
    } catch (e: unknown) {
      throw new Error(`error parsing option max-buffer-size: ${(e as Error).message}`);
    }
  }
  const disabled = config['cache-disabled'];
  if (disabled !== undefined && disabled !== '') {
    try {
      parseBool(disabled);
    } catch {
      throw new Error(`invalid value for option cache-disabled: ${disabled}`);
    }
  }
  parseLocal(config, 'cache-');
  const driver = DRIVERS[type];
  if (!driver) throw new Error(`logger: no log driver named '${type}' is registered`);
  const own: Record<string, string> = {};
  for (const [k, v] of Object.entries(config)) {
    if (SHIPPER_KEYS.includes(k) || CACHE_KEYS.includes(k)) continue;
    if (!(COMMON_KEYS as readonly string[]).includes(k) && !driver.keys.includes(k)) throw new Error(driver.unknownKey(k));
    own[k] = v;
  }
  driver.parse(own);
  for (const k of ['labels-regex', 'env-regex']) if (config[k]) goRegexp(config[k]);
  if (config.tag) checkTemplate(config.tag);
}

function checkTemplate(src: string): void {
  try {
    Template.parse(src);
  } catch (e: unknown) {
    if (e instanceof TemplateError) throw new Error(e.message.replace(/^template: :/, 'template: log-tag:'));
    throw e;
  }
}

/** The driver's own options (the shipper's and the cache's taken out). */
export function driverOptions(config: LogOpts): Record<string, string> {
  return Object.fromEntries(Object.entries(config).filter(([k]) => !SHIPPER_KEYS.includes(k) && !CACHE_KEYS.includes(k)));
}

/** Dual logging: a driver `docker logs` cannot read keeps a local cache unless cache-disabled. */
export function usesCache(config: LogConfig): boolean {
  const driver = DRIVERS[config.type];
  if (!driver || driver.readable) return false;
  const v = config.config['cache-disabled'];
  return v === undefined || v === '' || !parseBool(v);
}

/** Bytes of output waiting for a slow destination before new messages are dropped (max-buffer-size, else Docker's 1 MB). */
export function bufferLimit(config: LogConfig): number {
  const v = config.config['max-buffer-size'];
  return v === undefined ? 1_000_000 : ramInBytes(v);
}

export { fileSetFor };
