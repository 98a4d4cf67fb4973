/** A container's files: /containers/{id}/archive (HEAD, GET, PUT, for docker cp), /containers/{id}/changes and /containers/{id}/export. */
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { invalid } from '../../errors.js';
import type { ContainerArchives } from '../../engine/containers/archive.js';
import { encodePathStat } from '../../engine/containers/path-stat.js';
import { API_VERSION, type ApiRequest, type Router } from '../router.js';
import { boolParam } from '../wire.js';

const STAT_HEADER = 'X-Docker-Container-Path-Stat';

function pathParam(req: ApiRequest): string {
  const p = req.query.get('path') ?? '';
  if (p === '') throw invalid('bad parameter: path cannot be empty');
  return p;
}

/** Streams a tar as the answer; a client that goes away ends it quietly. */
export async function sendTar(res: ServerResponse, tar: AsyncIterable<Buffer>, headers: Record<string, string>): Promise<void> {
  res.writeHead(200, { 'Api-Version': API_VERSION, ...headers });
  try {
    await pipeline(Readable.from(tar), res);
  } catch (e: unknown) {
    if (res.destroyed && (e as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE') return;
    throw e;
  }
}

export function archiveRoutes(router: Router, archives: ContainerArchives): void {
  router
    .add('HEAD', '/containers/{id}/archive', async (req) => {
      const stat = await archives.stat(req.params.id!, pathParam(req));
      return { status: 200, headers: { [STAT_HEADER]: encodePathStat(stat) } };
    })
    .add('GET', '/containers/{id}/archive', async (req) => {
      await archives.get(req.params.id!, pathParam(req), async (stat, tar) =>
        sendTar(req.res, tar, { 'Content-Type': 'application/x-tar', [STAT_HEADER]: encodePathStat(stat) }),
      );
      return { handled: true };
    })
    .add('PUT', '/containers/{id}/archive', async (req) => {
      const path = pathParam(req);
      // The docker CLI always asks for noOverwriteDirNonDir; absent, Docker allows it.
      await archives.put(req.params.id!, path, req.raw, {
        noOverwriteDirNonDir: boolParam(req.query, 'noOverwriteDirNonDir'),
        copyUIDGID: boolParam(req.query, 'copyUIDGID'),
      });
      return { status: 200 };
    })
    .add('GET', '/containers/{id}/changes', async (req) => ({ status: 200, body: await archives.changes(req.params.id!) }))
    .add('GET', '/containers/{id}/export', async (req) => {
      await archives.export(req.params.id!, async (tar) => sendTar(req.res, tar, { 'Content-Type': 'application/octet-stream' }));
      return { handled: true };
    });
}
