/** `--tail N` over a file of newline-ended lines: where its last N lines start. */
import type { FileHandle } from 'node:fs/promises';

const NEWLINE = 0x0a;

/** Offset of the start of the last n lines of a file (scanning back in chunks). */
export async function startOfLastLines(fh: FileHandle, size: number, n: number): Promise<number> {
  if (n <= 0) return size;
  let newlines = 0;
  let end = size;
  const chunk = Buffer.alloc(64 * 1024);
  while (end > 0) {
    const start = Math.max(0, end - chunk.length);
    const { bytesRead } = await fh.read(chunk, 0, end - start, start);
    for (let i = bytesRead - 1; i >= 0; i--) {
      if (chunk[i] !== NEWLINE) continue;
      // The file's final newline ends the last line; n+1 newlines back is the start.
      if (start + i === size - 1) continue;
      if (++newlines === n) return start + i + 1;
    }
    end = start;
  }
  return 0;
}
