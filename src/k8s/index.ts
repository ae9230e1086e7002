/**
 * The Kubernetes access layer: connection resolution, resource clients, informers and their
 * stores, the keyed work queue, annotation writes and work-queue metrics. The API simulator lives
 * in ./sim and is imported from there.
 */
export * from './annotations.js';
export * from './backoff.js';
export * from './connection.js';
export * from './errors.js';
export * from './factory.js';
export * from './informer.js';
export * from './metrics.js';
export * from './resources.js';
export * from './store.js';
export * from './workqueue.js';
