/**
 * Detach keys (docker's ctrl-p,ctrl-q): typed into an attached stdin, they end the
 * attachment and leave the container running. berthd watches for them as dockerd
 * does, and berth's CLI too (as the docker CLI does) for its own terminal.
 */

export const DEFAULT_DETACH_KEYS: readonly number[] = [16, 17]; // ctrl-p, ctrl-q

/** docker's term.ToBytes: "ctrl-p,ctrl-q", "a,ctrl-@", "DEL"; undefined when the spec is invalid. */
export function detachKeyCodes(spec: string): number[] | undefined {
  const codes: number[] = [];
  for (const key of spec.split(',')) {
    if (key.length === 1) {
      codes.push(key.charCodeAt(0));
      continue;
    }
    if (key === 'DEL') {
      codes.push(127);
      continue;
    }
    const m = /^ctrl-([a-z@[\\\]^_])$/.exec(key);
    if (!m) return undefined;
    const c = m[1]!;
    codes.push(c >= 'a' && c <= 'z' ? c.charCodeAt(0) - 96 : '@[\\]^_'.indexOf(c) + (c === '@' ? 0 : 26));
  }
  return codes;
}

/**
 * docker's escapeProxy: single keystrokes matching the detach sequence are held back;
 * the full sequence detaches; a mismatch releases what was held.
 */
export class EscapeDetector {
  private pos = 0;

  constructor(private readonly keys: readonly number[]) {}

  feed(chunk: Buffer): { forward: Buffer; detached: boolean } {
    if (this.keys.length === 0) return { forward: chunk, detached: false };
    const held = Buffer.from(this.keys.slice(0, this.pos));
    if (chunk.length !== 1 || chunk[0] !== this.keys[this.pos]) {
      this.pos = 0;
      return { forward: held.length > 0 ? Buffer.concat([held, chunk]) : chunk, detached: false };
    }
    if (this.pos === this.keys.length - 1) {
      this.pos = 0;
      return { forward: Buffer.alloc(0), detached: true };
    }
    this.pos++;
    return { forward: Buffer.alloc(0), detached: false };
  }
}
