// Command-line flags as Go's pflag and flag packages read them.
import { parseGoBool } from '../../common/bool.js';
import type { FlagMap } from '../facts/snapshot.js';

/**
 * Boolean flags of the Kubernetes components and etcd. A boolean flag never takes the next argument as its value
 * (`--anonymous-auth false` sets it to true and leaves "false" as a positional argument), so the parser must know them.
 */
const BOOLEAN_FLAGS = new Set([
  'anonymous-auth', 'profiling', 'authentication-token-webhook', 'make-iptables-util-chains',
  'rotate-certificates', 'rotate-server-certificates', 'protect-kernel-defaults', 'seccomp-default',
  'enable-debugging-handlers', 'service-account-lookup', 'use-service-account-credentials',
  'service-account-extend-token-expiration', 'allow-privileged', 'enable-bootstrap-token-auth',
  'client-cert-auth', 'peer-client-cert-auth', 'auto-tls', 'peer-auto-tls', 'enable-v2', 'strict-reconfig-check',
  'enable-pprof', 'debug', 'logtostderr', 'alsologtostderr', 'leader-elect', 'fail-swap-on',
  'enable-controller-attach-detach', 'cgroups-per-qos', 'enforce-node-allocatable-ignored', 'kubelet-https',
  'insecure-skip-tls-verify', 'cluster-init', 'disable-agent', 'secrets-encryption', 'selinux',
]);

/**
 * Parses arguments after the command. Accepts `--flag=value`, `--flag value`, bare boolean `--flag`, and single-dash
 * `-flag` (etcd uses Go's flag package). Repeats are kept in order. Positional arguments are ignored.
 */
export function parseFlags(args: readonly string[]): FlagMap {
  const flags: FlagMap = {};
  const add = (name: string, value: string) => (flags[name] ??= []).push(value);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') break;
    const m = /^--?([A-Za-z0-9][A-Za-z0-9._-]*)(?:=([\s\S]*))?$/.exec(arg);
    if (!m) continue;
    const [, name, inline] = m;
    if (inline !== undefined) { add(name, inline); continue; }
    const next = args[i + 1];
    if (!BOOLEAN_FLAGS.has(name) && next !== undefined && !next.startsWith('-')) {
      add(name, next);
      i++;
    } else {
      add(name, 'true');
    }
  }
  return flags;
}

/** The value a scalar flag takes: the last one given (pflag semantics). */
export function lastFlag(flags: FlagMap, name: string): string | undefined {
  const values = flags[name];
  return values && values.length > 0 ? values[values.length - 1] : undefined;
}

/** A list flag: comma-separated values, repeats appended (pflag StringSlice semantics). */
export function listFlag(flags: FlagMap, name: string): string[] | undefined {
  const values = flags[name];
  if (!values) return undefined;
  return values.flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
}

/** `A=true,B=false` (the --feature-gates form) → { A: true, B: false }. */
export function parseFeatureGates(values: readonly string[]): Record<string, boolean> {
  const gates: Record<string, boolean> = {};
  for (const item of values.flatMap((v) => v.split(','))) {
    const [k, v] = item.split('=').map((s) => s.trim());
    if (!k) continue;
    const b = parseGoBool(v ?? 'true');
    if (b !== undefined) gates[k] = b;
  }
  return gates;
}

/** `--feature-gates` as a map of the text given for each gate: repeats merge, a later gate wins. */
export function featureGates(flags: FlagMap): Record<string, string> {
  const gates: Record<string, string> = {};
  for (const entry of listFlag(flags, 'feature-gates') ?? []) {
    const eq = entry.indexOf('=');
    if (eq <= 0) continue;
    gates[entry.slice(0, eq).trim()] = entry.slice(eq + 1).trim();
  }
  return gates;
}
