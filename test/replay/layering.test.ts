// The layers of src/ import downward only: trace <- model <- replay <- golden (and bisect, cli).
// replay is what `vfio-replay replay` runs and what golden files are made from, so it must not
// reach up into golden/ (the outcome-log line and the summary line live in replay/ for that).
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { repo } from '../e2e/cli.js';

const src = join(repo, 'src');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** The top-level folder of src/ each relative import of `file` lands in (static, dynamic, `new URL`). */
export function importedLayers(file: string, text: string): string[] {
  const specs = [...text.matchAll(/(?:from\s+|import\s+|import\s*\(\s*|new URL\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]);
  return specs.map((s) => relative(src, resolve(dirname(file), s)).split(/[\\/]/)[0]);
}

// Which layers each layer must not import from.
const forbidden: Record<string, string[]> = {
  trace: ['model', 'replay', 'golden', 'bisect', 'cli'],
  model: ['replay', 'golden', 'bisect', 'cli'],
  replay: ['golden', 'bisect', 'cli'],
};

describe('import direction between src/ layers', () => {
  test('the scanner sees static, dynamic and URL imports', () => {
    const f = join(src, 'replay/x.ts');
    expect(importedLayers(f, "import { a } from '../golden/render.js';\nconst w = new URL('../golden/worker.js', import.meta.url);\nawait import('./run.js');\nimport '../model/outcome.js';")).toEqual([
      'golden',
      'golden',
      'replay',
      'model',
    ]);
  });
  test.each(Object.keys(forbidden))('src/%s imports no layer above it', (layer) => {
    const bad: string[] = [];
    for (const f of tsFiles(join(src, layer))) {
      for (const to of importedLayers(f, readFileSync(f, 'utf8'))) {
        if (forbidden[layer].includes(to)) bad.push(`${relative(repo, f)} -> src/${to}`);
      }
    }
    expect(bad).toEqual([]);
  });
});
