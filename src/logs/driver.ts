/**
 * What a log driver is to the rest of berth: its options, read into a typed config at
 * create (unknown keys and bad values refused with Docker's words), and, for the
 * drivers that send the output elsewhere, a destination the shipper feeds.
 */
import type { LogInfo } from './info.js';
import type { LogMessage } from './message.js';
import type { UnixgramSender } from './transport/unixgram.js';

export type LogOpts = Readonly<Record<string, string>>;

/** Daemon facts some drivers need. */
export interface DriverContext {
  /** journald's native socket (/run/systemd/journal/socket; tests point it elsewhere). */
  journalSocket: string;
  /** The daemon's pid: syslog's PROCID. */
  pid: number;
  /** A sender of datagrams to the unix socket at `path` (Node has none of its own); release() it when done. */
  unixgram(path: string): UnixgramSender;
  /** The daemon's log (rate-limited by the caller). */
  warn(msg: string): void;
}

/** A place the output is sent to (journald, syslog, gelf, fluentd). */
export interface Destination {
  /** Docker's New: connect now; a failure fails the container's start with its message. */
  connect(): Promise<void>;
  /**
   * Deliver the messages in order. Waits while the destination is slow (the shipper's
   * queue in front of it bounds what waits); reconnects as the protocol says; rejects
   * when the messages are lost.
   */
  send(batch: readonly LogMessage[]): Promise<void>;
  /** Idempotent. */
  close(): Promise<void>;
}

export interface LogDriver<C = unknown> {
  readonly name: string;
  /** Its own option keys (the common env, labels, tag … are everyone's). */
  readonly keys: readonly string[];
  /** Docker's error for a key it does not know. */
  unknownKey(key: string): string;
  /** The options as a typed config; throws Docker's error for a bad value. */
  parse(opts: LogOpts): C;
  /** `docker logs` reads its files (json-file, local); the others need the cache. */
  readonly readable: boolean;
  /** A destination for a container's output (absent for the file drivers). */
  destination?(info: LogInfo, config: C, ctx: DriverContext): Destination;
}
