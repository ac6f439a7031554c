// CIS 5.4.1: secrets belong in files, not environment variables. Names only: values never reach the
// snapshot, so they cannot reach a finding.
import type { Check } from '../../check.js';
import { containerCheck, ev, fail, pass } from './common.js';

const SECRET_NAME = /password|passwd|token|bearer|secret|credential|private_?key|api_?key/i;
const EXACT = new Set(['AWS_SECRET_ACCESS_KEY', 'GOOGLE_APPLICATION_CREDENTIALS', 'OCI_CLI_KEY_CONTENT']);

/**
 * The kubelet injects these for every Service in the namespace (enableServiceLinks): `<SVC>_SERVICE_HOST`,
 * `<SVC>_SERVICE_PORT[_<NAME>]`, `<SVC>_PORT[_<N>_<PROTO>[_PROTO|_PORT|_ADDR]]`. They hold addresses, yet a
 * Service named sealed-secrets or vault-token would make them look like secrets in every pod beside it.
 */
const SERVICE_LINK = /^[A-Z_][A-Z0-9_]*_(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?|PORT(_\d+_(TCP|UDP|SCTP)(_(PROTO|PORT|ADDR))?)?)$/;

export function looksSecret(name: string): boolean {
  const upper = name.toUpperCase();
  if (SERVICE_LINK.test(name)) return false;
  return EXACT.has(upper) || /^AZURE_.*KEY$/.test(upper) || SECRET_NAME.test(name);
}

export const secretEnvCheck: Check = containerCheck({
  id: 'container-secret-env', cis: '5.4.1', severity: 'high',
  title: 'Container gets no secret through an environment variable',
  remediation: 'Mount the secret as a file (a secret volume) instead of passing it in env; rotate any value that was exposed.',
  judge(d, c) {
    // A literal value in a manifest or on a node (where every value is literal) is the secret itself.
    const literal = d.env.filter((e) => e.from === undefined && looksSecret(e.name)).map((e) => e.name);
    const fromSecret = d.env.filter((e) => e.from === 'secret').map((e) => e.name);
    const wholeSecrets = (d.envFrom ?? []).filter((e) => e.from === 'secret').map((e) => `envFrom secret ${e.name}`);
    if (literal.length > 0) {
      return {
        ...fail(ev(c, 'env', literal, 'no secret-looking variable', 'variable names only; values are never read into the report')),
        title: `Secret passed in environment variable ${literal.join(', ')}`,
      };
    }
    if (fromSecret.length + wholeSecrets.length > 0) {
      return { status: 'warn', evidence: ev(c, 'env', [...fromSecret, ...wholeSecrets], 'secrets mounted as files',
        'taken from a Secret, but exposed to every process and to crash dumps through the environment') };
    }
    return pass(ev(c, 'env', [], 'no secret-looking variable'));
  },
});
