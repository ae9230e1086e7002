/**
 * The watcher as a process. The process side (--detach, --pidfile, --log-file reopened on SIGHUP,
 * the control socket, sd_notify) lives in src/daemon and is composed with metrics, leader election
 * and Events by src/daemon/service.ts; service-wiring.ts puts the Watcher inside it. This module
 * keeps the old entry point name for the package index.
 */
export {
  LeadershipLostError,
  WATCHER_NAME,
  metricsHooks,
  runWatcherService,
  runWatcherService as runDaemon,
  type WatcherServiceOptions,
} from './service-wiring.js';
