#!/usr/bin/env node
// Thin shim: the CLI lives in the compiled dist/ tree.
// `tgetty serve` starts its lines without V8's optimizing compiler (dist/src/daemon/tiering.js);
// the hold goes first, as loading the CLI's modules already makes path functions hot.
if (process.argv[2] === 'serve') {
  const { holdOptimizingCompiler } = await import('../dist/src/daemon/tiering.js');
  holdOptimizingCompiler([...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)]);
}
const { main } = await import('../dist/src/cli/main.js');

// `tgetty config check | head`: a closed pipe ends the output, not the program with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}
process.exitCode = await main(process.argv.slice(2));
