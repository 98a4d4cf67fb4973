/**
 * JSON text as Go's encoding/json writes it, byte for byte: <, > and & escaped as
 * \u003c \u003e \u0026, control characters as \u00XX (only \n and \r get short forms),
 * bytes that are not UTF-8 as \ufffd, U+2028 and U+2029 escaped, map keys sorted.
 * Docker's json-file lines and GELF messages are written this way.
 */

const HEX = '0123456789abcdef';

/** A Go string (bytes, possibly not UTF-8) as a JSON string literal; `suffix` (already escaped) goes before the closing quote. */
export function goJsonBytes(b: Buffer, suffix = ''): string {
  let out = '"';
  let start = 0;
  let i = 0;
  const flush = (end: number): void => {
    if (start < end) out += b.toString('utf8', start, end);
  };
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) {
      if (c >= 0x20 && c !== 0x5c && c !== 0x22 && c !== 0x3c && c !== 0x3e && c !== 0x26) {
        i++;
        continue;
      }
      flush(i);
      if (c === 0x5c || c === 0x22) out += `\\${String.fromCharCode(c)}`;
      else if (c === 0x0a) out += '\\n';
      else if (c === 0x0d) out += '\\r';
      else out += `\\u00${HEX[c >> 4]}${HEX[c & 0xf]}`;
      start = ++i;
      continue;
    }
    const size = runeLength(b, i);
    if (size === 0) {
      flush(i);
      out += '\\ufffd';
      start = ++i;
      continue;
    }
    // U+2028 and U+2029 (E2 80 A8 / E2 80 A9) break JavaScript parsers: Go escapes them.
    if (size === 3 && c === 0xe2 && b[i + 1] === 0x80 && (b[i + 2] === 0xa8 || b[i + 2] === 0xa9)) {
      flush(i);
      out += b[i + 2] === 0xa8 ? '\\u2028' : '\\u2029';
      start = i += 3;
      continue;
    }
    i += size;
  }
  flush(b.length);
  return `${out}${suffix}"`;
}

/** A JavaScript string as Go would write it. */
export function goJsonString(s: string): string {
  return goJsonBytes(Buffer.from(s, 'utf8'));
}

/** A map[string]string as Go writes it: keys sorted. */
export function goJsonStringMap(m: Readonly<Record<string, string>>): string {
  const keys = Object.keys(m).sort(byBytes);
  return `{${keys.map((k) => `${goJsonString(k)}:${goJsonString(m[k]!)}`).join(',')}}`;
}

/** Go sorts strings by their bytes (UTF-8), not by UTF-16 units. */
export function byBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Length of the valid UTF-8 sequence at i (as Go's utf8.DecodeRune accepts it), 0 when invalid. */
function runeLength(b: Uint8Array, i: number): number {
  const c = b[i]!;
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => {
    const x = b[i + k];
    return x !== undefined && x >= lo && x <= hi;
  };
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if (c === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0; // no surrogates
  if (c >= 0xe1 && c <= 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (c === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}
