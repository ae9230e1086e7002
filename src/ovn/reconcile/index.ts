export * from './operations.js';
export * from './reconcile.js';
export * from './sweep.js';
export * from './view.js';
