#!/usr/bin/env node
// Entry point for `npx vitals`/`npm link`: runs the compiled CLI (npm run build first).
import '../dist/cli/main.js';
