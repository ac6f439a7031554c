// Who may write which node, in the collector process: static REST tokens bound to nodes, ServiceAccount tokens
// verified against a JWKS (made here), client certificates naming one node. The end-to-end versions (real
// agents, gRPC, NATS) are in test/integration/identity/.
import { join } from 'node:path';
import type { PeerCertificate } from 'node:tls';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateCaller } from '../../../collector/ingest/identity.js';
import { KeysUnavailable, ServiceAccountVerifier, TokenRefused } from '../../../collector/ingest/service-accounts.js';
import { loadTokens } from '../../../collector/serve/auth.js';
import { tempDir } from '../../harness/integration.js';
import {
  AGENT_SUBJECT, AUDIENCE, ISSUER, projectedToken, signingKey, writeJwksFile, type SigningKey,
} from '../../harness/service-accounts.js';
import { READ, startTestCollector, type TestCollector } from './collector-harness.js';
import { finding, report } from './helpers.js';

const log = pino({ level: 'silent' });
const UNBOUND = 'unbound-report-token-0123';
const BOUND = 'bound-report-token-012345';
const IMPORT = 'import-report-token-01234';

describe('tokens file', () => {
  it('reads an optional node binding: nodes=a,b, or nodes=* for an import token', () => {
    const set = loadTokens([
      `${UNBOUND} report ci`, `${BOUND} report uploader nodes=w1,w2`, `${IMPORT} report nodes=*`, `${READ} read`,
    ].join('\n'));
    expect(set.find(UNBOUND)).toMatchObject({ name: 'ci', nodes: undefined });
    expect(set.find(BOUND)).toMatchObject({ name: 'uploader', nodes: ['w1', 'w2'] });
    expect(set.find(IMPORT)).toMatchObject({ name: 'token-3', nodes: '*' });
    expect(() => loadTokens(`${BOUND} report nodes=`)).toThrow(/nodes= takes node names/);
    expect(() => loadTokens(`${BOUND} report nodes=Bad_Name`)).toThrow(/nodes= takes node names/);
    expect(() => loadTokens(`${BOUND} report a b`)).toThrow(/unexpected "b"/);
    expect(() => loadTokens(`${BOUND} report nodes=a nodes=b`)).toThrow(/nodes= given twice/);
  });
});

describe('client certificates', () => {
  const cert = (subject: Record<string, string>, san: string | undefined, usage: string[] | undefined): PeerCertificate =>
    ({ subject, subjectaltname: san, ext_key_usage: usage }) as unknown as PeerCertificate;
  const CLIENT = ['1.3.6.1.5.5.7.3.2'];

  it('name one node: the single DNS SAN, else the CN; several names or no clientAuth usage name none', () => {
    expect(certificateCaller(cert({ CN: 'cn-name' }, 'DNS:node-1', CLIENT))).toMatchObject({ kind: 'certificate', nodes: ['node-1'], subject: 'DNS:node-1' });
    expect(certificateCaller(cert({ CN: 'node-2', O: 'system:nodes' }, undefined, CLIENT))).toMatchObject({ nodes: ['node-2'], subject: 'CN=node-2' });
    expect(certificateCaller(cert({ CN: 'node-3' }, 'IP Address:10.0.0.3', CLIENT))).toMatchObject({ nodes: ['node-3'] });
    expect(certificateCaller(cert({ CN: 'x' }, 'DNS:node-1, DNS:node-2', CLIENT))).toEqual({ refused: expect.stringMatching(/several nodes/) });
    expect(certificateCaller(cert({ CN: 'node-4' }, 'DNS:node-4', ['1.3.6.1.5.5.7.3.1']))).toEqual({ refused: expect.stringMatching(/clientAuth/) });
    expect(certificateCaller(cert({ CN: 'node-5' }, 'DNS:node-5', undefined))).toEqual({ refused: expect.stringMatching(/clientAuth/) });
    expect(certificateCaller(cert({}, undefined, CLIENT))).toEqual({ refused: expect.stringMatching(/names no node/) });
  });
});

