// The whole committed corpus, one test per golden: the vitest face of `npx vfio-replay check`.
import { fileURLToPath } from 'node:url';
import { defineCorpusTests } from '../../src/vitest/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
defineCorpusTests(`${root}traces`, { root });
