// The import direction of .dependency-cruiser.mjs (which `npm run lint` enforces) holds for src/,
// no import cycle remains, and each rule fires on a tree that breaks it.
import { mkdtemp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import { afterAll, describe, expect, it } from 'vitest';
import config, { LAYERS } from '../../../.dependency-cruiser.mjs';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** What `depcruise src` reports for the tree at `baseDir`, one line a violation. */
async function violations(baseDir: string): Promise<string[]> {
  const { forbidden, options } = config;
  const out = await cruise(['src'], { ...options, baseDir, validate: true, ruleSet: { forbidden } });
  const result = out.output as ICruiseResult;
  return result.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`).sort();
}

describe('the import direction', () => {
  it('holds for src/: no import against the layers, no cycle, no module outside a layer', async () => {
    expect(await violations(ROOT)).toEqual([]);
  });

  it('names every folder of src/ in a layer', async () => {
    const folders = (await readdir(path.join(ROOT, 'src'), { withFileTypes: true }))
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    expect(folders).toEqual(LAYERS.flat().sort());
  });

  describe('each rule fires', () => {
    let dir: string;
    afterAll(() => rm(dir, { recursive: true, force: true }));

    it('on an upward import, an import beside, a cycle and a module outside the layers', async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'nh-layers-'));
      const files: Record<string, string> = {
        'src/lib/files.ts': "import { x } from '../config/load.js';\nexport const y = x;\n",
        'src/config/load.ts': 'export const x = 1;\n',
        'src/config/schema.ts': "import { d } from '../daemon/daemon.js';\nexport const s = d;\n",
        'src/daemon/daemon.ts': "import { x } from '../config/load.js';\nexport const d = x;\n",
        'src/probe/round.ts': "import { q } from '../discover/discover.js';\nexport const r = q;\n",
        'src/discover/discover.ts': 'export const q = 1;\n',
        'src/select/a.ts': "import { b } from './b.js';\nexport const a = () => b();\n",
        'src/select/b.ts': "import { a } from './a.js';\nexport const b = () => a();\n",
        'src/misc/stray.ts': "import { x } from '../config/load.js';\nexport const z = x;\n",
      };
      for (const [file, text] of Object.entries(files)) {
        await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
        await writeFile(path.join(dir, file), text);
      }
      expect(await violations(dir)).toEqual([
        'layer-config: src/config/schema.ts -> src/daemon/daemon.ts',
        'layer-lib: src/lib/files.ts -> src/config/load.ts',
        'layer-probe: src/probe/round.ts -> src/discover/discover.ts',
        'no-circular: src/select/a.ts -> src/select/b.ts',
        'unknown-folder: src/misc/stray.ts -> src/config/load.ts',
      ]);
    });
  });
});
