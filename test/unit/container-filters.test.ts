import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { filterContainers, portFilter } from '../../src/api/routes/container-filters.js';
import type { PortSummary } from '../../src/api/shapes/container.js';
import type { ContainerRecord, MountConfig } from '../../src/engine/containers/model.js';
import type { NetworkController } from '../../src/network/controller.js';

function container(name: string, mounts: MountConfig[]): ContainerRecord {
  return { id: name.padEnd(64, '0'), spec: { name, mounts, labels: {} }, state: { status: 'running' } } as unknown as ContainerRecord;
}

const web = container('web', [{ type: 'volume', source: 'webdata', destination: '/data', readonly: false }]);
const files = container('files', [{ type: 'bind', source: '/srv/files', destination: '/files', readonly: true }]);
const PORTS: Record<string, PortSummary[]> = {
  web: [{ IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' }, { PrivatePort: 443, Type: 'tcp' }],
  files: [{ IP: '0.0.0.0', PrivatePort: 53, PublicPort: 5353, Type: 'udp' }],
};
const facts = { networks: {} as unknown as NetworkController, ports: (c: ContainerRecord) => PORTS[c.spec.name] ?? [] };
const names = (f: Record<string, string[]>) => filterContainers([web, files], f, facts).map((c) => c.spec.name);

describe('container list filters', () => {
  it('publish matches the host port, expose the container port; tcp unless a protocol is given', () => {
    assert.deepEqual(names({ publish: ['8080'] }), ['web']);
    assert.deepEqual(names({ publish: ['80'] }), []);
    assert.deepEqual(names({ expose: ['80/tcp'] }), ['web']);
    assert.deepEqual(names({ expose: ['443'] }), ['web'], 'an exposed port without a binding');
    assert.deepEqual(names({ publish: ['5353'] }), []);
    assert.deepEqual(names({ publish: ['5353/UDP'] }), ['files']);
    assert.deepEqual(names({ publish: ['5000-9000/udp', '8000-8100'] }), ['web', 'files']);
  });

  it('refuses what Docker refuses, with its words', () => {
    assert.throws(() => portFilter('publish', ['127.0.0.1:80']), { message: "filter for 'publish' should not contain ':': 127.0.0.1:80" });
    assert.throws(() => portFilter('expose', ['x']), { message: "error while looking up for expose x: invalid start port 'x': invalid syntax" });
    assert.throws(() => portFilter('expose', ['90-80']), /invalid port range: 90-80$/);
    assert.throws(() => portFilter('publish', ['70000']), /invalid start port '70000': value out of range$/);
    assert.deepEqual([...portFilter('publish', ['80-82/udp'])], ['80/udp', '81/udp', '82/udp']);
  });

  it('name: a regular expression matched with and without the leading slash, as dockerd', () => {
    assert.deepEqual(names({ name: ['^web$'] }), ['web']);
    assert.deepEqual(names({ name: ['^/files$'] }), ['files']);
    assert.deepEqual(names({ name: ['i'] }), ['files']);
  });

  it('volume matches a volume name, a bind source or a destination', () => {
    assert.deepEqual(names({ volume: ['webdata'] }), ['web']);
    assert.deepEqual(names({ volume: ['/files'] }), ['files']);
    assert.deepEqual(names({ volume: ['/srv/files'] }), ['files']);
    assert.deepEqual(names({ volume: ['/nowhere'] }), []);
  });

  it('health: the container\'s State.Health status, "none" without a check; other values are checked', () => {
    assert.deepEqual(names({ health: ['none'] }), ['web', 'files']);
    assert.deepEqual(names({ health: ['healthy'] }), []);
    const checked = (status: 'starting' | 'healthy' | 'unhealthy') => ({ ...web, state: { ...web.state, health: { status, failingStreak: 0, log: [] } } });
    const names2 = (f: Record<string, string[]>, status: 'starting' | 'healthy' | 'unhealthy') => filterContainers([checked(status), files], f, facts).map((c) => c.spec.name);
    assert.deepEqual(names2({ health: ['healthy'] }, 'healthy'), ['web']);
    assert.deepEqual(names2({ health: ['unhealthy', 'starting'] }, 'starting'), ['web']);
    assert.deepEqual(names2({ health: ['none'] }, 'unhealthy'), ['files']);
    assert.throws(() => names({ health: ['fine'] }), /invalid filter 'health=fine': invalid value for health \(fine\): must be one of none, starting, healthy, unhealthy/);
  });
});
