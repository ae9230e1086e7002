/**
 * The node's view of Linux networking through iproute2's JSON output, optionally inside a network
 * namespace. A namespace is given either as a name (looked up in /var/run/netns) or as a path
 * (`/proc/PID/ns/net`, `/var/run/netns/x`), which is what container runtimes pass in CNI_NETNS.
 */
import { HostCommandError, NodeTimeoutError } from './errors.js';
import { execHost } from './exec.js';

export interface LinkInfo {
  ifname: string;
  ifindex: number;
  address?: string;
  mtu: number;
  flags: string[];
  operstate?: string;
  /** `ip -d`: the link kind (veth, tun, ...) */
  linkinfo?: { info_kind?: string };
}

export interface AddrInfo {
  family: 'inet' | 'inet6';
  local: string;
  prefixlen: number;
  scope: string;
}

export interface RouteInfo {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  scope?: string;
  metric?: number;
  prefsrc?: string;
  flags?: string[];
}

/** The path that nsenter needs for a namespace given by name or path. */
export function netnsPath(netns: string): string {
  return netns.includes('/') ? netns : `/var/run/netns/${netns}`;
}

const isMissingDevice = (err: unknown): boolean =>
  err instanceof HostCommandError && /does not exist|Cannot find device|No such device/i.test(err.stderr);

export class IpTool {
  /** `netns` undefined = the namespace this process runs in. */
  constructor(readonly netns?: string) {}

  /**
   * Runs `ip ARGS` in this namespace. Through nsenter rather than `ip -n`: `ip -n` cannot open a
   * namespace given as a path when it runs under `ip netns exec` itself (as a node agent may).
   */
  ip(...args: string[]): Promise<string> {
    return this.exec('ip', args);
  }

  /** Runs any command inside this namespace (nsenter accepts names and paths alike). */
  exec(cmd: string, args: string[]): Promise<string> {
    if (!this.netns) return execHost(cmd, args);
    return execHost('nsenter', [`--net=${netnsPath(this.netns)}`, '--', cmd, ...args]);
  }

  private async json<T>(...args: string[]): Promise<T[]> {
    const out = (await this.ip('-j', ...args)).trim();
    return out === '' ? [] : (JSON.parse(out) as T[]);
  }

  async links(): Promise<LinkInfo[]> {
    return this.json<LinkInfo>('-d', 'link', 'show');
  }

  /** The link, or undefined when there is no such device. */
  async link(name: string): Promise<LinkInfo | undefined> {
    try {
      return (await this.json<LinkInfo>('-d', 'link', 'show', 'dev', name))[0];
    } catch (err) {
      if (isMissingDevice(err)) return undefined;
      throw err;
    }
  }

  async waitLink(name: string, timeoutMs: number): Promise<LinkInfo> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const l = await this.link(name);
      if (l) return l;
      if (Date.now() > deadline) {
        throw new NodeTimeoutError(
          `network device ${name} did not appear within ${timeoutMs} ms` +
            `${this.netns ? ` in namespace ${this.netns}` : ''}: is ovs-vswitchd running in this namespace?`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Global (non link-local) addresses of `dev`, as `IP/LEN` records. */
  async addrs(dev: string): Promise<AddrInfo[]> {
    const rows = await this.json<{ addr_info?: AddrInfo[] }>('addr', 'show', 'dev', dev);
    return (rows[0]?.addr_info ?? []).filter((a) => a.scope !== 'link' && a.scope !== 'host');
  }

  /** IPv4 and IPv6 routes through `dev` in the main table. */
  async routes(dev: string): Promise<Array<RouteInfo & { family: 4 | 6 }>> {
    const v4 = await this.json<RouteInfo>('-4', 'route', 'show', 'dev', dev);
    const v6 = await this.json<RouteInfo>('-6', 'route', 'show', 'dev', dev);
    return [
      ...v4.map((r) => ({ ...r, family: 4 as const })),
      ...v6.filter((r) => !r.dst.startsWith('fe80:')).map((r) => ({ ...r, family: 6 as const })),
    ];
  }

  async addrReplace(dev: string, cidr: string): Promise<void> {
    await this.ip('addr', 'replace', cidr, 'dev', dev);
  }

  async addrDel(dev: string, cidr: string): Promise<void> {
    await this.ip('addr', 'del', cidr, 'dev', dev);
  }

  async linkUp(dev: string): Promise<void> {
    await this.ip('link', 'set', 'dev', dev, 'up');
  }

  /** Deletes a link; a missing device is not an error (deletion is idempotent). */
  async linkDel(dev: string): Promise<boolean> {
    try {
      await this.ip('link', 'del', 'dev', dev);
      return true;
    } catch (err) {
      if (isMissingDevice(err)) return false;
      throw err;
    }
  }
}
