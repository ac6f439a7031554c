// Bundles vigil-agent into dist/bin/: vigil-agent.js (package.json's bin, the image's entrypoint) and the chunks it
// loads on demand. esbuild splits at the dynamic imports of program.ts, so `scan` still never loads what only `run`
// needs (gRPC, NATS, prom-client, chokidar, the daemon: test/unit/daemon/lean-scan.test.ts checks the chunks). A few
// files read and compiled instead of ~300 modules resolved and loaded one by one: a whole `vigil-agent scan` takes
// about 30 % less wall time here, and `run` holds fewer, smaller module sources (BENCHMARKS.md, fast path). Run by `npm run build` after tsc
// (the collector, the tests and the benches keep tsc's dist/); `--quiet` prints nothing but errors, `--outdir <dir>`
// writes elsewhere (test/harness/built-cli.ts). <outdir>/vigil-agent.meta.json says which sources each chunk holds.
// Files read at run time (proto/*.proto, package.json) are found by walking up from the chunk, as from dist/agent/.
import { build } from 'esbuild';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outdirAt = process.argv.indexOf('--outdir');
const out = outdirAt > 0 ? resolve(process.argv[outdirAt + 1]) : join(repo, 'dist/bin');
const quiet = process.argv.includes('--quiet');

rmSync(out, { recursive: true, force: true });
const result = await build({
  absWorkingDir: repo,
  entryPoints: { 'vigil-agent': 'agent/cli.ts' },
  outdir: out,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Names stay (stack traces in logs read as the sources do); whitespace and dead syntax go.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  // Native addons cannot be bundled (the agent loads none today; better-sqlite3 is the collector's).
  external: ['better-sqlite3'],
  // The CommonJS packages bundled in (gRPC, protobufjs, pino, …) call require() for Node's own modules.
  banner: { js: "import { createRequire as __vigilRequire } from 'node:module'; const require = __vigilRequire(import.meta.url);" },
  metafile: true,
  logLevel: 'warning',
});
chmodSync(join(out, 'vigil-agent.js'), 0o755);
const chunks = Object.fromEntries(Object.entries(result.metafile.outputs)
  .filter(([file]) => file.endsWith('.js'))
  .map(([file, o]) => [relative(out, resolve(repo, file)), Object.keys(o.inputs)]));
writeFileSync(join(out, 'vigil-agent.meta.json'), JSON.stringify(chunks) + '\n');
if (!quiet) {
  const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
  console.log(`${relative(repo, out)}: vigil-agent.js and ${Object.keys(chunks).length - 1} chunks, ${(bytes / 1024).toFixed(0)} KiB with source maps`);
}
