/**
 * Typed collections over the KV store: the records of one kind under one key prefix.
 * Each value is checked when it is read, so a damaged or foreign value stops the load
 * with its key named instead of travelling on as a lie; writes are Ops, so one commit
 * still spans several collections.
 *
 * Layout: `<prefix><id>` holds a record as plain JSON (the format berth has always
 * written), and `schema/<prefix>` the version of the kind's shape the records were
 * written in (absent: 1). A load that finds records of an older version upgrades them
 * all and writes them back, with the new version, in one commit.
 */
import { systemError } from '../errors.js';
import type { Json, KvStore, Op } from './kv.js';

export interface Kind<T> {
  /** Key prefix, "network/". */
  readonly prefix: string;
  /** The version of the shape this code writes. */
  readonly version: number;
  /** A stored value of the current version, typed; throws (a message) when it is not one. */
  check(value: Json): T;
  /** upgrades[v - 1] turns a value of version v into version v + 1. */
  readonly upgrades?: readonly ((old: Json) => Json)[];
}

const SCHEMA = 'schema/';

export class Collection<T> {
  constructor(readonly kind: Kind<T>) {}

  /** Every record by ID (the key without the prefix), checked, upgraded first when stored by an older version. */
  async load(store: KvStore): Promise<Map<string, T>> {
    const { prefix, version } = this.kind;
    const stored = await store.get(SCHEMA + prefix);
    const from = typeof stored === 'number' ? stored : 1;
    if (from > version) throw systemError(`the store holds ${prefix} records of version ${from}; this berthd reads up to ${version}: use a newer berthd`);
    const raw = await store.list(prefix);
    const upgraded = new Map<string, Json>();
    for (const [key, value] of raw) {
      let v = value;
      for (let at = from; at < version; at++) {
        const step = this.kind.upgrades?.[at - 1];
        if (!step) throw systemError(`no upgrade of ${prefix} records from version ${at}`);
        v = step(v);
      }
      upgraded.set(key, v);
    }
    const out = new Map<string, T>();
    for (const [key, value] of upgraded) {
      try {
        out.set(key.slice(prefix.length), this.kind.check(value));
      } catch (e: unknown) {
        throw systemError(`the store's ${key} is not a valid record: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    if (from < version) {
      await store.commit([...[...upgraded].map(([key, value]) => ({ put: key, value })), { put: SCHEMA + prefix, value: version }]);
    } else if (stored === undefined && version > 1) {
      await store.commit([{ put: SCHEMA + prefix, value: version }]);
    }
    return out;
  }

  put(id: string, record: T): Op {
    return { put: this.kind.prefix + id, value: asJson(record) };
  }

  del(id: string): Op {
    return { del: this.kind.prefix + id };
  }
}

/**
 * A record as the JSON it is: records are plain data (strings, numbers, booleans,
 * arrays, objects; optional fields may be undefined, which JSON drops).
 */
function asJson<T>(record: T): Json {
  return record as Json;
}
