// proto/gen/ is generated (`npm run proto`) and committed: it must be exactly what proto/vigil.proto makes
// today, or a field added to the schema would silently not travel.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeWithDaemons, findBinary, tempDir } from '../../harness/integration.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const GEN = join(ROOT, 'proto', 'gen');

describeWithDaemons('generated wire code', { protoc: findBinary('protoc') }, () => {
  it('proto/gen/ is what `npm run proto` makes from proto/vigil.proto', () => {
    const dir = tempDir('proto-gen');
    try {
      execFileSync('sh', [join(ROOT, 'proto', 'generate.sh'), dir.path], { stdio: 'pipe' });
      const fresh = readdirSync(dir.path).sort();
      expect(readdirSync(GEN).sort()).toEqual(fresh);
      for (const name of fresh) {
        expect(readFileSync(join(GEN, name), 'utf8'), `proto/gen/${name} is stale: run npm run proto`)
          .toBe(readFileSync(join(dir.path, name), 'utf8'));
      }
    } finally {
      dir.cleanup();
    }
  });
});
