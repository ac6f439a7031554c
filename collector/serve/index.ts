// The collector's public surface for the CLI, tests and the streaming transports.
export { startCollector, ROUTES, type RunningCollector, type StartDeps } from './start.js';
export { addServeOptions, resolveServeOptions, parseDuration, isLoopbackHost, type CollectorOptions, type RawServeOptions } from './options.js';
export { loadTokens, TokenSet, type Role } from './auth.js';
