import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { httpStatusOf } from '../../src/api/errors.js';
import { checkDemotion, type DemotionCase } from '../../src/cluster/roles.js';

const three = (down: string[] = []): DemotionCase['voters'] => ['a', 'b', 'c'].map((name) => ({ name, reachable: !down.includes(name) }));
const problem = (c: DemotionCase): { status: number; message: string } | undefined => {
  const e = checkDemotion(c);
  return e && { status: httpStatusOf(e), message: e.message };
};

describe('demotion checks (swarmkit controlapi UpdateNode)', () => {
  it('refuses to demote the last manager', () => {
    assert.deepEqual(problem({ target: 'a', self: 'a', managers: ['a'], voters: [{ name: 'a', reachable: true }], external: false }), {
      status: 400,
      message: 'rpc error: code = FailedPrecondition desc = attempting to demote the last manager of the swarm',
    });
    assert.equal(problem({ target: 'a', self: 'a', managers: ['a'], voters: [], external: true })?.status, 400, 'an external store has a last manager too');
  });

  it('refuses a manager that is not a voter yet (NotFound)', () => {
    assert.deepEqual(problem({ target: 'd', self: 'a', managers: ['a', 'b', 'c'], voters: three(), external: false }), {
      status: 404,
      message: "rpc error: code = NotFound desc = can't find manager in raft memberlist",
    });
  });

  it('refuses what would lose the quorum, counting the asking manager as reachable (CanRemoveMember)', () => {
    const lossy = { status: 400, message: "rpc error: code = FailedPrecondition desc = can't remove member from the raft: this would result in a loss of quorum" };
    // a is down: demoting b leaves c alone of two.
    assert.deepEqual(problem({ target: 'b', self: 'c', managers: ['a', 'b', 'c'], voters: three(['a']), external: false }), lossy);
    // Demoting the dead one leaves two of two.
    assert.equal(problem({ target: 'a', self: 'b', managers: ['a', 'b', 'c'], voters: three(['a']), external: false }), undefined);
    // The asking manager counts even when its own lease looks lapsed.
    assert.equal(problem({ target: 'c', self: 'b', managers: ['a', 'b', 'c'], voters: three(['b']), external: false }), undefined);
    // Two managers: demoting either leaves one of one.
    assert.equal(problem({ target: 'b', self: 'a', managers: ['a', 'b'], voters: three().slice(0, 2), external: false }), undefined);
    assert.equal(problem({ target: 'a', self: 'a', managers: ['a', 'b', 'c'], voters: three(), external: false }), undefined, 'a manager may demote itself');
  });

  it('has no quorum to keep on an external store', () => {
    assert.equal(problem({ target: 'b', self: 'c', managers: ['a', 'b', 'c'], voters: [], external: true }), undefined);
  });
});
