// The op vocabulary of benchmark rows: each op on effective settings as the components write them.
import { describe, expect, it } from 'vitest';
import {
  ROOT, above, allSet, applyFileOp, applyOp, atLeast, contains, equals, expectedOf, isSet, lacks, loopback, modeAtMost,
  notSet, oneOf, onlyFrom, ownerIs, review,
} from '../../../agent/evaluate/ops.js';
import type { Setting } from '../../../agent/facts/snapshot.js';
import { component, file } from './snapshot-factory.js';

const apiserver = component('kube-apiserver');
const flag = (key: string, value: unknown): Setting => ({ key, flag: key, value, source: 'flag' });
const status = (op: Parameters<typeof applyOp>[0], value: unknown) => applyOp(op, apiserver, [flag('x', value)]).status;

describe('setting ops', () => {
  it('equals reads Go booleans, integers and text', () => {
    expect([status(equals(false), 'false'), status(equals(false), 'F'), status(equals(false), 'true')]).toEqual(['pass', 'pass', 'fail']);
    expect(applyOp(equals(true), apiserver, [flag('x', 'yes')]).evidence.detail).toContain('"yes" is not a boolean');
    expect([status(equals(0), '0'), status(equals(0), 0), status(equals(0), '1')]).toEqual(['pass', 'pass', 'fail']);
    expect([status(equals('Webhook'), ' Webhook'), status(equals('Webhook'), 'AlwaysAllow')]).toEqual(['pass', 'fail']);
  });

  it('one-of, at-least and above', () => {
    expect([status(oneOf(['a', 'b']), 'b'), status(oneOf(['a', 'b']), 'c')]).toEqual(['pass', 'fail']);
    expect([status(atLeast(30), '30'), status(atLeast(30), '7'), status(atLeast(30), '30.5')]).toEqual(['pass', 'fail', 'fail']);
    expect(applyOp(atLeast(30), apiserver, [flag('x', '30.5')]).evidence.detail).toContain('is not an integer');
    expect([status(above(0), 4096), status(above(0), -1), status(above(0), undefined)]).toEqual(['pass', 'fail', 'fail']);
  });

  it('set, not set and all set, with a detail on failure', () => {
    expect([status(isSet(), '/x'), status(isSet(), ' '), status(isSet(), undefined)]).toEqual(['pass', 'fail', 'fail']);
    expect(applyOp(isSet({ failDetail: 'why' }), apiserver, [flag('x', undefined)]).evidence.detail).toMatch(/; why$/);
    expect([status(notSet(), undefined), status(notSet(), '/t.csv')]).toEqual(['pass', 'fail']);
    const both = applyOp(allSet(), apiserver, [flag('cert', '/c'), { key: 'key', flag: 'key', value: undefined, source: 'unset' }]);
    expect(both).toMatchObject({ status: 'fail', evidence: { key: '--cert, --key', value: { '--cert': '/c', '--key': null }, expected: 'all set' } });
    expect(both.evidence.detail).toContain('not set: --key');
  });

  it('contains and lacks on comma lists; only-from on allowed elements', () => {
    expect([status(contains('Node'), ['Node', 'RBAC']), status(contains('Node'), 'RBAC')]).toEqual(['pass', 'fail']);
    expect([status(lacks('AlwaysAllow'), 'Node,RBAC'), status(lacks('AlwaysAllow'), ['AlwaysAllow'])]).toEqual(['pass', 'fail']);
    const strong = onlyFrom(['A', 'B'], { expected: 'strong only', unsetDetail: 'not set', listName: 'the list' });
    expect([status(strong, ['A']), status(strong, ['A', 'C']), status(strong, undefined)]).toEqual(['pass', 'fail', 'fail']);
    expect(applyOp(strong, apiserver, [flag('x', ['C'])]).evidence.detail).toContain('not in the list: C');
  });

  it('loopback addresses, and manual reviews that always warn', () => {
    expect(['127.0.0.1', '[::1]:10257', 'localhost', '0.0.0.0', '10.0.0.1:1'].map((v) => status(loopback('loopback'), v)))
      .toEqual(['pass', 'pass', 'pass', 'fail', 'fail']);
    expect(applyOp(review('a deliberate value', 'look at it'), apiserver, [flag('x', '60s')])).toMatchObject({ status: 'warn', evidence: { expected: 'a deliberate value' } });
  });

  it('says what it expects, whatever the value', () => {
    expect([expectedOf(equals(false)), expectedOf(atLeast(10)), expectedOf(allSet('both set')), expectedOf(isSet())])
      .toEqual(['false', '>= 10', 'both set', 'set']);
  });
});

describe('file ops', () => {
  it('mode at most a mask (special bits included) and owner by ids or names', () => {
    expect(applyFileOp(modeAtMost(0o600), file('/f', 0o600)).status).toBe('pass');
    expect(applyFileOp(modeAtMost(0o600), file('/f', 0o4600))).toMatchObject({ status: 'fail', evidence: { value: '4600', detail: 'bits 4000 are set beyond 0600' } });
    expect(applyFileOp(ownerIs(ROOT), file('/f', 0o600)).status).toBe('pass');
    expect(applyFileOp(ownerIs({ user: 'etcd', group: 'etcd' }), file('/d', 0o700, { uid: 998, gid: 998, user: 'etcd', group: 'etcd' })).status).toBe('pass');
    expect(applyFileOp(ownerIs(ROOT), file('/f', 0o600, { uid: 1000 })).status).toBe('fail');
  });
});
