/** The one place where berth's error kinds become HTTP statuses. */
import { isBerthError, type ErrorKind } from '../errors.js';

const STATUS: Record<ErrorKind, number> = {
  InvalidParameter: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  Conflict: 409,
  NotImplemented: 501,
  Unavailable: 503,
  System: 500,
};

export function httpStatusOf(e: unknown): number {
  return isBerthError(e) ? STATUS[e.kind] : 500;
}
