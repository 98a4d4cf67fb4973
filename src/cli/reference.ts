/**
 * Image references for the client, using the engine's parser (Docker's
 * distribution/reference rules) so both sides normalise names identically. Parse
 * failures become CliErrors with docker's text ("invalid reference format").
 */
import { familiarName, familiarString, parseReference, withDefaultTag, type ImageRef } from '../engine/images/reference.js';
import { CliError } from './errors.js';

export { familiarName, familiarString, withDefaultTag, type ImageRef };

/** reference.ParseNormalizedNamed. */
export function parseImageRef(s: string): ImageRef {
  try {
    return parseReference(s);
  } catch (e: unknown) {
    throw new CliError(e instanceof Error ? e.message : String(e));
  }
}

/** Like parseImageRef, but undefined for something that is not a name (an image ID). */
export function tryParseImageRef(s: string): ImageRef | undefined {
  try {
    return parseReference(s);
  } catch {
    return undefined;
  }
}

/** An image ID (`sha256:…` or 64 hex digits), which ParseAnyReference accepts as a digest. */
export function isImageId(s: string): boolean {
  return /^(sha256:)?[a-f0-9]{64}$/.test(s);
}

/** The query `POST /images/create` takes for a pull: the full name and the tag or digest. */
export function pullQuery(ref: ImageRef): { fromImage: string; tag: string } {
  const tagged = withDefaultTag(ref);
  return { fromImage: `${ref.domain}/${ref.path}`, tag: tagged.digest ?? tagged.tag ?? 'latest' };
}
