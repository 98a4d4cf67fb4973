import { randomBytes } from 'node:crypto';

/** A 64-hex identifier, as Docker's network, endpoint and container IDs. */
export function newId(): string {
  return randomBytes(32).toString('hex');
}

/** The current time in RFC 3339 (UTC), as Docker's Created fields. */
export function nowRfc3339(): string {
  return new Date().toISOString();
}
