// Sizes on every Vigil command line: a byte count, or Kubernetes-style quantities — binary `64Ki`/`64Mi`/`1Gi`
// (also `64MiB`) and decimal `64k`/`64M`/`64MB`/`1G`. Units are case-insensitive (`32mb` = `32MB`).
const FACTOR: Record<string, number> = {
  '': 1, b: 1,
  k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9,
  ki: 1024, kib: 1024, mi: 1024 ** 2, mib: 1024 ** 2, gi: 1024 ** 3, gib: 1024 ** 3,
};

/** Bytes, or throws with a message naming what was given. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const factor = m ? FACTOR[m[2].toLowerCase()] : undefined;
  if (!m || factor === undefined) throw new Error(`"${text}" is not a size (e.g. 33554432, 512Ki, 64Mi, 64MB, 1Gi)`);
  const bytes = Math.round(Number(m[1]) * factor);
  if (!Number.isSafeInteger(bytes)) throw new Error(`"${text}" is too large a size`);
  return bytes;
}

/** 67108864 → `64Mi`, 1000 → `1000`; exact binary units only, else the byte count. */
export function formatSize(bytes: number): string {
  for (const [unit, size] of [['Gi', 1024 ** 3], ['Mi', 1024 ** 2], ['Ki', 1024]] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}
