// Reading the Kustomize tree under deploy/ without a cluster: every YAML a kustomization references,
// parsed, plus rendering with the real `kubectl kustomize` when kubectl is on PATH.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, type Document } from 'yaml';
import { findBinary } from '../../harness/integration.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const DEPLOY = join(REPO_ROOT, 'deploy');

// Minimal shapes of the Kubernetes objects these tests read; everything else stays `unknown`.
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: any;
  [key: string]: unknown;
}

interface ParsedFile {
  path: string;
  documents: Document.Parsed[];
  objects: K8sObject[];
}

export function parseYamlFile(path: string): ParsedFile {
  const text = readFileSync(path, 'utf8');
  const documents = parseAllDocuments(text);
  if (!Array.isArray(documents)) throw new Error(`${path}: empty YAML stream`);
  for (const d of documents) {
    if (d.errors.length > 0) throw new Error(`${path}: ${d.errors.map((e) => e.message).join('; ')}`);
  }
  const objects = documents.map((d) => d.toJS() as K8sObject).filter((o) => o !== null);
  return { path, documents, objects };
}

interface Kustomization {
  dir: string;
  kind: 'Kustomization' | 'Component';
  namespace?: string;
  resources: string[];
  components: string[];
  /** Patch files (strategic merge or JSON6902 with target) and inline patches, with their targets. */
  patches: { path?: string; inline?: string; target?: { kind?: string; name?: string } }[];
  configMapGenerator: { name: string; envs?: string[]; files?: string[] }[];
  raw: Record<string, unknown>;
}

export function readKustomization(dir: string): Kustomization {
  const file = join(dir, 'kustomization.yaml');
  if (!existsSync(file)) throw new Error(`${relative(REPO_ROOT, dir)}: no kustomization.yaml`);
  const [raw] = parseYamlFile(file).objects as unknown as Record<string, unknown>[];
  const list = <T>(key: string): T[] => (Array.isArray(raw[key]) ? (raw[key] as T[]) : []);
  return {
    dir,
    kind: raw.kind === 'Component' ? 'Component' : 'Kustomization',
    namespace: typeof raw.namespace === 'string' ? raw.namespace : undefined,
    resources: list<string>('resources'),
    components: list<string>('components'),
    patches: list('patches'),
    configMapGenerator: list('configMapGenerator'),
    raw,
  };
}

export function isDirectory(path: string): boolean {
  try { return statSync(path).isDirectory(); } catch { return false; }
}

/**
 * Every object a kustomization brings in through `resources` (recursively, through nested
 * kustomizations), before patches, with the file it came from. Throws on a missing or unparsable file.
 */
export function collectResources(dir: string): { object: K8sObject; file: string }[] {
  const k = readKustomization(dir);
  const out: { object: K8sObject; file: string }[] = [];
  for (const entry of k.resources) {
    const target = resolve(dir, entry);
    if (isDirectory(target)) {
      out.push(...collectResources(target));
    } else if (existsSync(target)) {
      for (const object of parseYamlFile(target).objects) out.push({ object, file: target });
    } else {
      throw new Error(`${relative(REPO_ROOT, dir)}/kustomization.yaml: resource ${entry} does not exist`);
    }
  }
  return out;
}

export function objectKey(o: K8sObject, defaultNamespace?: string): string {
  return `${o.kind}/${o.metadata.namespace ?? defaultNamespace ?? ''}/${o.metadata.name}`;
}

export const KUBECTL = findBinary('kubectl');

/** `kubectl kustomize <dir>` parsed; undefined when kubectl is not installed. */
export function kubectlKustomize(dir: string): K8sObject[] | undefined {
  if (!KUBECTL) return undefined;
  const out = execFileSync(KUBECTL, ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  return parseAllDocuments(out).map((d) => {
    if (d.errors.length > 0) throw new Error(`kubectl kustomize ${dir}: ${d.errors[0].message}`);
    return d.toJS() as K8sObject;
  });
}

/**
 * Renders a throwaway kustomization that takes `resources` (kustomization dirs) and `components`, as a user's
 * own kustomization would (kustomize wants paths relative to the kustomization). `extra` is appended verbatim.
 */
export function kubectlKustomizeWith(resources: string[], components: string[] = [], extra = ''): K8sObject[] {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-kustomize-'));
  try {
    const list = (key: string, paths: string[]): string => (paths.length ? `${key}:\n${paths.map((p) => `  - ${relative(dir, p)}\n`).join('')}` : '');
    writeFileSync(join(dir, 'kustomization.yaml'), list('resources', resources) + list('components', components) + extra);
    return kubectlKustomize(dir)!;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function findObject(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && (o.metadata.name === name || o.metadata.name.startsWith(`${name}-`)));
  if (!found) throw new Error(`no ${kind} ${name} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found;
}

/** The pod template spec of a workload object. */
export function podSpec(workload: K8sObject): any {
  return workload.spec?.template?.spec;
}