describe('ServiceAccount tokens', () => {
  let dir: { path: string; cleanup(): void };
  let rsa: SigningKey;
  let ec: SigningKey;
  let jwksFile: string;
  beforeAll(async () => {
    dir = tempDir('sa-unit');
    [rsa, ec] = await Promise.all([signingKey('RS256'), signingKey('ES256')]);
    jwksFile = join(dir.path, 'jwks.json');
    writeJwksFile(jwksFile, [rsa, ec]);
  });
  afterAll(() => dir?.cleanup());

  const verifier = (extra: Partial<ConstructorParameters<typeof ServiceAccountVerifier>[0]> = {}): ServiceAccountVerifier =>
    new ServiceAccountVerifier({ issuer: ISSUER, audience: AUDIENCE, subjects: [AGENT_SUBJECT], jwksFile, log, ...extra });

  it('verifies RS256 and ES256 tokens to the node and pod they are bound to, and keeps them until they expire', async () => {
    const v = verifier();
    await v.start();
    const { token, jti } = await projectedToken(rsa, { node: 'w1', pod: 'vigil-agent-abcde' });
    expect(await v.verify(token)).toMatchObject({ subject: AGENT_SUBJECT, node: 'w1', pod: 'vigil-agent-abcde', jti });
    expect(await v.verify((await projectedToken(ec, { node: 'w2' })).token)).toMatchObject({ node: 'w2' });
    // Cached by hash until it expires: once the key is gone (the file re-read for a new token's unknown key), a new
    // token is refused and the verified one is still taken.
    writeJwksFile(jwksFile, [ec]);
    await expect(v.verify((await projectedToken(await signingKey('ES256'), { node: 'w1' })).token)).rejects.toMatchObject({ reason: 'token-unknown-key' });
    await expect(v.verify((await projectedToken(rsa, { node: 'w1' })).token)).rejects.toMatchObject({ reason: 'token-unknown-key' });
    expect(await v.verify(token)).toMatchObject({ node: 'w1' });
    writeJwksFile(jwksFile, [rsa, ec]);
  });

  it('refuses tokens it must not take, each with its reason', async () => {
    const v = verifier({ subjects: [AGENT_SUBJECT, 'system:serviceaccount:vigil:other-agent'] });
    await v.start();
    const refused = async (token: string): Promise<string> => {
      try { await v.verify(token); return 'accepted'; } catch (err) { return err instanceof TokenRefused ? err.reason : String(err); }
    };
    expect(await refused((await projectedToken(rsa, { node: 'w1', issuedAt: -7200, expiresIn: 600 })).token)).toBe('token-expired');
    expect(await refused((await projectedToken(rsa, { node: 'w1', issuedAt: 600 })).token)).toBe('token-nbf');
    expect(await refused((await projectedToken(rsa, { node: 'w1', audience: ['api'] })).token)).toBe('token-audience');
    expect(await refused((await projectedToken(rsa, { node: 'w1', issuer: 'https://other' })).token)).toBe('token-issuer');
    expect(await refused((await projectedToken(rsa, { node: null })).token)).toBe('token-no-node');
    expect(await refused((await projectedToken(rsa, { node: 'w1', subject: 'system:serviceaccount:kube-system:default' })).token)).toBe('token-subject');
    expect(await refused((await projectedToken(await signingKey('ES256'), { node: 'w1' })).token)).toBe('token-unknown-key');
    expect(await refused('not-a-jwt')).toBe('token-invalid');
    // Within the leeway an expiry does not count yet.
    expect(await refused((await projectedToken(rsa, { node: 'w1', issuedAt: -610, expiresIn: 600 })).token)).toBe('accepted');
  });

  it('says the keys are unavailable (not that the token is bad) when the JWKS URL cannot be reached', async () => {
    const v = new ServiceAccountVerifier({ issuer: ISSUER, audience: AUDIENCE, subjects: [AGENT_SUBJECT], jwksUrl: 'https://127.0.0.1:1/openid/v1/jwks', log });
    await v.start();
    await expect(v.verify((await projectedToken(rsa, { node: 'w1' })).token)).rejects.toBeInstanceOf(KeysUnavailable);
    expect(() => new ServiceAccountVerifier({ issuer: ISSUER, audience: AUDIENCE, subjects: [AGENT_SUBJECT], log })).toThrow(/exactly one/);
    expect(() => new ServiceAccountVerifier({ issuer: ISSUER, audience: AUDIENCE, subjects: [AGENT_SUBJECT], jwksUrl: 'http://x/jwks', log }))
      .toThrow(/https/);
  });
});

