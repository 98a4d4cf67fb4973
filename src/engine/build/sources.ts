/**
 * COPY and ADD sources: each source path (globs allowed, as Go's filepath.Match reads
 * them: `*`, `?`, `[...]` within one path element) found under a root folder (the build
 * context, or an image's files), what .dockerignore leaves out skipped, and the content
 * hash the build cache keys the step with (`file:<hex>`, `dir:<hex>`, `multi:<hex>`).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { invalid, notFound } from '../../errors.js';
import type { IgnoreMatcher } from './ignore.js';
import { resolveScoped } from './scoped.js';

/** One source found: its path relative to the root and on the host. */
export interface Source {
  /** The path as the pattern matched it (its base name is what a copy keeps). */
  rel: string;
  /** Where it is on the host, resolved inside the root. */
  host: string;
}

const GLOB = /[*?[]/;

function elementRegExp(pattern: string): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? '';
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end === -1) throw invalid(`syntax error in pattern: ${pattern}`);
      const body = pattern.slice(i + 1, end);
      re += `[${body.startsWith('^') || body.startsWith('!') ? `^${body.slice(1)}` : body}]`;
      i = end;
    } else if (c === '\\' && i + 1 < pattern.length) re += `\\${pattern[++i] ?? ''}`;
    else re += /[.+^${}()|\]\\/]/.test(c) ? `\\${c}` : c;
  }
  return new RegExp(`${re}$`, 's');
}

/** The path cleaned and made relative to the root; outside the root is refused as Docker does. */
export function cleanSource(src: string): string {
  const n = path.posix.normalize(src);
  if (n === '..' || n.startsWith('../')) throw invalid(`Forbidden path outside the build context: ${src} ()`);
  const c = path.posix.normalize(`/${src}`).slice(1);
  return c === '.' ? '' : c.replace(/\/+$/, '');
}

/**
 * Expand the pattern's elements under `real` (elements already resolved in scope);
 * `shown` is the path as matched, whose base name a copy keeps.
 */
async function expand(root: string, parts: readonly string[], real: string[], shown: string[], ignore: IgnoreMatcher | undefined, out: Source[]): Promise<void> {
  if (parts.length === 0) {
    const rel = shown.join('/');
    if (ignore === undefined || !ignore.excludes(rel)) out.push({ rel, host: path.join(root, ...real) });
    return;
  }
  const [head, ...rest] = parts as [string, ...string[]];
  const names = GLOB.test(head) ? (await fs.readdir(path.join(root, ...real)).catch(() => [] as string[])).sort().filter((n) => elementRegExp(head).test(n)) : [head];
  for (const name of names) {
    const next = await resolveScoped(root, [...real, name].join('/'), true);
    if ((await fs.lstat(path.join(root, ...next)).catch(() => undefined)) === undefined) continue;
    await expand(root, rest, next, [...shown, name], ignore, out);
  }
}

/**
 * The sources `src` names under `root`. A plain path that is missing (or ignored) is
 * Docker's `file not found in build context`; a glob matching nothing gives no source.
 */
export async function findSources(root: string, src: string, ignore: IgnoreMatcher | undefined, verb: string): Promise<Source[]> {
  const rel = cleanSource(src);
  const parts = rel === '' ? [] : rel.split('/');
  const out: Source[] = [];
  await expand(root, parts, [], [], ignore, out);
  if (out.length === 0 && !GLOB.test(rel)) {
    throw notFound(`${verb} failed: file not found in build context or excluded by .dockerignore: stat ${src}: file does not exist`);
  }
  return out;
}

async function hashInto(h: ReturnType<typeof createHash>, host: string, rel: string, ignore: IgnoreMatcher | undefined, ctxRel: string): Promise<void> {
  const st = await fs.lstat(host);
  h.update(`${rel}\0${st.mode}\0`);
  if (st.isSymbolicLink()) h.update(await fs.readlink(host));
  else if (st.isFile()) {
    const fh = await fs.open(host, 'r');
    try {
      for await (const chunk of fh.createReadStream()) h.update(chunk as Buffer);
    } finally {
      await fh.close();
    }
  } else if (st.isDirectory()) {
    for (const name of (await fs.readdir(host)).sort()) {
      const childCtx = ctxRel === '' ? name : `${ctxRel}/${name}`;
      if (ignore?.excludes(childCtx) === true) continue;
      await hashInto(h, path.join(host, name), `${rel}/${name}`, ignore, childCtx);
    }
  }
  h.update('\n');
}

/** The content hash of the sources, as the step's cache key shows it. */
export async function hashSources(sources: readonly Source[], ignore: IgnoreMatcher | undefined): Promise<string> {
  const h = createHash('sha256');
  let kind = 'multi';
  for (const s of sources) await hashInto(h, s.host, path.posix.basename(s.rel), ignore, s.rel);
  if (sources.length === 1) {
    const st = await fs.lstat(sources[0]!.host);
    kind = st.isDirectory() ? 'dir' : 'file';
  }
  return `${kind}:${h.digest('hex')}`;
}
