// No Docker engine runs here, so the images' properties are checked from the Dockerfiles themselves:
// multi-stage with production dependencies only at run time, a base image pinned by exact version, the
// collector as a numeric non-root user, exec-form entrypoints that exist in package.json's bin, and a
// .dockerignore that keeps node_modules, .git and tests out of the build context.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './kustomize.js';

interface Instruction { keyword: string; args: string; line: number }
interface Stage { from: string; name?: string; instructions: Instruction[] }
interface Dockerfile { args: Map<string, string>; stages: Stage[] }

/** Enough of the Dockerfile grammar for these checks: comments, line continuations, ARG before FROM. */
export function parseDockerfile(text: string): Dockerfile {
  const logical: { text: string; line: number }[] = [];
  let buffer = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    // Blank lines and comments are skipped, also inside a continued instruction (as Docker does).
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    if (buffer === '') start = i + 1;
    if (line.endsWith('\\')) { buffer += line.slice(0, -1) + ' '; return; }
    logical.push({ text: buffer + line, line: start });
    buffer = '';
  });
  if (buffer !== '') throw new Error('Dockerfile ends inside a line continuation');
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const { text: l, line } of logical) {
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(l);
    if (!m) throw new Error(`line ${line}: not an instruction: ${l}`);
    const keyword = m[1].toUpperCase();
    const rest = m[2].trim();
    if (keyword === 'FROM') {
      const f = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      if (!f) throw new Error(`line ${line}: bad FROM: ${rest}`);
      const image = f[1].replace(/\$\{?(\w+)\}?/g, (_, name: string) => {
        const v = args.get(name);
        if (v === undefined) throw new Error(`line ${line}: FROM uses undeclared ARG ${name}`);
        return v;
      });
      stages.push({ from: image, name: f[2], instructions: [] });
    } else if (stages.length === 0) {
      if (keyword !== 'ARG') throw new Error(`line ${line}: ${keyword} before the first FROM`);
      const [k, v] = rest.split('=');
      args.set(k, v ?? '');
    } else {
      stages[stages.length - 1].instructions.push({ keyword, args: rest, line });
    }
  }
  return { args, stages };
}

function load(name: string): Dockerfile {
  return parseDockerfile(readFileSync(join(REPO_ROOT, name), 'utf8'));
}

const of = (stage: Stage, keyword: string): Instruction[] => stage.instructions.filter((i) => i.keyword === keyword);
const runs = (stage: Stage): string => of(stage, 'RUN').map((i) => i.args).join('\n');

/** A JSON array of strings: the exec form (no shell between the signal and the process). */
function execForm(instr: Instruction | undefined): string[] {
  expect(instr, 'instruction present').toBeDefined();
  const parsed: unknown = JSON.parse(instr!.args);
  expect(Array.isArray(parsed) && parsed.every((s) => typeof s === 'string')).toBe(true);
  return parsed as string[];
}

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string>; scripts: Record<string, string> };
const pkgScripts = pkg.scripts;
const IMAGES = [
  { file: 'Dockerfile.agent', bin: 'vigil-agent', nonRoot: false },
  { file: 'Dockerfile.collector', bin: 'vigil-collector', nonRoot: true },
] as const;

