#!/usr/bin/env node
// Rewrites every generated file from the code (run after `npx tsc -p tsconfig.json`):
// docs/config-reference.md and man/tgetty.config.5 from the keyword table, and the shell
// completions in contrib/completion/ from the CLI's command definitions. Unit tests
// fail while a committed copy differs from what this writes.
import { writeFileSync } from 'node:fs';
import { renderConfigManPage, renderConfigReference } from '../dist/src/config/docs.js';
import { commandTree } from '../dist/src/cli/main.js';
import { renderBashCompletion, renderZshCompletion, specFromCommand } from '../dist/src/cli/completion.js';

const root = new URL('..', import.meta.url);
const spec = specFromCommand(commandTree());
const files = {
  'docs/config-reference.md': renderConfigReference(),
  'man/tgetty.config.5': renderConfigManPage(),
  'contrib/completion/tgetty.bash': renderBashCompletion(spec),
  'contrib/completion/_tgetty': renderZshCompletion(spec),
};
for (const [path, text] of Object.entries(files)) {
  writeFileSync(new URL(path, root), text);
  console.log(`wrote ${path}`);
}
