#!/usr/bin/env node
import { buildProgram } from './program.js';
import { log } from './log.js';

buildProgram().parseAsync(process.argv).catch((err: unknown) => {
  log.error({ err }, 'vigil-agent failed');
  process.exitCode = 2;
});
