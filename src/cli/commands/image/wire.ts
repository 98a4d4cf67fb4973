/** The parts of Docker's image JSON the CLI reads. */
import { isRecord } from '../../../util/template/values.js';

/** An item of `GET /images/json`. */
export interface ImageSummary {
  readonly Id: string;
  readonly RepoTags?: readonly string[] | null;
  readonly RepoDigests?: readonly string[] | null;
  readonly Created?: number;
  readonly Size?: number;
  readonly SharedSize?: number;
  readonly Containers?: number;
}

export function isImageSummary(v: unknown): v is ImageSummary {
  return isRecord(v) && typeof v.Id === 'string';
}

/** An item of `DELETE /images/{name}`. */
export interface ImageDeleteItem {
  readonly Untagged?: string;
  readonly Deleted?: string;
}

/** Image paths keep "/" and ":" as docker's client sends them (`/images/library/busybox:latest/json`). */
export function imagePath(ref: string, suffix = ''): string {
  return `/images/${ref.split('/').map((p) => encodeURIComponent(p).replace(/%3A/gi, ':').replace(/%40/g, '@')).join('/')}${suffix}`;
}
