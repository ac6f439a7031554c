// Container checks: Pod Security Standards (baseline and restricted) and CIS 5.2.x / 5.4.1 judged on
// what each running container (or rendered PodSpec) declares, plus what PSS does not cover: sensitive
// host mounts, writable root filesystems, secrets in env, uid 0, and spec-vs-kernel drift.
import type { Check } from '../../check.js';
import { privilegedCheck, hostNamespaceChecks } from './privileged.js';
import { capabilitiesBaselineCheck, capabilitiesRestrictedCheck, netRawCheck } from './capabilities.js';
import { hostPathCheck, restrictedVolumesCheck, sensitiveHostMountCheck } from './volumes.js';
import { hostPortsCheck } from './host-ports.js';
import { appArmorCheck, seLinuxCheck, procMountCheck } from './lsm.js';
import { seccompBaselineCheck, seccompRestrictedCheck } from './seccomp.js';
import { sysctlsCheck } from './sysctls.js';
import { privilegeEscalationCheck } from './privilege-escalation.js';
import { runAsNonRootCheck, runAsUserCheck, rootUidCheck } from './run-as.js';
import { readOnlyRootFsCheck } from './root-fs.js';
import { secretEnvCheck } from './env-secrets.js';
import { kernelDriftCheck } from './kernel-drift.js';
import { containerGatherErrorCheck } from './gather-errors.js';

export const containersChecks: Check[] = [
  // PSS baseline
  privilegedCheck,
  ...hostNamespaceChecks,
  capabilitiesBaselineCheck,
  hostPathCheck,
  hostPortsCheck,
  appArmorCheck,
  seLinuxCheck,
  procMountCheck,
  seccompBaselineCheck,
  sysctlsCheck,
  // PSS restricted
  restrictedVolumesCheck,
  privilegeEscalationCheck,
  runAsNonRootCheck,
  runAsUserCheck,
  seccompRestrictedCheck,
  capabilitiesRestrictedCheck,
  // Beyond PSS
  netRawCheck,
  sensitiveHostMountCheck,
  readOnlyRootFsCheck,
  secretEnvCheck,
  rootUidCheck,
  kernelDriftCheck,
  containerGatherErrorCheck,
];
