#!/usr/bin/env node
// Thin shim: the CLI lives in the compiled dist/ tree.
import { main } from '../dist/src/cli/main.js';

// `tgetty config check | head`: a closed pipe ends the output, not the program with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}
process.exitCode = await main(process.argv.slice(2));
