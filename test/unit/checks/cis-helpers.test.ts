// Parsing helpers the CIS checks rely on: Go booleans, durations, addresses, list and map flags.
import { describe, expect, it } from 'vitest';
import { featureGates, listFlag } from '../../../agent/gather/flags.js';
import { parseInteger } from '../../../agent/facts/values.js';
import { parseGoBool } from '../../../common/bool.js';
import { hostOf, isLoopbackHost } from '../../../common/address.js';
import { parseGoDuration } from '../../../common/duration.js';
import { octal } from '../../../agent/evaluate/ops.js';
import { component } from './snapshot-factory.js';

describe('CIS helpers', () => {
  it('parses Go booleans as strconv.ParseBool does and rejects anything else', () => {
    expect(['true', 'TRUE', 'True', 't', 'T', '1', ' true'].map(parseGoBool)).toEqual(Array(7).fill(true));
    expect(['false', 'FALSE', 'False', 'f', 'F', '0', false].map(parseGoBool)).toEqual(Array(7).fill(false));
    // The component itself refuses these at start: Go's ParseBool knows three spellings of each word.
    expect(['tRuE', 'fALSE', 'yes'].map(parseGoBool)).toEqual([undefined, undefined, undefined]);
    expect([parseGoBool('yes'), parseGoBool(''), parseGoBool(undefined), parseGoBool(1)]).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('parses integers the way strconv.Atoi does', () => {
    expect([parseInteger('30'), parseInteger('+7'), parseInteger('-1'), parseInteger('3.5'), parseInteger('1e3'), parseInteger('')])
      .toEqual([30, 7, -1, undefined, undefined, undefined]);
  });

  it('parses Go durations (to milliseconds, common/duration.ts)', () => {
    expect(parseGoDuration('4h0m0s')).toBe(4 * 3600e3);
    expect(parseGoDuration('1.5h')).toBe(1.5 * 3600e3);
    expect(parseGoDuration('300ms')).toBe(300);
    expect(parseGoDuration('0')).toBe(0);
    expect(parseGoDuration('-5m')).toBe(-300e3);
    expect([parseGoDuration('5'), parseGoDuration('h'), parseGoDuration('4 h'), parseGoDuration('')]).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('finds the host of an address and knows loopback', () => {
    expect(['127.0.0.1:10249', '[::1]:10249', '::1', 'localhost:1', '0.0.0.0', ':10249'].map(hostOf))
      .toEqual(['127.0.0.1', '::1', '::1', 'localhost', '0.0.0.0', '']);
    expect(['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'LOCALHOST'].every(isLoopbackHost)).toBe(true);
    expect(['0.0.0.0', '::', '127.300.0.1', '10.0.0.1', '', '128.0.0.1'].some(isLoopbackHost)).toBe(false);
  });

  it('reads list flags (commas, repeats, blanks) and feature gates (last wins)', () => {
    const c = component('kube-apiserver', ['--enable-admission-plugins=A, B,', '--enable-admission-plugins=C',
      '--feature-gates=X=true,Y=false', '--feature-gates=X=false']);
    expect(listFlag(c.flags, 'enable-admission-plugins')).toEqual(['A', 'B', 'C']);
    expect(listFlag(c.flags, 'absent')).toBeUndefined();
    expect(featureGates(c.flags)).toEqual({ X: 'false', Y: 'false' });
  });

  it('shows modes as stat does', () => {
    expect([octal(0o600), octal(0o4755), octal(0o100644)]).toEqual(['0600', '4755', '0644']);
  });
});
