// PSS sysctls: only the namespaced, safe set.
import type { Check } from '../../check.js';
import { containerCheck, ev, fail, pass } from './common.js';

const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range',
  'net.ipv4.ip_unprivileged_port_start', 'net.ipv4.ip_local_reserved_ports', 'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes', 'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_wmem', 'net.ipv4.tcp_slow_start_after_idle', 'net.ipv4.tcp_notsent_lowat',
]);

export const sysctlsCheck: Check = containerCheck({
  id: 'container-sysctls', cis: null, pss: 'sysctls', level: 'baseline', severity: 'medium',
  title: 'Pod sets only safe sysctls',
  remediation: 'Remove spec.securityContext.sysctls entries outside the safe set.',
  judge(d, c) {
    const unsafe = Object.keys(d.sysctls).map((k) => k.replace(/\//g, '.')).filter((k) => !SAFE_SYSCTLS.has(k)).sort();
    const e = ev(c, 'spec.securityContext.sysctls', unsafe, 'only safe sysctls');
    return unsafe.length === 0 ? pass(e) : fail(e);
  },
});
