import type { Check } from '../../check.js';

export const controlPlaneConfigChecks: Check[] = [];
