// Kubelet judges, on effective settings (flag > drop-in > config file > the default of this kind of kubelet): where
// a verdict needs more than one op says (defaulting of zero values, two settings together).
import { parseGoBool } from '../../../common/bool.js';
import { parseGoDuration } from '../../../common/duration.js';
import type { Setting } from '../../facts/snapshot.js';
import { asList, isNonEmptyString, numberOf } from '../../facts/values.js';
import type { Judgement } from '../check.js';
import type { Judge } from '../rows.js';

/** The value was read from the kubelet config file or a drop-in, where the kubelet's defaulting applies to zero values. */
const fromConfigFile = (setting: Setting): boolean => setting.source === 'config-file' || setting.source === 'config-dir';

/** CIS 4.2.1: anonymous auth off; critical when authorization is AlwaysAllow too. */
export const kubeletAnonymous: Judge = (ctx) => {
  const j = ctx.apply({ op: 'equals', value: false }, 'authentication.anonymous.enabled');
  if (j.status === 'fail' && asList(ctx.setting('authorization.mode').value)?.includes('AlwaysAllow')) {
    j.severity = 'critical';
    j.evidence.detail = [j.evidence.detail, 'authorization mode is AlwaysAllow: anyone who reaches the kubelet port can run commands in pods']
      .filter(Boolean).join('; ');
  }
  return j;
};

/** CIS 4.2.2: an empty mode in the config file is defaulted to Webhook by the kubelet. */
export const kubeletAuthorizationMode: Judge = (ctx) => {
  const setting = ctx.setting('authorization.mode');
  if (fromConfigFile(setting) && (asList(setting.value) ?? []).length === 0) {
    const evidence = ctx.evidence(setting, 'set, not AlwaysAllow', { detail: 'empty in the config file: the kubelet defaults it to Webhook' });
    return { status: 'pass', evidence: { ...evidence, value: 'Webhook', configured: setting.value } };
  }
  const modes = asList(setting.value);
  const ok = !!modes && modes.length > 0 && !modes.includes('AlwaysAllow');
  return { status: ok ? 'pass' : 'fail', evidence: ctx.evidence(setting, 'set, not AlwaysAllow') };
};

/** CIS 4.2.4: the read-only port is 0 (unset means 0). */
export const kubeletReadOnlyPort: Judge = (ctx) => {
  const setting = ctx.setting('readOnlyPort');
  const port = setting.value === undefined ? 0 : numberOf(setting.value);
  const detail = port === undefined ? `"${String(setting.value)}" is not a port number`
    : port !== 0 ? `unauthenticated, unencrypted kubelet API on port ${port}` : undefined;
  return { status: port === 0 ? 'pass' : 'fail', evidence: ctx.evidence(setting, '0 (disabled)', { detail }) };
};

/** CIS 4.2.5: the kubelet defaults a zero duration read from its config file to 4h; only a flag can really set 0. */
export const kubeletStreamingTimeout: Judge = (ctx) => {
  const setting = ctx.setting('streamingConnectionIdleTimeout');
  if (setting.value === undefined) return { status: 'pass', evidence: ctx.evidence(setting, 'not 0') };
  const duration = typeof setting.value === 'string' ? parseGoDuration(setting.value) : numberOf(setting.value);
  if (duration === 0 && fromConfigFile(setting)) {
    const evidence = ctx.evidence(setting, 'not 0', { detail: `the config file says ${String(setting.value)}; the kubelet defaults a zero duration to 4h0m0s` });
    return { status: 'pass', evidence: { ...evidence, value: '4h0m0s', configured: setting.value } };
  }
  const detail = duration === undefined ? `"${String(setting.value)}" is not a duration` : duration === 0 ? 'idle streaming connections never time out' : undefined;
  return { status: duration !== undefined && duration !== 0 ? 'pass' : 'fail', evidence: ctx.evidence(setting, 'not 0', { detail }) };
};

/** CIS 4.2.8: eventRecordQPS at least 0 (unset passes; 0 means no limit). */
export const kubeletEventQps: Judge = (ctx) => {
  const setting = ctx.setting('eventRecordQPS');
  if (setting.value === undefined) return { status: 'pass', evidence: ctx.evidence(setting, '>= 0') };
  const qps = numberOf(setting.value);
  const detail = qps === undefined ? `"${String(setting.value)}" is not a number` : qps === 0 ? '0 means no rate limit: every event is recorded' : undefined;
  return { status: qps !== undefined && qps >= 0 ? 'pass' : 'fail', evidence: ctx.evidence(setting, '>= 0', { detail }) };
};

/** CIS 4.2.9: a serving certificate and key, or serverTLSBootstrap (a CA-signed, rotated serving certificate). */
export const kubeletServingCert: Judge = (ctx) => {
  const cert = ctx.setting('tlsCertFile');
  const key = ctx.setting('tlsPrivateKeyFile');
  const bootstrapSetting = ctx.setting('serverTLSBootstrap');
  const both = isNonEmptyString(cert.value) && isNonEmptyString(key.value);
  const bootstrap = parseGoBool(bootstrapSetting.value) === true;
  const evidence = ctx.evidence(cert, 'tlsCertFile and tlsPrivateKeyFile set, or serverTLSBootstrap true');
  evidence.key = 'tlsCertFile, tlsPrivateKeyFile';
  evidence.value = { tlsCertFile: cert.value ?? null, tlsPrivateKeyFile: key.value ?? null, serverTLSBootstrap: bootstrapSetting.value ?? null };
  if (both) return { status: 'pass', evidence };
  if (bootstrap) {
    evidence.source = bootstrapSetting.source;
    evidence.path = bootstrapSetting.path;
    evidence.detail = 'serverTLSBootstrap is on: the serving certificate is requested from the cluster CA and rotated';
    return { status: 'pass', evidence };
  }
  evidence.detail = 'the kubelet serves a self-signed certificate it generates itself';
  return { status: 'fail', evidence };
};

/** CIS 4.2.11: the rotation gate not off (fail), and serverTLSBootstrap on, without which nothing rotates (warn). */
export const kubeletServerRotation: Judge = (ctx): Judgement => {
  const gate = ctx.setting('featureGates.RotateKubeletServerCertificate');
  const bootstrap = ctx.setting('serverTLSBootstrap');
  if (parseGoBool(gate.value) === false) {
    return { status: 'fail', evidence: ctx.evidence(gate, 'not false', { detail: 'serving-certificate rotation is disabled by the feature gate' }) };
  }
  const evidence = ctx.evidence(bootstrap, 'gate not false, serverTLSBootstrap true');
  evidence.value = { 'featureGates.RotateKubeletServerCertificate': gate.value ?? null, serverTLSBootstrap: bootstrap.value ?? null };
  if (parseGoBool(bootstrap.value) === true) return { status: 'pass', evidence };
  evidence.detail = [
    gate.value === undefined ? 'the gate is on by default (since 1.12)' : undefined,
    'but serverTLSBootstrap is off, so the serving certificate is never rotated',
  ].filter(Boolean).join(', ');
  return { status: 'warn', evidence };
};
