/** The wire layer reads Docker's JSON as dockerd's Go decoder does: field names match case-insensitively. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { commandList, field, foldName, objectField, optBool, optNumber, optString, stringList, stringMap } from '../../src/api/wire.js';
import { parseContainerCreate } from '../../src/api/routes/container-create.js';
import { parseCreate } from '../../src/api/routes/networks.js';

describe('wire: Go-style field matching', () => {
  it('finds a field under any case, exact or folded', () => {
    const o = { hostconfig: { NetworkMode: 'host' }, DETACHKEYS: 'ctrl-x', cpuRealTimeRuntime: 5 };
    assert.deepEqual(field(o, 'HostConfig'), { NetworkMode: 'host' });
    assert.equal(optString(o, 'DetachKeys'), 'ctrl-x');
    assert.equal(optNumber(o, 'CpuRealtimeRuntime'), 5);
    assert.equal(field(o, 'Nope'), undefined);
  });

  it('lets the last of several matching keys win, as Go assigns each in turn', () => {
    assert.equal(optString({ Image: 'a', image: 'b' }, 'Image'), 'b');
    assert.equal(optString({ image: 'b', Image: 'a' }, 'Image'), 'a');
    assert.equal(optBool({ tty: true, Tty: false }, 'Tty'), false);
  });

  it('merges objects under several matching keys, as Go decodes into the same struct', () => {
    const o = { HostConfig: { Memory: 1 }, hostConfig: { CpuShares: 2 } };
    assert.deepEqual(objectField(o, 'HostConfig'), { Memory: 1, CpuShares: 2 });
  });

  it('folds as Go foldName: ASCII, the Kelvin sign and the long s', () => {
    assert.equal(foldName('CpuShares'), 'CPUSHARES');
    assert.equal(foldName('\u212Aey'), 'KEY');
    assert.equal(foldName('\u017Fhm'), 'SHM');
    assert.equal(foldName('stra\u00DFe'), 'STRA\u00DFE');
    assert.equal(optNumber({ \u017FhmSize: 7 }, 'ShmSize'), 7);
  });

  it('keeps map keys exact: labels are data, not field names', () => {
    const labels = stringMap({ labels: { Foo: '1', foo: '2' } }, 'Labels');
    assert.deepEqual(labels, { Foo: '1', foo: '2' });
  });

  it('reads lists and Docker string slices through the same matching', () => {
    assert.deepEqual(stringList({ env: ['A=1'] }, 'Env'), ['A=1']);
    assert.deepEqual(commandList({ cmd: 'echo hi' }, 'Cmd'), ['echo hi']);
    assert.deepEqual(commandList({ ENTRYPOINT: ['sh', '-c'] }, 'Entrypoint'), ['sh', '-c']);
    assert.throws(() => optString({ image: 3 }, 'Image'), /cannot unmarshal number into field Image of type string/);
  });

  it('a create body in any case is read whole, not dropped', () => {
    const { req } = parseContainerCreate(
      {
        image: 'busybox',
        cmd: ['true'],
        hostname: 'h1',
        labels: { A: 'b' },
        hostconfig: { networkmode: 'host', autoremove: true, restartpolicy: { name: 'no' } },
      },
      null,
    );
    assert.equal(req.imageRef, 'busybox');
    assert.deepEqual(req.process.cmd, ['true']);
    assert.equal(req.hostname, 'h1');
    assert.deepEqual(req.labels, { A: 'b' });
    assert.equal(req.networkMode.kind, 'host');
    assert.equal(req.autoRemove, true);
  });

  it('a network create body in any case is read whole', () => {
    const r = parseCreate({ name: 'n1', internal: true, ipam: { config: [{ subnet: '10.9.0.0/24' }] }, labels: { L: 'v' } });
    assert.equal(r.name, 'n1');
    assert.equal(r.internal, true);
    assert.deepEqual(r.subnets.map((s) => s.subnet), ['10.9.0.0/24']);
    assert.deepEqual(r.labels, { L: 'v' });
  });
});
