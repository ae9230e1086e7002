/** SVG through Graphviz's `dot -Tsvg` (Debian package graphviz). */
import { spawn } from 'node:child_process';

export class GraphvizError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'GraphvizError';
  }
}

export function dotToSvg(dot: string, dotBinary = 'dot', timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(dotBinary, ['-Tsvg'], { stdio: ['pipe', 'pipe', 'pipe'], timeout: timeoutMs });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', (e: NodeJS.ErrnoException) =>
      reject(
        new GraphvizError(
          e.code === 'ENOENT'
            ? `${dotBinary} not found: install Graphviz (Debian: apt-get install graphviz) or use --format dot|mermaid`
            : e.message,
          { cause: e },
        ),
      ),
    );
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else reject(new GraphvizError(`dot -Tsvg failed (exit ${code}): ${err.trim()}`));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(dot);
  });
}
