/**
 * Repository references (tags and digests) -> image IDs, kept in memory and saved as
 * <images>/repositories.json, the shape Docker uses:
 *   {"Repositories": {"busybox": {"busybox:latest": "sha256:…", "busybox@sha256:…": "sha256:…"}}}
 * Keys are familiar strings (`busybox:latest`, `localhost:5000/x:1`). Every save is
 * atomic (temp + fsync + rename).
 */
import { systemError } from '../../errors.js';
import { isDigest, type Digest } from './config.js';
import { readIfExists, writeFileAtomic } from './fsutil.js';
import { familiarName, familiarString, parseReference, type ImageRef } from './reference.js';
import { byCodeUnit } from '../../util/order.js';

export interface StoredRef {
  /** Familiar string: `busybox:latest` or `busybox@sha256:…`. */
  ref: string;
  /** Familiar repository name: `busybox`. */
  repo: string;
  /** True for `name@digest` references. */
  canonical: boolean;
}

export class RefStore {
  private readonly refs = new Map<string, Digest>();

  private constructor(private readonly file: string) {}

  static async open(file: string): Promise<RefStore> {
    const store = new RefStore(file);
    const raw = await readIfExists(file);
    if (raw === undefined) return store;
    let v: unknown;
    try {
      v = JSON.parse(raw.toString());
    } catch {
      throw systemError(`${file}: not valid JSON`);
    }
    const repos = typeof v === 'object' && v !== null ? (v as { Repositories?: unknown }).Repositories : undefined;
    if (typeof repos !== 'object' || repos === null) return store;
    for (const refs of Object.values(repos)) {
      if (typeof refs !== 'object' || refs === null) continue;
      for (const [ref, id] of Object.entries(refs)) {
        if (typeof id === 'string' && isDigest(id)) store.refs.set(ref, id);
      }
    }
    return store;
  }

  /** The image a familiar reference string points to. */
  get(ref: ImageRef): Digest | undefined {
    return this.refs.get(familiarString(ref));
  }

  /** Every reference to `id`, sorted. */
  refsOf(id: Digest): StoredRef[] {
    const out: StoredRef[] = [];
    for (const [ref, target] of this.refs) if (target === id) out.push(describe(ref));
    return out.sort((a, b) => byCodeUnit(a.ref, b.ref));
  }

  /** Point `ref` at `id`; returns the image it pointed to before, if another. */
  set(ref: ImageRef, id: Digest): Digest | undefined {
    const key = familiarString(ref);
    const before = this.refs.get(key);
    this.refs.set(key, id);
    return before !== id ? before : undefined;
  }

  /** Remove a familiar reference string; true when it existed. */
  delete(ref: string): boolean {
    return this.refs.delete(ref);
  }

  /** All image IDs some reference points to. */
  referenced(): Set<Digest> {
    return new Set(this.refs.values());
  }

  async save(): Promise<void> {
    const repos: Record<string, Record<string, string>> = {};
    for (const [ref, id] of [...this.refs].sort(([a], [b]) => byCodeUnit(a, b))) {
      const { repo } = describe(ref);
      (repos[repo] ??= {})[ref] = id;
    }
    await writeFileAtomic(this.file, `${JSON.stringify({ Repositories: repos })}\n`);
  }
}

function describe(ref: string): StoredRef {
  const parsed = parseReference(ref);
  return { ref, repo: familiarName(parsed), canonical: parsed.digest !== undefined };
}
