/**
 * The one error family of berth. Code below the API throws these; only src/api maps
 * a kind to an HTTP status. Messages follow Docker's wording where Docker has one.
 */
export type ErrorKind =
  | 'NotFound'
  | 'Unauthorized'
  | 'Conflict'
  | 'InvalidParameter'
  | 'Forbidden'
  | 'Unavailable'
  | 'NotImplemented'
  | 'System';

export class BerthError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    /** Optional hint for a human: what to do about it. */
    readonly hint?: string,
  ) {
    super(message);
    this.name = kind;
  }
}

export const notFound = (msg: string): BerthError => new BerthError('NotFound', msg);
export const conflict = (msg: string): BerthError => new BerthError('Conflict', msg);
export const invalid = (msg: string): BerthError => new BerthError('InvalidParameter', msg);
export const forbidden = (msg: string): BerthError => new BerthError('Forbidden', msg);
export const unavailable = (msg: string): BerthError => new BerthError('Unavailable', msg);
export const notImplemented = (msg: string): BerthError => new BerthError('NotImplemented', msg);
export const systemError = (msg: string): BerthError => new BerthError('System', msg);

export function isBerthError(e: unknown): e is BerthError {
  return e instanceof BerthError;
}

/** The message of anything thrown, for logs and wrapped errors. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Several problems as one message, as moby's internal/multierror joins them: one alone
 * as it is, two or more as a "* " list (a problem's own lines indented under it).
 */
export function joinProblems(problems: readonly string[]): string {
  if (problems.length === 1) return problems[0]!.trim();
  return `* ${problems.map((p) => p.replaceAll('\n', '\n\t')).join('\n* ')}`;
}

/** `e` under a context, as Go's errors.Wrapf words it ("context: cause"); the kind is kept. */
export function wrapError(e: unknown, context: string): BerthError {
  return new BerthError(isBerthError(e) ? e.kind : 'System', `${context}: ${messageOf(e)}`, isBerthError(e) ? e.hint : undefined);
}
