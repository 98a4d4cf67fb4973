/**
 * Image manifests and indexes (Docker schema 2 and OCI): parsed and checked, and the
 * entry of an index chosen for a platform as Docker chooses it.
 */
import { invalid } from '../../../errors.js';
import { goArch } from '../config.js';
import { MT_DOCKER_LIST, MT_DOCKER_MANIFEST, MT_OCI_INDEX, MT_OCI_MANIFEST, MT_SCHEMA1, MT_SCHEMA1_SIGNED } from './client.js';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  urls?: string[];
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** What a manifest says: a config and its layers, bottom first. */
export interface ImageManifest {
  kind: 'image';
  config: Descriptor;
  layers: Descriptor[];
}

export interface ManifestIndex {
  kind: 'index';
  manifests: Descriptor[];
}

const CONFIG_TYPES = new Set(['application/vnd.docker.container.image.v1+json', 'application/vnd.oci.image.config.v1+json']);
/** Layer media types berth can unpack (any compression is sniffed from the bytes). */
const LAYER_TYPE = /^application\/vnd\.(docker\.image\.rootfs\.diff\.tar(\.gzip|\.zstd)?|oci\.image\.layer\.v1\.tar(\+gzip|\+zstd)?|oci\.image\.layer\.nondistributable\.v1\.tar(\+gzip|\+zstd)?)$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

function descriptor(v: unknown, what: string): Descriptor {
  const o = typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
  const digest = typeof o.digest === 'string' ? o.digest : '';
  if (!DIGEST.test(digest)) throw invalid(`invalid ${what} digest ${JSON.stringify(digest)} in manifest`);
  const d: Descriptor = { mediaType: typeof o.mediaType === 'string' ? o.mediaType : '', digest, size: typeof o.size === 'number' ? o.size : -1 };
  const p = o.platform;
  if (typeof p === 'object' && p !== null) {
    const q = p as Record<string, unknown>;
    d.platform = { os: String(q.os ?? ''), architecture: String(q.architecture ?? '') };
    if (typeof q.variant === 'string' && q.variant !== '') d.platform.variant = q.variant;
  }
  if (Array.isArray(o.urls)) d.urls = o.urls.filter((u): u is string => typeof u === 'string');
  return d;
}

/** Docker's wording for a schema 1 manifest, which it no longer pulls. */
export function schema1Error(ref: string): Error {
  return invalid(
    `Docker Image Format v1 and Docker Image manifest version 2, schema 1 support has been removed. Suggest the author of ${ref} to upgrade the image to the OCI Format or Docker Image manifest v2, schema 2. More information at https://docs.docker.com/go/deprecated-image-specs/`,
  );
}

/** A manifest or an index, by its media type; others are refused as Docker refuses them. */
export function parseManifest(raw: Buffer, mediaType: string, ref: string): ImageManifest | ManifestIndex {
  if (mediaType === MT_SCHEMA1 || mediaType === MT_SCHEMA1_SIGNED) throw schema1Error(ref);
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(raw.toString()) as Record<string, unknown>;
  } catch {
    throw invalid('unsupported manifest format');
  }
  if (mediaType === MT_DOCKER_LIST || mediaType === MT_OCI_INDEX) {
    if (!Array.isArray(doc.manifests)) throw invalid('unsupported manifest format');
    return { kind: 'index', manifests: doc.manifests.map((m) => descriptor(m, 'manifest')) };
  }
  if (mediaType !== MT_DOCKER_MANIFEST && mediaType !== MT_OCI_MANIFEST) throw invalid('unsupported manifest format');
  if (!Array.isArray(doc.layers)) throw invalid('unsupported manifest format');
  const config = descriptor(doc.config, 'config');
  if (!CONFIG_TYPES.has(config.mediaType)) {
    const cls = config.mediaType.includes('helm') ? 'Helm Chart' : config.mediaType.includes('plugin') ? 'Plugin' : 'unknown';
    throw invalid(`Encountered remote "${config.mediaType}"(${cls}) when fetching`);
  }
  const layers = doc.layers.map((l) => descriptor(l, 'layer'));
  for (const l of layers) {
    if (!LAYER_TYPE.test(l.mediaType)) throw invalid(`unsupported media type ${l.mediaType}`);
  }
  return { kind: 'image', config, layers };
}

/** `os[/arch[/variant]]` (the --platform flag), normalised as containerd's platforms.Parse. */
export function parsePlatform(s: string): Platform {
  const parts = s.toLowerCase().split('/');
  if (parts.length > 3 || parts.some((p) => p === '')) throw invalid(`"${s}": unknown operating system or architecture: invalid argument`);
  const arch = normaliseArch(parts[1] ?? goArch(), parts[2]);
  const p: Platform = { os: parts[0]!, architecture: arch.architecture };
  if (arch.variant !== undefined) p.variant = arch.variant;
  return p;
}

function normaliseArch(architecture: string, variant: string | undefined): { architecture: string; variant?: string } {
  switch (architecture) {
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      return variant === undefined || variant === 'v1' ? { architecture: 'amd64' } : { architecture: 'amd64', variant };
    case 'aarch64':
    case 'arm64':
      return variant === undefined || variant === '8' || variant === 'v8' ? { architecture: 'arm64' } : { architecture: 'arm64', variant };
    case 'armhf':
      return { architecture: 'arm', variant: 'v7' };
    case 'armel':
      return { architecture: 'arm', variant: 'v6' };
    case 'arm':
      return { architecture: 'arm', variant: variant === undefined ? 'v7' : variant.startsWith('v') ? variant : `v${variant}` };
    case 'i386':
      return { architecture: '386' };
    default:
      return variant === undefined ? { architecture } : { architecture, variant };
  }
}

/** The host's platform (what a pull without --platform asks for). */
export function hostPlatform(): Platform {
  return parsePlatform(`linux/${goArch()}`);
}

/** `linux/amd64`, `linux/arm/v7` (containerd's FormatAll). */
export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter((x) => x !== undefined && x !== '').join('/');
}

/** The index entry for `want`: same OS and architecture, the variant when one is asked. */
export function choosePlatform(index: ManifestIndex, want: Platform): Descriptor {
  const candidates = index.manifests.filter((m) => {
    const p = m.platform;
    if (p === undefined || (m.mediaType !== MT_DOCKER_MANIFEST && m.mediaType !== MT_OCI_MANIFEST && m.mediaType !== '')) return false;
    const have = normaliseArch(p.architecture, p.variant);
    if (p.os !== want.os || have.architecture !== want.architecture) return false;
    return want.variant === undefined || have.variant === undefined || have.variant === want.variant;
  });
  // An exact variant beats an entry without one.
  const exact = candidates.find((m) => m.platform?.variant === want.variant);
  const chosen = exact ?? candidates[0];
  if (chosen === undefined) throw invalid(`no matching manifest for ${formatPlatform(want)} in the manifest list entries`);
  return chosen;
}
