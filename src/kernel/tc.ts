/**
 * Traffic control: the u32 filters of a link's clsact qdisc, as `tc filter show` writes
 * them, and `tc` batches. Direct routing's data plane lives there (overlay/direct-path.ts):
 * a filter's match keys and its mirred redirect are what a restarted daemon compares with
 * what it wants. `tc -j` cannot be used: it writes a u32 filter's match keys as one JSON
 * object with the key `match` repeated, so a parser keeps only the last.
 */
import { run } from './exec.js';

export type TcSide = 'ingress' | 'egress';

/** One u32 key: a 32-bit value under a mask, at a byte offset from the network header. */
export interface U32Match {
  /** Eight hex digits, as the kernel writes them. */
  value: string;
  mask: string;
  at: number;
}

/** A filter of any kind (`u32`, `bpf` …); only u32's keys and mirred actions are read. */
export interface U32Filter {
  prio: number;
  kind: string;
  /** u32's: `800:` for a table, `1:4:2` for a filter in table 1, bucket 4, node 2 (tc writes bucket 0 as `1::2`: read as `1:0:2`). */
  handle: string;
  matches: U32Match[];
  /** Where a mirred action sends the packet; `dev` undefined once that link is gone (the filter then drops what it matches). */
  redirect?: { side: TcSide; dev: string | undefined };
}

/** `tc` commands as one batch in the daemon's namespace: it stops at the first that fails, or with `force` runs each whatever the others did (and fails after). */
export async function tcBatch(commands: readonly string[], force = false): Promise<void> {
  if (commands.length > 0) await run('tc', [...(force ? ['-force'] : []), '-batch', '-'], { input: commands.join('\n') + '\n' });
}

/** A link's filters on one side of its clsact (or ingress) qdisc; none without one. */
export async function listU32(dev: string, side: TcSide): Promise<U32Filter[]> {
  return parseU32(await run('tc', ['filter', 'show', 'dev', dev, side]));
}

/** `tc filter show`'s text: a `filter …` line per filter (a prio's bare first line has no handle), its keys and actions indented under it. */
export function parseU32(text: string): U32Filter[] {
  const filters: U32Filter[] = [];
  let current: U32Filter | undefined;
  for (const line of text.split('\n')) {
    const head = /^filter .*\bpref (\d+) (\S+) .*\b(?:fh|handle) (\S+)/.exec(line);
    if (head) {
      const parts = head[3]!.split(':');
      const handle = parts.length === 3 && parts[1] === '' ? `${parts[0]}:0:${parts[2]}` : head[3]!;
      current = { prio: Number(head[1]), kind: head[2]!, handle, matches: [] };
      filters.push(current);
      continue;
    }
    if (line.startsWith('filter ')) {
      current = undefined;
      continue;
    }
    if (!current) continue;
    const match = /^\s+match ([0-9a-f]{8})\/([0-9a-f]{8}) at (-?\d+)/.exec(line);
    if (match) current.matches.push({ value: match[1]!, mask: match[2]!, at: Number(match[3]) });
    const mirred = /mirred \((Ingress|Egress) Redirect to device (\S+)\)/.exec(line);
    if (mirred) current.redirect = { side: mirred[1] === 'Ingress' ? 'ingress' : 'egress', dev: mirred[2] === '*' ? undefined : mirred[2] };
  }
  return filters;
}
