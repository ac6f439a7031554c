// What gather could not read is reported, not swallowed: one `error` finding per unreadable fact.
import type { Check } from './check.js';

export const gatherErrorCheck: Check = {
  id: 'vigil.gather-error',
  cis: null,
  title: 'A host fact could not be read',
  severity: 'medium',
  component: 'node',
  remediation: 'Check that the agent can read the path (mounts, capabilities) and that the file is well-formed.',
  evaluate: (s) => s.errors.map((e) => ({
    status: 'error' as const,
    resource: { kind: 'file' as const, path: e.path },
    evidence: { source: 'gather', path: e.path, detail: `${e.code}: ${e.message}` },
    title: `Could not read ${e.path} (${e.code})`,
    discriminator: e.code,
  })),
};
