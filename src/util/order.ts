/**
 * Plain code-unit order for sort(), as Go compares strings. Not localeCompare: that one
 * goes through ICU collation, whose data pages alone add megabytes to the daemon's RSS.
 */
export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
