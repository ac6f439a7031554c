import type { Check } from '../../check.js';

export const schedulerChecks: Check[] = [];
