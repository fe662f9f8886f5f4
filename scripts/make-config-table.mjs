// Writes the README's configuration table from the config schema (run after `npm run build`).
import { readFileSync, writeFileSync } from 'node:fs';
import { withConfigTable } from '../dist/config/table.js';

const path = new URL('../README.md', import.meta.url);
const before = readFileSync(path, 'utf8');
const after = withConfigTable(before);
writeFileSync(path, after);
console.log(before === after ? 'README.md configuration table: unchanged' : 'README.md configuration table: rewritten');
