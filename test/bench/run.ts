// `npm run bench [suite...]`: runs the benchmark suites and rewrites their sections of BENCHMARKS.md.
// Each suite module exports `run(): Promise<string>` returning its markdown section (tables with the figures).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// Suite name → module ./<name>.js beside this file.
const SUITES = ['scan', 'containers', 'collector', 'delivery', 'dashboard', 'fastpath', 'hostile', 'correlation', 'scaling'];
const loadSuite = (name: string): Promise<{ run(): Promise<string> }> => import(`./${name}.js`);

const BENCH_FILE = join(process.cwd(), 'BENCHMARKS.md');

function replaceSection(doc: string, suite: string, body: string): string {
  const start = `<!-- bench:${suite}:start -->`;
  const end = `<!-- bench:${suite}:end -->`;
  const block = `${start}\n${body.trim()}\n${end}`;
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  if (i >= 0 && j > i) return doc.slice(0, i) + block + doc.slice(j + end.length);
  return `${doc.trimEnd()}\n\n${block}\n`;
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const names = wanted.length > 0 ? wanted : SUITES;
  let doc: string;
  try { doc = readFileSync(BENCH_FILE, 'utf8'); } catch { doc = '# Benchmarks\n'; }
  for (const name of names) {
    if (!SUITES.includes(name)) throw new Error(`unknown bench suite ${name}; known: ${SUITES.join(', ')}`);
    let mod: { run(): Promise<string> };
    try { mod = await loadSuite(name); } catch (err) {
      console.error(`bench ${name}: not available (${(err as Error).message})`);
      continue;
    }
    console.error(`bench ${name}: running`);
    const section = await mod.run();
    process.stdout.write(section + '\n');
    doc = replaceSection(doc, name, section);
    writeFileSync(BENCH_FILE, doc);
  }
}

main().catch((err) => { console.error(err); process.exitCode = 1; });
