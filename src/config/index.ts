export * from './describe.js';
export * from './errors.js';
export * from './flags.js';
export * from './ini.js';
export * from './keys.js';
export * from './load.js';
export * from './ovs-external-ids.js';
export * from './resolve.js';
