/** The watcher: controllers that turn Kubernetes objects into the OVN logical network. */
export * from './batcher.js';
export * from './context.js';
export * from './convert.js';
export * from './daemon.js';
export * from './ipam-state.js';
export * from './master-init.js';
export * from './nb-connect.js';
export * from './nb-view.js';
export * from './node-controller.js';
export * from './pod-controller.js';
export * from './service-controller.js';
export * from './watcher.js';
