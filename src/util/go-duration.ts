/**
 * Go's time.Duration.String(), for messages dockerd prints with %v ("30s", "200ms",
 * "1m30s", "1.5µs"): the unit is the largest that keeps the integer part non-zero below
 * a second, hours, minutes and seconds above it; fractions lose their trailing zeros.
 */
export function goDuration(ns: number): string {
  const n = Math.round(Math.abs(ns));
  const sign = ns < 0 && n !== 0 ? '-' : '';
  if (n === 0) return '0s';
  if (n < 1e3) return `${sign}${n}ns`;
  if (n < 1e6) return `${sign}${fraction(n, 3)}µs`;
  if (n < 1e9) return `${sign}${fraction(n, 6)}ms`;
  const hours = Math.floor(n / 3600e9);
  const minutes = Math.floor((n % 3600e9) / 60e9);
  const seconds = `${fraction(n % 60e9, 9)}s`;
  if (hours > 0) return `${sign}${hours}h${minutes}m${seconds}`;
  if (minutes > 0) return `${sign}${minutes}m${seconds}`;
  return `${sign}${seconds}`;
}

/** `v` / 10^digits, the fraction without trailing zeros (Go's fmtFrac and fmtInt). */
function fraction(v: number, digits: number): string {
  const scale = 10 ** digits;
  const whole = Math.floor(v / scale);
  const frac = String(v % scale).padStart(digits, '0').replace(/0+$/, '');
  return frac === '' ? String(whole) : `${whole}.${frac}`;
}
