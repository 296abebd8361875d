#!/usr/bin/env node
// Thin shim: the CLI lives in the compiled dist/ tree.
import { main } from '../dist/src/cli/main.js';
process.exitCode = await main(process.argv.slice(2));
