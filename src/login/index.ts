/** The hand-off after CONNECT: environment, utmp/wtmp records, and the session itself. */
export * from './env.js';
export * from './utmp.js';
export * from './spawn.js';
