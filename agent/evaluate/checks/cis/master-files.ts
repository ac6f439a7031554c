import type { Check } from '../../check.js';

export const masterFilesChecks: Check[] = [];
