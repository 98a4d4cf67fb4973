/** The local image store (see store.ts for the on-disk layout). */
export {
  ImageStore,
  type ContainerUsingImage,
  type ImageUsers,
  type ImageStoreOptions,
  type ImageRecord,
  type ImageDeleteItem,
  type ImportOptions,
  type LoadEvent,
  type LoadResult,
} from './store.js';
export { toDockerSummary, toDockerInspect, toDockerConfig, type DockerImageSummary } from './docker-json.js';
export {
  parseReference,
  tryParseReference,
  normalizeTagged,
  familiarName,
  familiarString,
  fullName,
  splitRepoTag,
  withDefaultTag,
  validateTag,
  type ImageRef,
} from './reference.js';
export { isDigest, asDigest, shortId, type Digest, type ImageConfigFile, type ImageRunConfig } from './config.js';
