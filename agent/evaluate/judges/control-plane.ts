// Controller-manager, scheduler and etcd judges, and the manual reviews of CIS section 3: what no op says.
import { parseGoBool } from '../../../common/bool.js';
import type { CertificateFact } from '../../facts/pki.js';
import type { Snapshot } from '../../facts/snapshot.js';
import { isNonEmptyString } from '../../facts/values.js';
import type { Judge, JudgeContext } from '../rows.js';

/** CIS 1.3.6: --feature-gates read as a map (last value of a repeated gate wins, any Go spelling of false). */
export const serverCertRotationGate: Judge = (ctx) => {
  const gates = ctx.setting('feature-gates');
  const raw = (gates.value as Record<string, string> | undefined)?.RotateKubeletServerCertificate;
  const off = raw !== undefined && parseGoBool(raw) === false;
  return {
    status: off ? 'fail' : 'pass',
    evidence: ctx.evidence(gates, 'RotateKubeletServerCertificate not false', {
      value: raw === undefined ? undefined : `RotateKubeletServerCertificate=${raw}`,
      detail: raw === undefined ? 'the gate is on by default since Kubernetes 1.12' : undefined,
    }),
  };
};

/** CIS 1.4.1: with --config, the scheduler ignores --profiling and reads enableProfiling from the file (default true). */
export const schedulerProfiling: Judge = (ctx) => {
  const config = ctx.setting('config');
  if (isNonEmptyString(config.value)) {
    return {
      status: 'warn',
      evidence: ctx.evidence(ctx.setting('profiling'), 'false', {
        detail: `--config ${config.value} is set: the scheduler ignores --profiling and uses enableProfiling from that file (default true), which Vigil does not read`,
        defaultApplies: false,
      }),
    };
  }
  return ctx.apply({ op: 'equals', value: false }, 'profiling');
};

export const DEDICATED_CA = 'set, to a CA used only by etcd';

/** CIS 2.7: the same CA file (or the same CA certificate) as the API server's client CA means etcd trusts every cluster client cert. */
export const etcdDedicatedCa: Judge = (ctx) => {
  const v = ctx.setting('trusted-ca-file');
  if (!isNonEmptyString(v.value)) {
    return { status: 'fail', evidence: ctx.evidence(v, DEDICATED_CA, { detail: 'etcd does not verify client certificates against any CA' }) };
  }
  const given = ctx.settingOf('kube-apiserver', 'client-ca-file')?.value;
  const clusterCa = typeof given === 'string' && given !== '' ? given : undefined;
  if (clusterCa && sameCa(ctx.snapshot, v.value, clusterCa)) {
    return {
      status: 'fail',
      evidence: ctx.evidence(v, DEDICATED_CA, {
        detail: `shares a CA with kube-apiserver --client-ca-file ${clusterCa}: any certificate of the cluster CA can talk to etcd`,
      }),
    };
  }
  return {
    status: 'pass',
    evidence: ctx.evidence(v, DEDICATED_CA, {
      detail: clusterCa ? `differs from kube-apiserver --client-ca-file ${clusterCa}`
        : 'kube-apiserver does not run on this node; uniqueness against the cluster CA not verified',
    }),
  };
};

/** Same path, or a certificate (of a bundle, too) that both files hold: by fingerprint, else by subject and validity. */
function sameCa(s: Snapshot, a: string, b: string): boolean {
  if (a === b) return true;
  const certsOf = (p: string) => s.certificates.filter((cert) => !cert.error && (cert.path === p || cert.aliases?.includes(p)));
  const identity = (cert: CertificateFact) => cert.fingerprint256
    ?? (cert.subject !== undefined ? `${cert.subject}|${cert.serialNumber ?? ''}|${cert.notBefore ?? ''}|${cert.notAfter ?? ''}` : undefined);
  const inA = new Set(certsOf(a).map(identity).filter((id): id is string => id !== undefined));
  return certsOf(b).some((cert) => {
    const id = identity(cert);
    return id !== undefined && inA.has(id);
  });
}

/** A manual review (CIS 3.x): always `warn`, with the facts a reviewer needs. */
export function manualReview(key: string, expected: string, detail: (ctx: JudgeContext) => string): Judge {
  return (ctx) => ({ status: 'warn', evidence: ctx.evidence(ctx.setting(key), expected, { detail: `manual review: ${detail(ctx)}` }) });
}

export const isSetting = (ctx: JudgeContext, key: string): boolean => isNonEmptyString(ctx.setting(key).value);
