export * from './registry.js';
export * from './server.js';
