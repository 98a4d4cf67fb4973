/** The image store's public shapes: what the engine, the API and the tests see of it. */
import type { EventSink } from '../../events/types.js';
import type { Digest, ImageConfigFile } from './config.js';

/** A container created from an image, as the engine reports it. */
export interface ContainerUsingImage {
  id: string;
  running: boolean;
}

/** The engine's answer to "which containers use this image?" (called under the store lock). */
export type ImageUsers = (imageId: Digest) => readonly ContainerUsingImage[];

export interface ImageStoreOptions {
  /** The daemon's data root; the store lives in <dataRoot>/images. */
  dataRoot: string;
  users?: ImageUsers;
  /** Where the static busybox is (default /bin/busybox). */
  busyboxPath?: string;
  /** Where image events (pull, tag, untag, delete, import, load) go. */
  events?: EventSink;
}

/** One image as the store knows it (the API shapes it; see docker-json.ts). */
export interface ImageRecord {
  id: Digest;
  config: ImageConfigFile;
  /** Familiar `repo:tag` references, sorted. */
  repoTags: string[];
  /** Familiar `repo@sha256:…` references, sorted. */
  repoDigests: string[];
  /** Bytes of file data over all layers. */
  size: number;
  lastTagTime: string | undefined;
  /** The image a commit was made from (while it is stored), as Docker links them. */
  parent?: Digest;
}

/** One line of `docker rmi` output. */
export type ImageDeleteItem = { Untagged: string } | { Deleted: string };

export interface ImportOptions {
  /** Repository (may carry a tag: `busybox:x`); none leaves the image untagged. */
  repo?: string;
  tag?: string;
  /** Dockerfile instructions (`--change`). */
  changes?: readonly string[];
  /** Commit message; default "Imported from <src>". */
  message?: string;
  /** Where the tarball came from, for the default message (`-` for a stream). */
  src?: string;
}

export type LoadEvent =
  | { type: 'progress'; action: 'Loading layer'; id: string; current: number; total: number }
  | { type: 'message'; text: string };

export interface LoadResult {
  images: { id: Digest; tags: string[] }[];
  /** Docker's lines: `Loaded image: busybox:latest`, `Loaded image ID: sha256:…`, renames. */
  messages: string[];
}

/** sha256 of an empty archive (two zero blocks): a layer that changes nothing. */
export const EMPTY_LAYER = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef' as Digest;

/** What a child image is made of (docker commit). */
export interface ChildImage {
  /** The image it is made from; undefined for none (a build's `FROM scratch`). */
  parent: Digest | undefined;
  /** The new layer's archive; an empty one, or none, adds no layer. */
  layer?: AsyncIterable<Buffer>;
  /** The config, made once the layer's diff-id is known (undefined: the layer was empty). */
  makeConfig(parent: ImageConfigFile, diffId: Digest | undefined): ImageConfigFile;
  /** `repo[:tag]` to tag it with. */
  tag?: { repo: string; tag?: string };
}
