export * from './levels.js';
export * from './format.js';
export * from './sinks.js';
export * from './logger.js';
