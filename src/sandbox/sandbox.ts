/**
 * A sandbox on loopback: OVN NB, SB and ovn-northd from the Debian packages (startOvnCentral)
 * plus the Kubernetes API simulator as a background process, all detached and tracked by
 * pidfiles in one directory, so `stop` works from another process later. `sandbox.json` in the
 * directory records where everything is.
 */
import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startOvnCentral } from '../runtime/ovn-central.js';
import { freePort, isAlive, readPidfile, stopPid, waitFor } from '../runtime/process.js';

export interface SandboxInfo {
  dir: string;
  /** NB and SB remotes: unix sockets and loopback TCP */
  nb: string;
  sb: string;
  nbTcp: string;
  sbTcp: string;
  kubeconfig: string;
  k8sApiServer: string;
  pids: { nb: number; sb: number; northd: number; k8sSim: number };
}

export class SandboxError extends Error {
  override name = 'SandboxError';
}

export const SANDBOX_FILE = 'sandbox.json';
const SIM_PIDFILE = 'k8s-sim.pid';

/** `dist/cli/ovn-k8s-util.js`, next to this module when built, else the repository's build. */
export function utilScript(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const built = resolve(here, '../cli/ovn-k8s-util.js');
  if (existsSync(built)) return built;
  return resolve(here, '../../dist/cli/ovn-k8s-util.js');
}

async function startSimulator(dir: string): Promise<{ pid: number; url: string; kubeconfig: string }> {
  const script = utilScript();
  if (!existsSync(script)) throw new SandboxError(`${script} is missing: run "npm run build" first`);
  const port = await freePort();
  const kubeconfig = join(dir, 'kubeconfig');
  const log = openSync(join(dir, 'k8s-sim.log'), 'a');
  const child = spawn(
    process.execPath,
    [
      script,
      'k8s-sim',
      '--listen',
      `127.0.0.1:${port}`,
      '--state',
      join(dir, 'k8s-state.json'),
      '--kubeconfig-out',
      kubeconfig,
      '--endpoint-controller',
      '--kubelet',
    ],
    { detached: true, stdio: ['ignore', log, log] },
  );
  closeSync(log);
  const pid = child.pid;
  if (pid === undefined) throw new SandboxError('could not start the Kubernetes simulator');
  child.unref();
  await writeFile(join(dir, SIM_PIDFILE), `${pid}\n`);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      'the Kubernetes simulator',
      async () => existsSync(kubeconfig) && (await fetch(`${url}/version`)).ok,
      // a loaded machine takes a while to start node and load the modules
      60_000,
      50,
    );
  } catch (err) {
    await stopPid(pid);
    throw new SandboxError(
      `Kubernetes simulator did not come up (see ${join(dir, 'k8s-sim.log')}): ${(err as Error).message}`,
    );
  }
  return { pid, url, kubeconfig };
}

export async function startSandbox(dirArg: string): Promise<SandboxInfo> {
  const dir = resolve(dirArg);
  await mkdir(dir, { recursive: true });
  if (existsSync(join(dir, SANDBOX_FILE))) {
    const prev = JSON.parse(await readFile(join(dir, SANDBOX_FILE), 'utf8')) as SandboxInfo;
    const alive = await Promise.all(Object.values(prev.pids).map(isAlive));
    if (alive.some(Boolean)) throw new SandboxError(`a sandbox is already running in ${dir}; stop it first`);
  }
  const central = await startOvnCentral({ dir });
  let sim: Awaited<ReturnType<typeof startSimulator>>;
  try {
    sim = await startSimulator(dir);
  } catch (err) {
    await central.stop();
    throw err;
  }
  const info: SandboxInfo = {
    dir,
    nb: central.nb.unix,
    sb: central.sb.unix,
    nbTcp: central.nb.tcp,
    sbTcp: central.sb.tcp,
    kubeconfig: sim.kubeconfig,
    k8sApiServer: sim.url,
    pids: { nb: central.nb.pid, sb: central.sb.pid, northd: central.northdPid, k8sSim: sim.pid },
  };
  await writeFile(join(dir, SANDBOX_FILE), `${JSON.stringify(info, null, 2)}\n`);
  return info;
}

/** Stops every process of the sandbox in `dir` by its pid; returns the pids that were running. */
export async function stopSandbox(dirArg: string): Promise<number[]> {
  const dir = resolve(dirArg);
  const pids: number[] = [];
  const file = join(dir, SANDBOX_FILE);
  if (existsSync(file)) {
    const info = JSON.parse(await readFile(file, 'utf8')) as SandboxInfo;
    const p = info.pids;
    pids.push(p.k8sSim, p.northd, p.sb, p.nb);
  } else {
    // a start that failed half-way: whatever pidfiles it left
    for (const f of [SIM_PIDFILE, 'northd.pid', 'sb.pid', 'nb.pid']) {
      if (existsSync(join(dir, f))) pids.push(await readPidfile(join(dir, f), 100).catch(() => 0));
    }
  }
  const stopped: number[] = [];
  for (const pid of pids.filter((x) => x > 0)) {
    if (!(await isAlive(pid))) continue;
    await stopPid(pid);
    stopped.push(pid);
  }
  return stopped;
}

export async function readSandbox(dirArg: string): Promise<SandboxInfo> {
  const file = join(resolve(dirArg), SANDBOX_FILE);
  if (!existsSync(file)) throw new SandboxError(`no sandbox in ${dirArg} (${SANDBOX_FILE} missing)`);
  return JSON.parse(await readFile(file, 'utf8')) as SandboxInfo;
}
