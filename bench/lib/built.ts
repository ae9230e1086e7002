/**
 * Benchmarks measure the built code in dist/ (what the commands run). This refuses to measure a
 * build that is missing or older than its sources, which would report figures of other code.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export class StaleBuildError extends Error {
  override name = 'StaleBuildError';
}

function newestMtime(dir: string, suffix: string): { path: string; mtimeMs: number } {
  let newest = { path: '', mtimeMs: 0 };
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith(suffix)) continue;
    const path = join(entry.parentPath, entry.name);
    const mtimeMs = statSync(path).mtimeMs;
    if (mtimeMs > newest.mtimeMs) newest = { path, mtimeMs };
  }
  return newest;
}

/** Throws unless `root/dist` holds a build at least as new as every file in `root/src`. */
export function assertBuilt(root: string): void {
  const dist = join(root, 'dist');
  if (!existsSync(join(dist, 'watcher', 'watcher.js')))
    throw new StaleBuildError('dist/ is missing: run `npm run build` (`npm run bench` does)');
  const src = newestMtime(join(root, 'src'), '.ts');
  const built = newestMtime(dist, '.js');
  if (src.mtimeMs > built.mtimeMs)
    throw new StaleBuildError(`${src.path} is newer than the build in dist/: run \`npm run build\``);
}