describe('POST /api/v1/reports: who may write which node', () => {
  let c: TestCollector;
  let dir: { path: string; cleanup(): void };
  let rsa: SigningKey;
  beforeAll(async () => {
    dir = tempDir('rest-identity');
    rsa = await signingKey('RS256');
    const jwksFile = join(dir.path, 'jwks.json');
    writeJwksFile(jwksFile, [rsa]);
    c = await startTestCollector({
      tokens: loadTokens([`${READ} read`, `${UNBOUND} report ci`, `${BOUND} report uploader nodes=w1`, `${IMPORT} report importer nodes=*`].join('\n')),
      serviceAccounts: { issuer: ISSUER, audience: AUDIENCE, subjects: [AGENT_SUBJECT], jwksFile },
    });
  });
  afterAll(async () => { await c?.stop(); dir?.cleanup(); });

  const body = (node: string) => report(node, [finding({ checkId: 'cis-4.2.1' })]);

  it('lets a ServiceAccount token write its own node only, and binds the node to it', async () => {
    const token = (await projectedToken(rsa, { node: 'sa-node' })).token;
    expect((await c.post('/api/v1/reports', body('sa-node'), token)).status).toBe(200);
    const other = await c.post('/api/v1/reports', body('w9'), token);
    expect(other).toMatchObject({ status: 403, body: { message: expect.stringMatching(/may only report for sa-node/) } });
    expect((await c.get('/api/v1/nodes/sa-node')).body.identity).toMatchObject({ kind: 'service-account', subject: AGENT_SUBJECT });
    // A ServiceAccount token may not read.
    expect((await c.get('/api/v1/nodes', token)).status).toBe(401);
    expect((await c.post('/api/v1/reports', body('sa-node'), UNBOUND)).status).toBe(403);
  });

  it('keeps bound tokens to their nodes, unbound tokens off bound nodes, and lets an import token write anything', async () => {
    expect((await c.post('/api/v1/reports', body('free'), UNBOUND)).status).toBe(200);
    expect((await c.get('/api/v1/nodes/free')).body.identity).toEqual({ kind: 'token', subject: 'ci', boundSince: null });
    expect((await c.post('/api/v1/reports', body('w2'), BOUND)).status).toBe(403);
    expect((await c.post('/api/v1/reports', body('w1'), BOUND)).status).toBe(200);
    const refused = await c.post('/api/v1/reports', body('w1'), UNBOUND);
    expect(refused).toMatchObject({ status: 403, body: { message: expect.stringMatching(/w1 reports with its own identity \(token\)/) } });
    expect((await c.post('/api/v1/reports', body('w1'), IMPORT)).status).toBe(200);
    const metrics = (await c.get('/metrics')).body as string;
    expect(metrics).toMatch(/vigil_collector_refused_reports_total\{transport="rest",reason="bound-node"\} [1-9]/);
    expect(metrics).toMatch(/vigil_collector_refused_reports_total\{transport="rest",reason="node-mismatch"\} [1-9]/);
  });
});
