/** The pure part of the configuration layer. File I/O lives in ./load.js (import it directly). */
export * from './keywords.js';
export * from './diagnostics.js';
export * from './mgetty-config.js';
export * from './effective.js';
export * from './login-config.js';
export * from './dialin-config.js';
export * from './docs.js';
export * from './chat-lint.js';
