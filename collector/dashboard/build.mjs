// Builds the dashboard into dist/dashboard/: one script and one stylesheet (content-hashed, so they can be cached
// forever), index.html pointing at them, the icon, and manifest.json (files, sizes, the content-security-policy)
// for the collector that serves them. Run by `npm run build`; `--quiet` prints nothing but errors.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const out = join(repo, 'dist/dashboard');
const quiet = process.argv.includes('--quiet');

/**
 * Nothing but this origin: no CDN, no external font, no inline script or style. The collector sends it as a
 * header (with frame-ancestors, which a <meta> policy cannot carry); index.html repeats it for any other server.
 */
const CSP_META = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "base-uri 'none'", "form-action 'none'",
].join('; ');
const CSP_HEADER = `${CSP_META}; frame-ancestors 'none'`;

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'assets'), { recursive: true });

const result = await build({
  absWorkingDir: repo,
  entryPoints: { app: join(here, 'src/main.tsx') },
  outdir: join(out, 'assets'),
  entryNames: '[name]-[hash]',
  bundle: true,
  minify: true,
  // Classic script at the end of <body>: it sets the theme and renders before the first paint.
  format: 'iife',
  target: ['chrome115', 'firefox121', 'safari17'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'none', // the licences are in THIRD-PARTY-NOTICES.txt
  metafile: true,
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
});

const outputs = Object.keys(result.metafile.outputs).map((p) => resolve(repo, p));
const pick = (ext) => {
  const found = outputs.find((p) => p.endsWith(ext));
  if (!found) throw new Error(`esbuild wrote no ${ext} file`);
  return relative(out, found);
};
const js = pick('.js');
const css = pick('.css');

const html = readFileSync(join(here, 'index.html'), 'utf8')
  .replace('{{csp}}', CSP_META).replace('{{css}}', css).replace('{{js}}', js);
writeFileSync(join(out, 'index.html'), html);
copyFileSync(join(here, 'favicon.svg'), join(out, 'favicon.svg'));
// The libraries bundled into the script, with their licences (both MIT, which asks for the notice to travel along).
const bundled = ['preact', 'uplot'].map((name) => {
  const pkg = JSON.parse(readFileSync(join(repo, 'node_modules', name, 'package.json'), 'utf8'));
  return `${name} ${pkg.version} (${pkg.license})\n\n${readFileSync(join(repo, 'node_modules', name, 'LICENSE'), 'utf8').trim()}\n`;
});
writeFileSync(join(out, 'THIRD-PARTY-NOTICES.txt'), bundled.join('\n---\n\n'));

const files = ['index.html', 'favicon.svg', 'THIRD-PARTY-NOTICES.txt', js, css].map((path) => {
  const body = readFileSync(join(out, path));
  return { path, bytes: body.length, gzipBytes: gzipSync(body, { level: 9 }).length, immutable: path.startsWith('assets/') };
});
const shipped = files.filter((f) => f.path === js || f.path === css).reduce((n, f) => n + f.gzipBytes, 0);
writeFileSync(join(out, 'manifest.json'), JSON.stringify({ index: 'index.html', csp: CSP_HEADER, files, shippedGzipBytes: shipped }, null, 2) + '\n');

if (!quiet) {
  for (const f of files) console.log(`dashboard  ${f.path.padEnd(28)} ${String(f.bytes).padStart(8)} B  ${String(f.gzipBytes).padStart(7)} B gzip`);
  console.log(`dashboard  JS+CSS shipped for / : ${(shipped / 1024).toFixed(1)} kB gzip`);
}
