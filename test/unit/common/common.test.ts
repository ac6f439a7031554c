import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration, parseGoDuration } from '../../../common/duration.js';
import { formatSize, parseSize } from '../../../common/size.js';
import { parseGoBool } from '../../../common/bool.js';
import { hostOf, isDnsName, isLoopbackHost, isWildcardHost, parseHostPort, redactUrl } from '../../../common/address.js';
import { getPath, isRecord } from '../../../common/json.js';

describe('parseDuration', () => {
  it.each([
    ['90', 90_000], ['90s', 90_000], ['500ms', 500], ['1h30m', 5_400_000], ['7d', 604_800_000], ['2w', 1_209_600_000],
    ['1.5s', 1_500], [' 5m ', 300_000],
  ])('%s', (text, ms) => expect(parseDuration(text)).toBe(ms));
  it.each(['', 's', '5x', '5 m', '-5s', '1h-30m', 'abc'])('refuses %j', (text) => {
    expect(() => parseDuration(text)).toThrow(/not a duration/);
  });
  it('formats as written', () => {
    expect([30_000, 300_000, 5_400_000, 250, 0, 604_800_000, 90_000].map(formatDuration))
      .toEqual(['30s', '5m', '1h30m', '250ms', '0s', '1w', '1m30s']);
  });
});

describe('parseGoDuration', () => {
  it.each([['1h30m', 5_400_000], ['300ms', 300], ['0', 0], ['-1.5h', -5_400_000], ['4h0m0s', 14_400_000], ['1us', 0.001]])(
    '%s', (text, ms) => expect(parseGoDuration(text)).toBe(ms));
  it.each(['90', '7d', '', 'h', '1h 30m'])('refuses %j', (text) => expect(parseGoDuration(text)).toBeUndefined());
});

describe('parseSize', () => {
  it.each([
    ['33554432', 33_554_432], ['64Mi', 64 * 1024 ** 2], ['64MiB', 64 * 1024 ** 2], ['32mb', 32e6], ['64MB', 64e6],
    ['1Gi', 1024 ** 3], ['512Ki', 524_288], ['1k', 1000], ['10b', 10],
  ])('%s', (text, bytes) => expect(parseSize(text)).toBe(bytes));
  it.each(['', 'Mi', '64 Xi', '-1', '1e9'])('refuses %j', (text) => expect(() => parseSize(text)).toThrow(/not a size/));
  it('formats exact binary units', () => {
    expect([64 * 1024 ** 2, 1024 ** 3, 1000, 1536].map(formatSize)).toEqual(['64Mi', '1Gi', '1000', '1536']);
  });
});

describe('parseGoBool', () => {
  it('accepts what strconv.ParseBool accepts', () => {
    expect(['1', 't', 'T', 'TRUE', 'true', 'True', true].map(parseGoBool)).toEqual(Array(7).fill(true));
    expect(['0', 'f', 'F', 'FALSE', 'false', 'False', false].map(parseGoBool)).toEqual(Array(7).fill(false));
    expect(['yes', 'tRUE', '', 'on', 1, null].map(parseGoBool)).toEqual(Array(6).fill(undefined));
  });
});

describe('addresses', () => {
  it('parses HOST:PORT', () => {
    expect(parseHostPort('127.0.0.1:8080')).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseHostPort('[::1]:7443')).toEqual({ host: '::1', port: 7443 });
    expect(parseHostPort(':9110')).toEqual({ host: '', port: 9110 });
    expect(parseHostPort('collector.vigil.svc:7443')).toEqual({ host: 'collector.vigil.svc', port: 7443 });
    for (const bad of ['8080', 'host:99999', '::1:80', 'a:b', '']) expect(() => parseHostPort(bad)).toThrow(/HOST:PORT/);
  });
  it('finds the host of loose addresses', () => {
    expect(['10.0.0.1:2379', '[fe80::1]:10250', 'fe80::1', 'node-1'].map(hostOf)).toEqual(['10.0.0.1', 'fe80::1', 'fe80::1', 'node-1']);
  });
  it('knows loopback and wildcard hosts', () => {
    expect(['127.0.0.1', '127.9.9.9', 'localhost', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1'].every(isLoopbackHost)).toBe(true);
    expect(['10.0.0.1', '128.0.0.1', '127.0.0.256', '::', '::2', 'example.com', ''].some(isLoopbackHost)).toBe(false);
    expect(['', '0.0.0.0', '::', '[::]', '0:0:0:0:0:0:0:0'].every(isWildcardHost)).toBe(true);
    expect(['127.0.0.1', '::1', '10.0.0.1'].some(isWildcardHost)).toBe(false);
  });
  it('tells DNS names from IP literals', () => {
    expect(['collector', 'vigil.example.com', 'localhost'].every(isDnsName)).toBe(true);
    expect(['127.0.0.1', '::1', '[::1]'].some(isDnsName)).toBe(false);
  });
  it('redacts userinfo from URLs', () => {
    expect(redactUrl('nats://user:pw@10.0.0.1:4222')).toBe('nats://10.0.0.1:4222');
    expect(redactUrl('https://a:b@etcd-1:2379,https://c@etcd-2:2379')).toBe('https://etcd-1:2379,https://etcd-2:2379');
    expect(redactUrl('etcd-1=https://u:p@10.0.0.1:2380')).toBe('etcd-1=https://10.0.0.1:2380');
    expect(redactUrl('plain text')).toBe('plain text');
  });
});

describe('json helpers', () => {
  it('reads dotted paths only through objects', () => {
    const doc = { a: { b: { c: 1 } }, l: [1] };
    expect(getPath(doc, 'a.b.c')).toBe(1);
    expect(getPath(doc, 'a.x.c')).toBeUndefined();
    expect(getPath(doc, 'l.0')).toBeUndefined();
    expect([isRecord({}), isRecord([]), isRecord(null)]).toEqual([true, false, false]);
  });
});
