/**
 * GET /distribution/{name}/json: what a registry says an image reference is now — its
 * manifest's descriptor (the digest `docker service create` pins in the spec, so every
 * node runs the same image) and the platforms it is made for — without pulling it.
 */
import { systemError } from '../../../errors.js';
import { parseImageConfig, sha256Digest } from '../config.js';
import { familiarName, familiarString, type ImageRef } from '../reference.js';
import type { Credentials } from './auth.js';
import { Repository } from './client.js';
import { fetchSmallBlob } from './download.js';
import { pullError } from './errors.js';
import type { RegistryHosts } from './hosts.js';
import { parseManifest, type Platform } from './manifest.js';

export interface DistributionInspect {
  descriptor: { mediaType: string; digest: string; size: number };
  platforms: Platform[];
}

/** The registry's manifest for `ref` (a tag or a digest); Docker's pull errors when it has none or refuses. */
export async function inspectDistribution(hosts: RegistryHosts, ref: ImageRef, creds: Credentials | undefined): Promise<DistributionInspect> {
  let last: unknown = systemError(`no endpoint for ${ref.domain}`);
  for (const endpoint of await hosts.endpoints(ref.domain, { mirrors: false })) {
    try {
      const repo = await Repository.connect(endpoint, ref.path, creds, ['pull']);
      const got = await repo.manifest(ref.digest ?? ref.tag ?? 'latest');
      const digest = sha256Digest(got.raw);
      if (ref.digest !== undefined && digest !== ref.digest) throw systemError(`manifest verification failed for digest ${ref.digest}`);
      const manifest = parseManifest(got.raw, got.mediaType, familiarString(ref));
      // An index names its platforms; a single image's is in its config.
      const platforms =
        manifest.kind === 'index'
          ? manifest.manifests.flatMap((d) => (d.platform ? [d.platform] : []))
          : [platformOf(parseImageConfig(await fetchSmallBlob(repo, manifest.config, 'image config')))];
      return { descriptor: { mediaType: got.mediaType, digest, size: got.raw.length }, platforms };
    } catch (e: unknown) {
      last = e;
    }
  }
  throw pullError(last, familiarName(ref), familiarString(ref));
}

function platformOf(config: { architecture?: string; os?: string; variant?: string }): Platform {
  return { architecture: config.architecture ?? '', os: config.os ?? '', ...(config.variant ? { variant: config.variant } : {}) };
}
