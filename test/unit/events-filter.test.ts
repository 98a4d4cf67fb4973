import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eventMatches, familiarName, type EventFilters } from '../../src/events/filter.js';
import type { EventMessage, EventType } from '../../src/events/types.js';

function ev(Type: EventType, Action: string, ID: string, Attributes: Record<string, string> = {}): EventMessage {
  return { Type, Action, Actor: { ID, Attributes }, scope: 'local', time: 1, timeNano: 1n };
}

const CID = 'c0ffee0000000000000000000000000000000000000000000000000000000001';
const start = ev('container', 'start', CID, { name: 'web', image: 'busybox:latest', tier: 'front' });
const execStart = ev('container', 'exec_start: sh -c date', CID, { name: 'web', image: 'busybox', execID: 'e1' });
const connect = ev('network', 'connect', 'feed01', { name: 'app', type: 'bridge', container: CID });
const tag = ev('image', 'tag', 'sha256:abc', { name: 'busybox:1.36' });
const vol = ev('volume', 'mount', 'data', { driver: 'local', container: CID });

const matching = (f: EventFilters) => [start, execStart, connect, tag, vol].filter((m) => eventMatches(f, m)).map((m) => `${m.Type} ${m.Action}`);

describe('eventMatches (dockerd events filter)', () => {
  it('passes everything without filters', () => {
    assert.equal(matching({}).length, 5);
  });

  it('type and event: exact, ORed within a key, ANDed across keys', () => {
    assert.deepEqual(matching({ type: ['network', 'volume'] }), ['network connect', 'volume mount']);
    assert.deepEqual(matching({ type: ['container'], event: ['start', 'connect'] }), ['container start']);
  });

  it('exec_start, exec_create and health_status match the action with its command', () => {
    assert.deepEqual(matching({ event: ['exec_start'] }), ['container exec_start: sh -c date']);
    assert.deepEqual(matching({ event: ['exec_die'] }), []);
  });

  it('container, network, volume: the actor ID or name by prefix, whatever the event type', () => {
    assert.deepEqual(matching({ container: ['web'] }), ['container start', 'container exec_start: sh -c date']);
    assert.deepEqual(matching({ container: ['c0ffee'] }), ['container start', 'container exec_start: sh -c date']);
    assert.deepEqual(matching({ network: ['app'] }), ['network connect']);
    assert.deepEqual(matching({ volume: ['data'] }), ['volume mount']);
  });

  it('image: an image event’s ID or name, a container event’s image, with or without tag', () => {
    assert.deepEqual(matching({ image: ['busybox'] }), ['container start', 'container exec_start: sh -c date', 'image tag']);
    assert.deepEqual(matching({ image: ['busybox:latest'] }), ['container start']);
    assert.deepEqual(matching({ image: ['sha256:abc'] }), ['image tag']);
  });

  it('label: every one must be among the attributes', () => {
    assert.deepEqual(matching({ label: ['tier'] }), ['container start']);
    assert.deepEqual(matching({ label: ['tier=front', 'name=web'] }), ['container start']);
    assert.deepEqual(matching({ label: ['tier=back'] }), []);
  });

  it('scope: local', () => {
    assert.equal(matching({ scope: ['local'] }).length, 5);
    assert.deepEqual(matching({ scope: ['swarm'] }), []);
  });

  it('familiarName strips tags, digests and the default registry', () => {
    assert.equal(familiarName('busybox:latest'), 'busybox');
    assert.equal(familiarName('docker.io/library/busybox:1'), 'busybox');
    assert.equal(familiarName('localhost:5000/app/web@sha256:00'), 'localhost:5000/app/web');
    assert.equal(familiarName('localhost:5000/web'), 'localhost:5000/web');
  });
});
