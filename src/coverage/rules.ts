// The model's rule ids, read from the model's own code (there is no rule registry: a rule is the
// dotted string a step returns). Literal ids are taken as they are; template ids such as
// `config.${which}.flr` become patterns any matching id satisfies. Read from the files next to this
// module, so it works from the sources (tests) and from the built package alike.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface RuleUniverse {
  ids: string[];
  /** Template ids: `label` as written with `*` for the variable part, and its pattern. */
  templates: { label: string; pattern: RegExp }[];
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : /\.(ts|js)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [join(dir, e.name)] : [],
  );
}

const LITERAL = /(?:rule:\s*|step\([^;]*?,\s*|RULE_[A-Z_]+\s*=\s*)'([a-z][a-z0-9-]*(?:\.[a-z][a-z0-9-]*)+)'/g;
const QUOTED = /'([a-z][a-z0-9-]*(?:\.[a-z][a-z0-9-]*){1,4})'/g;
const TEMPLATE = /`([a-z][a-z0-9-]*(?:\.(?:[a-z][a-z0-9-]*|\$\{[^}]+\}))+)`/g;

export function modelRules(): RuleUniverse {
  const dir = fileURLToPath(new URL('../model/', import.meta.url));
  const ids = new Set<string>();
  const templates = new Map<string, RegExp>();
  for (const f of files(dir)) {
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(LITERAL)) ids.add(m[1]);
    // Rules are also returned through constants and helpers: any quoted dotted id in the model is
    // one (the model quotes nothing else in that shape; version ids have digits after the dot).
    for (const m of text.matchAll(QUOTED)) ids.add(m[1]);
    for (const m of text.matchAll(TEMPLATE)) {
      if (!m[1].includes('${')) continue;
      const label = m[1].replace(/\$\{[^}]+\}/g, '*');
      const pattern = new RegExp('^' + label.split('*').map((p) => p.replace(/[.]/g, '\\.')).join('[a-z0-9-]+') + '$');
      templates.set(label, pattern);
    }
  }
  return { ids: [...ids].sort(), templates: [...templates].map(([label, pattern]) => ({ label, pattern })).sort((a, b) => a.label.localeCompare(b.label)) };
}
