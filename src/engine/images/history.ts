/**
 * `docker history`: an image's history entries, newest first, as dockerd's ImageHistory
 * answers: each entry that made a layer carries that layer's size; the newest entry
 * names the image and its tags, and going down, each image it was committed from
 * names its own entry; entries older than any stored image are `<missing>`.
 */
import { systemError } from '../../errors.js';
import type { Digest } from './config.js';
import type { ImageRecord } from './store.js';

/** One row, as GET /images/{name}/history answers it. */
export interface HistoryItem {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

export interface HistorySource {
  /** The stored image with this ID. */
  get(id: Digest): ImageRecord | undefined;
  /** Bytes of file data in a layer. */
  layerSize(diffId: Digest): number;
}

export function imageHistory(img: ImageRecord, src: HistorySource): HistoryItem[] {
  const diffIds = img.config.rootfs.diff_ids;
  const rows: HistoryItem[] = [];
  let layer = 0;
  for (const h of img.config.history ?? []) {
    let size = 0;
    if (h.empty_layer !== true) {
      const d = diffIds[layer];
      if (d === undefined) throw systemError('too many non-empty layers in History section');
      size = src.layerSize(d);
      layer++;
    }
    const created = h.created === undefined ? 0 : Math.floor(Date.parse(h.created) / 1000);
    rows.unshift({ Id: '<missing>', Created: Number.isFinite(created) ? created : 0, CreatedBy: h.created_by ?? '', Tags: null, Size: size, Comment: h.comment ?? '' });
  }
  let current: ImageRecord | undefined = img;
  for (const row of rows) {
    if (current === undefined) break;
    row.Id = current.id;
    row.Tags = current.repoTags.length > 0 ? current.repoTags : null;
    current = current.parent === undefined ? undefined : src.get(current.parent);
  }
  return rows;
}
