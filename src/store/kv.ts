/**
 * The store berth keeps its model in: a key/value space with atomic multi-key
 * commits. The embedded backend (local.ts) serves a single host; a cluster backend
 * (etcd) implements the same interface.
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export type Op = { put: string; value: Json } | { del: string };

export interface KvStore {
  /** Every key with the given prefix and its value. */
  list(prefix: string): Promise<Map<string, Json>>;
  get(key: string): Promise<Json | undefined>;
  /** Apply all ops atomically and durably: after it resolves, a crash keeps them all. */
  commit(ops: readonly Op[]): Promise<void>;
  close(): Promise<void>;
}
