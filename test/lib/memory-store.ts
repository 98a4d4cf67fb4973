/**
 * An in-memory KvStore for unit tests: commits are atomic and, with `Faults`, count as
 * steps that can fail or freeze (a crash between a commit and the next kernel change).
 * `reopen()` is what a restarted daemon finds: the committed data, nothing else.
 */
import type { Json, KvStore, Op } from '../../src/store/kv.js';
import type { Faults } from './fake-kernel.js';

export class MemoryStore implements KvStore {
  constructor(
    readonly data = new Map<string, string>(),
    private readonly faults?: Faults,
  ) {}

  async list(prefix: string): Promise<Map<string, Json>> {
    const out = new Map<string, Json>();
    for (const [k, v] of [...this.data].sort(([a], [b]) => (a < b ? -1 : 1))) if (k.startsWith(prefix)) out.set(k, JSON.parse(v) as Json);
    return out;
  }

  async get(key: string): Promise<Json | undefined> {
    const v = this.data.get(key);
    return v === undefined ? undefined : (JSON.parse(v) as Json);
  }

  async commit(ops: readonly Op[]): Promise<void> {
    await this.faults?.step(`store ${ops.map((o) => ('put' in o ? `put ${o.put}` : `del ${o.del}`)).join(', ')}`);
    for (const o of ops) {
      if ('put' in o) this.data.set(o.put, JSON.stringify(o.value));
      else this.data.delete(o.del);
    }
  }

  async close(): Promise<void> {}

  /** The store a restarted daemon opens: the same committed data. */
  reopen(faults?: Faults): MemoryStore {
    return new MemoryStore(this.data, faults);
  }

  /** The committed data, for comparing before and after. */
  snapshot(): Record<string, unknown> {
    return Object.fromEntries([...this.data].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, JSON.parse(v) as unknown]));
  }
}
