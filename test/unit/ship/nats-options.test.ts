// The NATS options both commands take (one way of authenticating, TLS files), the agent's --token-file, and
// what makes an existing findings stream too weak for the collector to run on.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import pino from 'pino';
import { DiscardPolicy, nanos, RetentionPolicy, StorageType } from 'nats';
import { describe, expect, it } from 'vitest';
import { chooseTransports, addTransportOptions } from '../../../agent/ship/transports/index.js';
import { TokenFile } from '../../../agent/ship/token.js';
import { streamWeaknesses } from '../../../collector/ingest/transports/findings-stream.js';
import { natsClientFromValues, natsUrlForLog } from '../../../proto/nats-stream.js';
import { tempDir } from '../../harness/integration.js';

describe('NATS client options', () => {
  it('take one way of authenticating, need their files, and never show a URL password', () => {
    const dir = tempDir('nats-opts');
    try {
      const seed = join(dir.path, 'seed');
      writeFileSync(seed, 'SUAEXAMPLE');
      expect(natsClientFromValues({ natsUrl: 'tls://n:4222', natsNkeySeedFile: seed, natsTlsCa: seed }, 'x', '_INBOX_vigil_agent'))
        .toMatchObject({ url: 'tls://n:4222', nkeySeedFile: seed, tlsCa: seed, inboxPrefix: '_INBOX_vigil_agent' });
      expect(natsClientFromValues({ natsUrl: 'nats://n', natsUser: 'agent', natsPassword: 'pw' }, 'x')).toMatchObject({ user: 'agent', password: 'pw' });
      expect(() => natsClientFromValues({ natsUrl: 'nats://n', natsUser: 'a', natsToken: 't' }, 'x')).toThrow(/one way of authenticating/);
      expect(() => natsClientFromValues({ natsUrl: 'nats://n', natsCreds: seed, natsNkeySeedFile: seed }, 'x')).toThrow(/one way/);
      expect(() => natsClientFromValues({ natsUrl: 'nats://n', natsPassword: 'pw' }, 'x')).toThrow(/--nats-password needs --nats-user/);
      expect(() => natsClientFromValues({ natsUrl: 'nats://n', natsNkeySeedFile: join(dir.path, 'missing') }, 'x')).toThrow(/no file/);
      expect(() => natsClientFromValues({ natsUrl: 'nats://n', natsTlsCert: seed }, 'x')).toThrow(/go together/);
      expect(natsUrlForLog({ url: 'tls://agent:s3cret@nats-0:4222,nats://u:p@nats-1:4222', name: 'x' })).toBe('tls://nats-0:4222,nats://nats-1:4222');
      // The agent checks them when the NATS transport is chosen.
      expect(() => chooseTransports({ natsUrl: 'nats://n', natsToken: 't', natsUser: 'u' })).toThrow(/one way/);
    } finally {
      dir.cleanup();
    }
  });
});

describe('the agent\'s token', () => {
  it('is --token-file, read again when the file changes; gRPC takes it in place of a client certificate', async () => {
    const dir = tempDir('token');
    try {
      const file = join(dir.path, 'token');
      writeFileSync(file, 'first\n');
      const token = new TokenFile(file, pino({ level: 'silent' }));
      expect(token.current()).toBe('first');
      await new Promise((r) => setTimeout(r, 20));
      writeFileSync(file, 'second-and-longer');
      expect(token.current()).toBe('second-and-longer');
      expect(() => new TokenFile(join(dir.path, 'missing'), pino({ level: 'silent' }))).toThrow(/--token-file/);
      const cmd = addTransportOptions(new Command('run')).parse(['--token-file', file], { from: 'user' });
      expect(cmd.opts().tokenFile).toBe(file);
      expect(chooseTransports({ collector: 'c:1', tlsCa: 'ca', tokenFile: file }).map((t) => t.name)).toEqual(['grpc']);
      expect(() => chooseTransports({ collector: 'c:1', tlsCa: 'ca' })).toThrow(/--tls-ca and a ServiceAccount token/);
      expect(() => chooseTransports({ collector: 'c:1', tlsCa: 'ca', tlsCert: 'c' })).toThrow(/go together/);
    } finally {
      dir.cleanup();
    }
  });
});

describe('the findings stream', () => {
  const wanted = { storage: StorageType.File, retention: RetentionPolicy.Limits, max_age: nanos(7 * 86_400_000), subjects: ['vigil.findings.>'], num_replicas: 3 };
  it('is too weak when it keeps less: memory, work-queue, a shorter age, other subjects, fewer replicas', () => {
    expect(streamWeaknesses({ ...wanted, discard: DiscardPolicy.Old }, wanted)).toEqual([]);
    expect(streamWeaknesses({ ...wanted, max_age: 0 }, wanted)).toEqual([]);
    const weak = streamWeaknesses({ storage: StorageType.Memory, retention: RetentionPolicy.Workqueue, max_age: nanos(3_600_000),
      subjects: ['vigil.findings.prod.>'], num_replicas: 1 }, wanted);
    expect(weak).toEqual([
      expect.stringMatching(/storage is memory/), expect.stringMatching(/retention is workqueue/), expect.stringMatching(/max_age is 3600s/),
      expect.stringMatching(/subjects are/), expect.stringMatching(/1 replicas, fewer than 3/),
    ]);
  });
});
