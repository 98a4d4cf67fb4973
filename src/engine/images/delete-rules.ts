/** docker rmi's rules, as dockerd applies them: which references make one, and what stops a delete. */
import { conflict } from '../../errors.js';
import { hexOf, shortId, type Digest } from './config.js';
import type { StoredRef } from './refstore.js';
import type { ContainerUsingImage } from './types.js';

export interface DeleteConflict {
  hard: boolean;
  used: boolean;
  message: string;
}

/** Docker's isSingleReference: at most one tag, and digests only of that repository. */
export function isSingleReference(refs: readonly StoredRef[]): boolean {
  if (refs.length <= 1) return refs.length === 1;
  let single: StoredRef | undefined;
  const canonicalRepos = new Set<string>();
  for (const r of refs) {
    if (r.canonical) canonicalRepos.add(r.repo);
    else if (single === undefined) single = r;
    else return false;
  }
  const chosen = single ?? refs[0];
  return canonicalRepos.size === 1 && chosen !== undefined && canonicalRepos.has(chosen.repo);
}

export function isImageIdPrefix(id: Digest, s: string): boolean {
  return id.startsWith(s) || hexOf(id).startsWith(s);
}

/** Which conflicts count (dockerd's conflict mask). */
export interface ConflictMask {
  running: boolean;
  refs: boolean;
  stopped: boolean;
}

/** What the store knows of an image when it is to go. */
export interface DeleteFacts {
  hasChild: boolean;
  users: readonly ContainerUsingImage[];
  referenced: boolean;
}

/** The first conflict that stops deleting the image, in dockerd's order. */
export function deleteConflict(mask: ConflictMask, facts: DeleteFacts): DeleteConflict | undefined {
  if (facts.hasChild) {
    return { hard: true, used: false, message: 'image has dependent child images' };
  }
  const { users } = facts;
  const running = users.find((u) => u.running);
  if (mask.running && running !== undefined) {
    return { hard: true, used: true, message: `image is being used by running container ${shortId(running.id)}` };
  }
  if (mask.refs && facts.referenced) {
    return { hard: false, used: false, message: 'image is referenced in multiple repositories' };
  }
  const stopped = users.find((u) => !u.running);
  if (mask.stopped && stopped !== undefined) {
    return { hard: false, used: true, message: `image is being used by stopped container ${shortId(stopped.id)}` };
  }
  return undefined;
}

export function conflictError(id: Digest, c: DeleteConflict): Error {
  return conflict(`conflict: unable to delete ${shortId(id)} (${c.hard ? 'cannot be forced' : 'must be forced'}) - ${c.message}`);
}
