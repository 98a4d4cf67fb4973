import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { hostsWithoutLink, removeLegacyLink, type LinkOwners } from '../../src/engine/containers/legacy-links.js';
import type { ContainerRecord } from '../../src/engine/containers/model.js';
import { parseLink } from '../../src/engine/containers/networking.js';
import { notFound } from '../../src/errors.js';

function container(name: string, links: string[], status = 'running'): ContainerRecord {
  return {
    id: name.padEnd(64, 'a'),
    spec: { name, links },
    state: { status },
    docker: { config: {}, hostConfig: { Links: links, NetworkMode: 'bridge' } },
  } as unknown as ContainerRecord;
}

/** The engine's part, over a map of records; /etc files in a temporary folder. */
function owners(records: ContainerRecord[], dir: string): LinkOwners & { records: Map<string, ContainerRecord> } {
  const map = new Map(records.map((c) => [c.id, c]));
  const find = (x: string): ContainerRecord => {
    const c = [...map.values()].find((r) => r.id === x || r.spec.name === x.replace(/^\//, ''));
    if (!c) throw notFound(`No such container: ${x}`);
    return c;
  };
  return {
    records: map,
    list: () => [...map.values()],
    find,
    facts: { etcDir: () => dir },
    updateRecord: async (id, change) => {
      const c = await change(find(id));
      map.set(c.id, c);
    },
  };
}

describe('docker rm --link', () => {
  it('reads links as Docker does', () => {
    assert.deepEqual(parseLink('db'), { target: 'db', alias: 'db' });
    assert.deepEqual(parseLink('db:cache'), { target: 'db', alias: 'cache' });
    assert.deepEqual(parseLink('/db:/web/cache'), { target: 'db', alias: 'cache' });
  });

  it("drops only the link's hosts line, whatever its address", () => {
    const text = '127.0.0.1\tlocalhost\n192.0.2.9\tcache\n172.17.0.9\tcache db 0123456789ab\n172.17.0.3\t3210fedcba98\n';
    assert.equal(hostsWithoutLink(text, { target: 'db', alias: 'cache' }), '127.0.0.1\tlocalhost\n192.0.2.9\tcache\n172.17.0.3\t3210fedcba98\n');
    assert.equal(hostsWithoutLink(text, { target: 'other', alias: 'cache' }), text);
  });

  it("takes the link off the parent's record, HostConfig and running hosts file", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-links-'));
    try {
      fs.writeFileSync(path.join(dir, 'hosts'), '127.0.0.1\tlocalhost\n172.17.0.9\tcache db 0123456789ab\n172.17.0.8\tq queue 0123456789ac\n');
      const o = owners([container('web', ['db:cache', 'queue:q']), container('db', []), container('queue', [])], dir);
      await removeLegacyLink(o, '/web/cache');
      const web = o.find('web');
      assert.deepEqual(web.spec.links, ['queue:q']);
      assert.deepEqual((web.docker.hostConfig as { Links: string[] }).Links, ['queue:q']);
      assert.equal(fs.readFileSync(path.join(dir, 'hosts'), 'utf8'), '127.0.0.1\tlocalhost\n172.17.0.8\tq queue 0123456789ac\n');
      await removeLegacyLink(o, 'web/q');
      assert.deepEqual(o.find('web').spec.links, []);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a container's own name and an unknown link in dockerd's words", async () => {
    const o = owners([container('web', ['db:cache']), container('db', [])], '/nonexistent');
    await assert.rejects(removeLegacyLink(o, 'db'), { name: 'Conflict', message: 'Conflict, cannot remove the default link name of the container' });
    await assert.rejects(removeLegacyLink(o, 'nothere'), { name: 'NotFound', message: 'No such container: nothere' });
    await assert.rejects(removeLegacyLink(o, 'web/db'), { name: 'NotFound', message: 'No such container: web/db' });
    await assert.rejects(removeLegacyLink(o, 'nobody/cache'), { name: 'NotFound' });
    assert.deepEqual(o.find('web').spec.links, ['db:cache']);
  });

  it('removes the link of a stopped parent without touching files', async () => {
    const o = owners([container('web', ['db:cache'], 'exited')], '/nonexistent');
    await removeLegacyLink(o, 'web/cache');
    assert.deepEqual(o.find('web').spec.links, []);
  });
});
