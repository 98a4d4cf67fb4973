/**
 * Swarm mode's identifiers and secrets, in Docker's formats:
 * - IDs of the cluster and its nodes: 25 lowercase base-36 characters (swarmkit's NewID).
 * - Join tokens: SWMTKN-1-<digest>-<secret>. The digest (sha256 of the root CA's PEM,
 *   base 36, 50 characters) pins the CA a joining node must find; the secret (16 random
 *   bytes, base 36, 25 characters) decides the role. A rotation changes the secret only.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { invalid } from '../errors.js';

const DIGEST_LEN = 50;
const SECRET_LEN = 25;

/** swarmkit's NewID: 17 random bytes with the top bit set, in base 36, characters 1 to 25. */
export function newSwarmId(): string {
  const b = randomBytes(17);
  b[0] = b[0]! | 0x80;
  return BigInt(`0x${b.toString('hex')}`).toString(36).slice(1, 26);
}

const base36 = (hex: string, len: number): string => BigInt(`0x${hex}`).toString(36).padStart(len, '0');

/** The CA part of a token: what a joining node checks the root it is shown against. */
export function caDigestPart(rootPem: string): string {
  return base36(createHash('sha256').update(rootPem).digest('hex'), DIGEST_LEN);
}

/** A fresh token for the cluster whose root is `rootPem`. */
export function newJoinToken(rootPem: string): string {
  return `SWMTKN-1-${caDigestPart(rootPem)}-${base36(randomBytes(16).toString('hex'), SECRET_LEN)}`;
}

export interface ParsedToken {
  /** The CA digest part, as in the token. */
  digest: string;
  secret: string;
}

/** Docker's ParseJoinToken: anything malformed is "invalid join token". */
export function parseJoinToken(token: string): ParsedToken {
  const parts = token.split('-');
  if (parts.length !== 4 || parts[0] !== 'SWMTKN' || parts[1] !== '1') throw invalid('invalid join token');
  const [, , digest = '', secret = ''] = parts;
  if (digest.length !== DIGEST_LEN || secret.length !== SECRET_LEN || !/^[0-9a-z]+$/.test(digest + secret)) throw invalid('invalid join token');
  return { digest, secret };
}

/** Whether a token is one of the cluster's current ones (compared in constant time, as swarmkit does). */
export function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The join tokens as the store keeps them: sealed (AES-256-GCM) with a key derived from
 * the CA's private key, which only managers hold, since workers read the store too.
 */
export function sealTokens(tokens: { worker: string; manager: string }, caKeyPem: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', tokenKey(caKeyPem), iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(tokens)), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
}

export function openTokens(sealed: string, caKeyPem: string): { worker: string; manager: string } {
  const raw = Buffer.from(sealed, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', tokenKey(caKeyPem), raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  return JSON.parse(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString()) as { worker: string; manager: string };
}

function tokenKey(caKeyPem: string): Buffer {
  return Buffer.from(hkdfSync('sha256', caKeyPem, 'berth', 'join tokens', 32));
}