describe.each(IMAGES)('$file', ({ file, bin, nonRoot }) => {
  const df = load(file);
  const runtime = df.stages[df.stages.length - 1];

  it('is multi-stage, every stage on the same base image pinned by exact version', () => {
    expect(df.stages.length).toBeGreaterThanOrEqual(3);
    for (const s of df.stages) {
      // node:<major>.<minor>.<patch>-<debian release>[-slim], optionally with a digest; never a floating tag.
      expect(s.from).toMatch(/^node:\d+\.\d+\.\d+-(bookworm|bullseye|trixie)(-slim)?(@sha256:[0-9a-f]{64})?$/);
      expect(s.from).toBe(df.stages[0].from);
    }
    const major = Number(/^node:(\d+)\./.exec(runtime.from)![1]);
    expect(major).toBe(20); // package.json engines: node >= 20; tests run on 20
  });

  it('builds with dev dependencies and runs with production dependencies only', () => {
    const build = df.stages.find((s) => s.name === 'build')!;
    const deps = df.stages.find((s) => s.name === 'deps')!;
    expect(runs(build)).toMatch(/npm ci\b/);
    expect(runs(build)).not.toMatch(/--omit=dev|--production/);
    // The image builds exactly what `npm run build` builds (the TypeScript, and the dashboard bundle once the
    // build script makes one); that script still compiles with tsconfig.build.json.
    expect(runs(build)).toMatch(/^npm run build$/m);
    expect(pkgScripts.build).toMatch(/tsc -p tsconfig\.build\.json/);
    expect(runs(deps)).toMatch(/npm ci --omit=dev --ignore-scripts/);
    // The runtime stage installs no npm packages itself: it copies node_modules from deps and dist from build.
    expect(runs(runtime)).not.toMatch(/\bnpm\b|\bnpx\b/);
    const copies = of(runtime, 'COPY').map((i) => i.args);
    expect(copies).toContainEqual(expect.stringMatching(/^--from=deps \/app\/node_modules /));
    expect(copies).toContainEqual(expect.stringMatching(/^--from=build \/src\/dist /));
    expect(copies.some((c) => /--from=build .*node_modules/.test(c)), 'dev node_modules never reach the runtime').toBe(false);
    // No compiler in the runtime image.
    expect(runs(runtime)).not.toMatch(/\bg\+\+|build-essential|\bmake\b|python3/);
  });

  it('copies only sources that exist and that .dockerignore lets through', () => {
    const ignored = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const s of df.stages) {
      for (const c of of(s, 'COPY')) {
        if (c.args.startsWith('--from=')) continue;
        const sources = c.args.split(/\s+/).slice(0, -1);
        for (const src of sources) {
          expect(existsSync(join(REPO_ROOT, src)), `${file}:${c.line} copies ${src}`).toBe(true);
          expect(ignored, `${src} is not excluded by .dockerignore`).not.toContain(src);
        }
      }
    }
  });

  it('ships the .proto schemas the code loads at run time, beside dist/', () => {
    const runtime = load(file).stages.at(-1)!;
    const copied = of(runtime, 'COPY').map((c) => c.args);
    for (const schema of ['proto/vigil.proto', 'proto/cri/api.proto']) {
      expect(existsSync(join(REPO_ROOT, schema))).toBe(true);
      expect(copied).toContain(`${schema} ./${schema}`);
    }
  });

  it(`has an exec-form entrypoint running ${bin}'s file from package.json bin`, () => {
    const entry = execForm(of(runtime, 'ENTRYPOINT').at(-1));
    const script = entry.find((a) => a.endsWith('.js'));
    expect(script).toBe(`/app/${pkg.bin[bin]}`);
    expect(entry[0]).toBe('/usr/bin/tini'); // PID 1 that forwards SIGTERM and reaps
    expect(runs(runtime)).toMatch(/install .*\btini\b/);
    const cmd = of(runtime, 'CMD').at(-1);
    if (cmd) execForm(cmd);
  });

  it(nonRoot ? 'runs as a numeric non-root user' : 'runs as root on purpose, stated in the file', () => {
    const user = of(runtime, 'USER').at(-1);
    expect(user).toBeDefined();
    const [uid, gid] = user!.args.split(':');
    expect(uid).toMatch(/^\d+$/); // numeric, so the kubelet can enforce runAsNonRoot
    if (nonRoot) {
      expect(Number(uid)).toBeGreaterThan(0);
      expect(Number(gid)).toBeGreaterThan(0);
      expect(runs(runtime)).toMatch(new RegExp(`useradd .*--uid ${uid}\\b`));
    } else {
      expect(Number(uid)).toBe(0);
      expect(readFileSync(join(REPO_ROOT, file), 'utf8')).toMatch(/Root on purpose[\s\S]*not privileged/);
    }
  });
});

describe('Dockerfile.collector native addon', () => {
  it('builds better-sqlite3 in the deps stage, with the toolchain only there', () => {
    const df = load('Dockerfile.collector');
    const deps = df.stages.find((s) => s.name === 'deps')!;
    expect(runs(deps)).toMatch(/npm rebuild better-sqlite3/);
    expect(runs(deps)).toMatch(/install .*python3.*make.*g\+\+/);
  });
});

describe('Dockerfile.collector dashboard', () => {
  it('builds the dashboard into dist/ in the build stage and ships it with dist/', () => {
    const df = load('Dockerfile.collector');
    const build = df.stages.find((s) => s.name === 'build')!;
    const runtime = df.stages.at(-1)!;
    // `npm run build` runs build.mjs after tsc: it writes dist/dashboard, which the collector serves beside dist/collector.
    expect(runs(build)).toMatch(/^npm run build$/m);
    expect(pkgScripts.build).toMatch(/tsc -p tsconfig\.build\.json && node collector\/dashboard\/build\.mjs\b/);
    expect(of(build, 'COPY').map((c) => c.args)).toContain('collector ./collector');
    expect(of(runtime, 'COPY').map((c) => c.args)).toContain('--from=build /src/dist ./dist');
  });
});

describe('.dockerignore', () => {
  const lines = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
  it.each(['node_modules', '.git', 'test', 'dist', '*.log'])('excludes %s', (entry) => {
    expect(lines).toContain(entry);
  });
});

describe('parseDockerfile', () => {
  it('rejects what it cannot read instead of guessing', () => {
    expect(() => parseDockerfile('RUN echo hi\n')).toThrow(/before the first FROM/);
    expect(() => parseDockerfile('FROM ${BASE}\n')).toThrow(/undeclared ARG BASE/);
    expect(() => parseDockerfile('FROM node:20.20.2-bookworm-slim\nRUN a \\\n')).toThrow(/continuation/);
  });
  it('joins continued lines and skips comments inside them', () => {
    const df = parseDockerfile('ARG B=node:20.1.2-bookworm\nFROM ${B} AS x\nRUN a \\\n# note\n  && b\n');
    expect(df.stages[0]).toMatchObject({ from: 'node:20.1.2-bookworm', name: 'x' });
    expect(df.stages[0].instructions[0].args).toBe('a    && b');
  });
});
