import type { Check } from '../../check.js';

export const controllerManagerChecks: Check[] = [];
