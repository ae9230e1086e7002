export * from './control.js';
export * from './daemon.js';
export * from './errors.js';
export * from './flags.js';
export * from './log.js';
export * from './paths.js';
export * from './pidfile.js';
export * from './sd-notify.js';
