// kube-apiserver judges: what no op of a benchmark row says. Anonymous access and authorizers configured by a file
// Vigil does not read, the effective authorizer list, audit retention without an audit log, encryption at rest.
import type { EncryptionConfigFact } from '../../facts/snapshot.js';
import { asList, isNonEmptyString } from '../../facts/values.js';
import type { Judgement } from '../check.js';
import type { Judge, JudgeContext } from '../rows.js';

/** CIS 1.2.1: with --authentication-config and no flag, anonymous access is in that file (warn). */
export const anonymousAuth: Judge = (ctx) => {
  const anonymous = ctx.setting('anonymous-auth');
  const config = ctx.setting('authentication-config');
  if (anonymous.source !== 'flag' && isNonEmptyString(config.value)) {
    return {
      status: 'warn',
      evidence: ctx.evidence(anonymous, 'false', {
        detail: `anonymous access is configured by --authentication-config ${config.value}, which Vigil does not read; check its anonymous section`,
        defaultApplies: false,
      }),
    };
  }
  return ctx.apply({ op: 'equals', value: false }, 'anonymous-auth');
};

/**
 * CIS 1.2.6-1.2.8: the effective --authorization-mode (default AlwaysAllow) must satisfy `want`. With
 * --authorization-config the authorizers are in a file Vigil does not read (warn); an empty list fails.
 */
export function authorizers(want: (modes: readonly string[]) => boolean, expected: string): Judge {
  return (ctx) => {
    const mode = ctx.setting('authorization-mode');
    const config = ctx.setting('authorization-config');
    if (mode.source !== 'flag' && isNonEmptyString(config.value)) {
      return {
        status: 'warn',
        evidence: ctx.evidence(mode, expected, {
          detail: `authorizers are configured by --authorization-config ${config.value}, which Vigil does not read`,
          defaultApplies: false,
        }),
      };
    }
    const modes = asList(mode.value) ?? [];
    if (mode.source === 'flag' && modes.length === 0) {
      return {
        status: 'fail',
        evidence: ctx.evidence(mode, expected, { value: [], detail: 'set but empty: no authorizer is named (the API server refuses to start with it)' }),
      };
    }
    return { status: want(modes) ? 'pass' : 'fail', evidence: ctx.evidence(mode, expected, { value: modes }) };
  };
}

/** CIS 1.2.17-1.2.19: an integer at least `min`, noting when no audit log is written at all. */
export function auditRetention(key: string, min: number): Judge {
  return (ctx) => {
    const j = ctx.apply({ op: 'at-least', min }, key);
    if (!isNonEmptyString(ctx.setting('audit-log-path').value)) {
      j.evidence.detail += '; --audit-log-path is not set, so no audit log is written at all (see cis-1.2.16)';
    }
    return j;
  };
}

const STRONG_PROVIDERS = ['aescbc', 'kms', 'secretbox'] as const;
/** Strong AEAD, but its 96-bit random nonces need the key rotated well before 2^32 writes; Kubernetes advises automated rotation. */
const STRONG_WITH_ROTATION = 'aesgcm';

/** Resource names that cover core-group secrets, in the spellings EncryptionConfiguration accepts. */
const COVERS_SECRETS = new Set(['secrets', 'secrets.', '*.', '*.*']);

/** The API server uses the first resources[] entry that matches a resource; its first provider encrypts writes. */
function secretsEntry(config: EncryptionConfigFact): { index: number; providers: string[]; matched: string } | undefined {
  for (const [index, entry] of config.resources.entries()) {
    const matched = entry.resources.find((r) => COVERS_SECRETS.has(r.trim()));
    if (matched !== undefined) return { index, providers: entry.providers, matched };
  }
  return undefined;
}

/** CIS 1.2.28: the first provider of the first resources entry that covers secrets is a strong one. */
export const encryptionProvider: Judge = (ctx: JudgeContext): Judgement => {
  const expected = `first provider for secrets one of ${[...STRONG_PROVIDERS, STRONG_WITH_ROTATION].join(', ')}`;
  const flag = ctx.setting('encryption-provider-config');
  if (!isNonEmptyString(flag.value)) {
    return { status: 'fail', evidence: ctx.evidence(flag, expected, { detail: 'secrets are stored in etcd in plain text' }) };
  }
  const config = ctx.snapshot.encryptionConfig;
  if (!config) {
    return { status: 'error', evidence: { source: 'file', path: flag.value, expected, detail: 'the encryption provider config was not read' } };
  }
  if (config.error) {
    return { status: 'error', evidence: { source: 'file', path: config.path, expected, detail: `${config.error.code}: ${config.error.message}` } };
  }
  const entry = secretsEntry(config);
  if (!entry) {
    return {
      status: 'fail',
      evidence: { source: 'file', path: config.path, key: 'resources', value: config.resources.map((r) => r.resources), expected, detail: 'no resources entry covers secrets: they are stored in plain text' },
    };
  }
  const first = entry.providers[0];
  const evidence = {
    source: 'file', path: config.path, key: `resources[${entry.index}].providers[0]`, value: first ?? null, expected,
    providers: entry.providers,
  };
  if (first === undefined) return { status: 'fail', evidence: { ...evidence, detail: `the entry for ${entry.matched} lists no provider` } };
  if ((STRONG_PROVIDERS as readonly string[]).includes(first)) return { status: 'pass', evidence: { ...evidence, detail: `secrets are written with ${first}` } };
  if (first === STRONG_WITH_ROTATION) {
    return { status: 'pass', evidence: { ...evidence, detail: 'aesgcm is strong only while its key is rotated regularly (random nonces); make sure rotation is automated' } };
  }
  if (first === 'identity') {
    return { status: 'fail', evidence: { ...evidence, detail: 'identity is listed first: new secrets are written in plain text' } };
  }
  return { status: 'fail', evidence: { ...evidence, detail: `${first} is not a recognised strong provider` } };
};
