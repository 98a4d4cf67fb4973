/** POST /commit: a new image from a container (docker commit). */
import { commitContainer, type CommitDeps } from '../../engine/containers/commit.js';
import type { Json } from '../../store/kv.js';
import type { Router } from '../router.js';

export function commitRoutes(router: Router, deps: CommitDeps): void {
  router.add('POST', '/commit', async (req) => {
    const q = req.query;
    const body = (await req.json()) as Json;
    // `pause` is accepted and not needed: the layer is read as it is on disk.
    const id = await commitContainer(deps, q.get('container') ?? '', {
      ...(q.get('repo') ? { repo: q.get('repo')! } : {}),
      ...(q.get('tag') ? { tag: q.get('tag')! } : {}),
      ...(q.get('comment') ? { comment: q.get('comment')! } : {}),
      ...(q.get('author') ? { author: q.get('author')! } : {}),
      changes: q.getAll('changes'),
      config: body,
    });
    return { status: 201, body: { Id: id } };
  });
}
