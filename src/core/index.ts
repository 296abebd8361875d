export * from './errors.js';
export * from './clock.js';
export * from './bytes.js';
export * from './paths.js';
