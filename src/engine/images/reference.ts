/**
 * Image references, parsed and normalised as Docker's distribution/reference does:
 * `busybox` -> docker.io/library/busybox:latest, shown "familiar" as `busybox:latest`;
 * `localhost:5000/x@sha256:…` keeps its domain. Error texts are Docker's.
 */
import { invalid } from '../../errors.js';

export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';
export const DEFAULT_TAG = 'latest';
const NAME_TOTAL_LENGTH_MAX = 255;

const alnum = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alnum}(?:${separator}${alnum})*`;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domainName = `${domainComponent}(?:\\.${domainComponent})*`;
const ipv6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainAndPort = `(?:${domainName}|${ipv6})(?::[0-9]+)?`;
const namePat = `(?:${domainAndPort}/)?${pathComponent}(?:/${pathComponent})*`;
const tagPat = '[\\w][\\w.-]{0,127}';
const digestPat = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';

const REFERENCE_RE = new RegExp(`^(${namePat})(?::(${tagPat}))?(?:@(${digestPat}))?$`);
const TAG_RE = new RegExp(`^${tagPat}$`);
const ANCHORED_ID_RE = /^[a-f0-9]{64}$/;

/** A parsed, normalised reference: domain and path always set (`docker.io`, `library/busybox`). */
export interface ImageRef {
  domain: string;
  /** The repository path below the domain, e.g. `library/busybox`. */
  path: string;
  tag?: string;
  digest?: string;
}

function formatError(): Error {
  return invalid('invalid reference format');
}

/** Strict parse of an already-normalised string (Docker's reference.Parse). */
function parseStrict(s: string): { name: string; tag?: string; digest?: string } {
  const m = REFERENCE_RE.exec(s);
  if (m === null) {
    if (s === '') throw invalid('invalid reference format: repository name must have at least one component');
    if (REFERENCE_RE.test(s.toLowerCase())) throw invalid('invalid reference format: repository name must be lowercase');
    throw formatError();
  }
  const name = m[1] ?? '';
  if (name.length > NAME_TOTAL_LENGTH_MAX) {
    throw invalid(`invalid reference format: repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  }
  const out: { name: string; tag?: string; digest?: string } = { name };
  if (m[2] !== undefined) out.tag = m[2];
  if (m[3] !== undefined) {
    const digest = m[3];
    if (digest.startsWith('sha256:') && !/^sha256:[a-f0-9]{64}$/.test(digest)) throw invalid('invalid checksum digest format');
    out.digest = digest;
  }
  return out;
}

function splitDomain(name: string): { domain: string; remainder: string } {
  const i = name.indexOf('/');
  let domain: string;
  let remainder: string;
  const first = i === -1 ? '' : name.slice(0, i);
  if (i === -1 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  } else {
    domain = first;
    remainder = name.slice(i + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_PREFIX + remainder;
  return { domain, remainder };
}

/**
 * Parse a user-supplied reference (Docker's ParseNormalizedNamed). Throws
 * InvalidParameter with Docker's texts, e.g. `invalid reference format`.
 */
export function parseReference(s: string): ImageRef {
  if (ANCHORED_ID_RE.test(s)) {
    throw invalid(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  }
  const { domain, remainder } = splitDomain(s);
  const tagSep = remainder.indexOf(':');
  const remoteName = tagSep > -1 ? remainder.slice(0, tagSep) : remainder;
  if (remoteName.toLowerCase() !== remoteName) {
    throw invalid(`invalid reference format: repository name (${remoteName}) must be lowercase`);
  }
  const parsed = parseStrict(`${domain}/${remainder}`);
  const slash = parsed.name.indexOf('/');
  const ref: ImageRef = { domain: parsed.name.slice(0, slash), path: parsed.name.slice(slash + 1) };
  if (parsed.tag !== undefined) ref.tag = parsed.tag;
  if (parsed.digest !== undefined) ref.digest = parsed.digest;
  return ref;
}

/** Like parseReference, but undefined instead of throwing. */
export function tryParseReference(s: string): ImageRef | undefined {
  try {
    return parseReference(s);
  } catch {
    return undefined;
  }
}

/** The reference with `latest` filled in when it has neither tag nor digest (TagNameOnly). */
export function withDefaultTag(ref: ImageRef): ImageRef {
  return ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: DEFAULT_TAG } : ref;
}

/** `docker.io/library/busybox` -> `busybox`; other domains stay (`localhost:5000/x`). */
export function familiarName(ref: ImageRef): string {
  if (ref.domain !== DEFAULT_DOMAIN) return `${ref.domain}/${ref.path}`;
  if (ref.path.startsWith(OFFICIAL_PREFIX) && !ref.path.slice(OFFICIAL_PREFIX.length).includes('/')) {
    return ref.path.slice(OFFICIAL_PREFIX.length);
  }
  return ref.path;
}

/** The full name, as registries see it: `docker.io/library/busybox`. */
export function fullName(ref: ImageRef): string {
  return `${ref.domain}/${ref.path}`;
}

/** `busybox:latest`, `busybox@sha256:…`, `busybox:1.36@sha256:…` (as `docker images` shows). */
export function familiarString(ref: ImageRef): string {
  let s = familiarName(ref);
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/** Parse and return the familiar form with a default tag: `busybox` -> `busybox:latest`. */
export function normalizeTagged(s: string): string {
  return familiarString(withDefaultTag(parseReference(s)));
}

/** Check a bare tag (`docker tag x repo:TAG`, `?tag=`). */
export function validateTag(tag: string): void {
  if (!TAG_RE.test(tag)) throw formatError();
}

/** Split a familiar `repo:tag` into its two columns, as `docker images` prints them. */
export function splitRepoTag(familiar: string): { repository: string; tag: string } {
  const at = familiar.indexOf('@');
  const noDigest = at === -1 ? familiar : familiar.slice(0, at);
  const colon = noDigest.lastIndexOf(':');
  if (colon > noDigest.lastIndexOf('/')) return { repository: noDigest.slice(0, colon), tag: noDigest.slice(colon + 1) };
  return { repository: noDigest, tag: '<none>' };
}

/** A `docker tag` / import target: a name with a tag (default latest), never a digest. */
export function tagTarget(repo: string, tag?: string): ImageRef {
  const ref = parseReference(repo);
  if (ref.digest !== undefined) throw invalid('refusing to create a tag with a digest reference');
  if (tag !== undefined && tag !== '') {
    validateTag(tag);
    return { ...ref, tag };
  }
  return withDefaultTag(ref);
}
