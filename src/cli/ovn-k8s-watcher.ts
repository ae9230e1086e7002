#!/usr/bin/env node
// Entry point of `ovn-k8s-watcher`; not implemented yet (see the project's issues).
process.stderr.write('ovn-k8s-watcher: not implemented yet\n');
process.exit(2);
