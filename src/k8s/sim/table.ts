/**
 * `meta.k8s.io/v1 Table` rendering, which is what gives `kubectl get` its columns (kubectl has no
 * client-side printers for these types). Columns follow the real server's printers; priority 1
 * columns show only with `-o wide`.
 */
import type { ResourceType } from './resources.js';
import { isPlainObject, type KubeObject } from './types.js';

export interface ColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

function col(name: string, type = 'string', priority = 0, format = ''): ColumnDefinition {
  return { name, type, format, description: name, priority };
}

/** Kubernetes' duration.HumanDuration, which kubectl users recognise in the AGE column. */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 0) return '0s';
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (h < 192) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  if (d < 365 * 2) return `${d}d`;
  const y = Math.floor(d / 365);
  if (y < 8) return d % 365 === 0 ? `${y}y` : `${y}y${d % 365}d`;
  return `${y}y`;
}

function age(obj: KubeObject): string {
  const ts = obj.metadata.creationTimestamp;
  if (!ts) return '<unknown>';
  return humanDuration(Date.now() - Date.parse(ts));
}

function rec(v: unknown): Record<string, unknown> {
  return isPlainObject(v) ? v : {};
}

function arr(v: unknown): Record<string, unknown>[] {
  return Array.isArray(v) ? v.filter(isPlainObject) : [];
}

const none = (v: unknown): string => (typeof v === 'string' && v ? v : '<none>');

interface Printer {
  columns: ColumnDefinition[];
  cells(obj: KubeObject): unknown[];
}

const podPrinter: Printer = {
  columns: [
    col('Name', 'string', 0, 'name'),
    col('Ready'),
    col('Status'),
    col('Restarts'),
    col('Age'),
    col('IP', 'string', 1),
    col('Node', 'string', 1),
    col('Nominated Node', 'string', 1),
    col('Readiness Gates', 'string', 1),
  ],
  cells(obj) {
    const spec = rec(obj.spec);
    const status = rec(obj.status);
    const statuses = arr(status.containerStatuses);
    const total = arr(spec.containers).length;
    const ready = statuses.filter((c) => c.ready === true).length;
    const restarts = statuses.reduce(
      (n, c) => n + (typeof c.restartCount === 'number' ? c.restartCount : 0),
      0,
    );
    let phase =
      typeof status.reason === 'string' && status.reason ? status.reason : String(status.phase ?? 'Pending');
    if (obj.metadata.deletionTimestamp) phase = 'Terminating';
    return [
      obj.metadata.name,
      `${ready}/${total}`,
      phase,
      String(restarts),
      age(obj),
      none(status.podIP),
      none(spec.nodeName),
      none(status.nominatedNodeName),
      '<none>',
    ];
  },
};

const nodePrinter: Printer = {
  columns: [
    col('Name', 'string', 0, 'name'),
    col('Status'),
    col('Roles'),
    col('Age'),
    col('Version'),
    col('Internal-IP', 'string', 1),
    col('External-IP', 'string', 1),
    col('OS-Image', 'string', 1),
    col('Kernel-Version', 'string', 1),
    col('Container-Runtime', 'string', 1),
  ],
  cells(obj) {
    const status = rec(obj.status);
    const ready = arr(status.conditions).find((c) => c.type === 'Ready');
    let state = ready
      ? ready.status === 'True'
        ? 'Ready'
        : ready.status === 'False'
          ? 'NotReady'
          : 'Unknown'
      : 'Unknown';
    if (rec(obj.spec).unschedulable === true) state += ',SchedulingDisabled';
    const roles = Object.keys(obj.metadata.labels ?? {})
      .filter((k) => k.startsWith('node-role.kubernetes.io/'))
      .map((k) => k.slice('node-role.kubernetes.io/'.length))
      .join(',');
    const addr = (type: string) => none(arr(status.addresses).find((a) => a.type === type)?.address);
    const info = rec(status.nodeInfo);
    return [
      obj.metadata.name,
      state,
      roles || '<none>',
      age(obj),
      String(info.kubeletVersion ?? ''),
      addr('InternalIP'),
      addr('ExternalIP'),
      none(info.osImage),
      none(info.kernelVersion),
      none(info.containerRuntimeVersion),
    ];
  },
};

const servicePrinter: Printer = {
  columns: [
    col('Name', 'string', 0, 'name'),
    col('Type'),
    col('Cluster-IP'),
    col('External-IP'),
    col('Port(s)'),
    col('Age'),
    col('Selector', 'string', 1),
  ],
  cells(obj) {
    const spec = rec(obj.spec);
    const ingress = arr(rec(rec(obj.status).loadBalancer).ingress).map((i) => i.ip ?? i.hostname);
    const external = [...(Array.isArray(spec.externalIPs) ? spec.externalIPs : []), ...ingress].join(',');
    const ports = arr(spec.ports)
      .map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`)
      .join(',');
    const selector = Object.entries(rec(spec.selector))
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(',');
    const extName = spec.type === 'ExternalName' ? spec.externalName : undefined;
    return [
      obj.metadata.name,
      String(spec.type ?? 'ClusterIP'),
      none(spec.clusterIP),
      none(extName ?? (external || undefined)),
      ports || '<none>',
      age(obj),
      selector || '<none>',
    ];
  },
};

const namespacePrinter: Printer = {
  columns: [col('Name', 'string', 0, 'name'), col('Status'), col('Age')],
  cells: (obj) => [obj.metadata.name, String(rec(obj.status).phase ?? 'Active'), age(obj)],
};

const genericPrinter: Printer = {
  columns: [col('Name', 'string', 0, 'name'), col('Age')],
  cells: (obj) => [obj.metadata.name, age(obj)],
};

const endpointSlicePrinter: Printer = {
  columns: [col('Name', 'string', 0, 'name'), col('AddressType'), col('Ports'), col('Endpoints'), col('Age')],
  cells(obj) {
    const ports = arr(obj.ports).map((p) => String(p.port ?? ''));
    const addrs = arr(obj.endpoints).flatMap((e) =>
      Array.isArray(e.addresses) ? e.addresses.map(String) : [],
    );
    const shown =
      addrs.length > 3 ? `${addrs.slice(0, 3).join(',')} + ${addrs.length - 3} more...` : addrs.join(',');
    return [
      obj.metadata.name,
      String(obj.addressType ?? ''),
      ports.join(',') || '<unset>',
      shown || '<unset>',
      age(obj),
    ];
  },
};

function since(ts: unknown): string {
  if (typeof ts !== 'string' || !ts) return '<unknown>';
  const t = Date.parse(ts);
  return Number.isNaN(t) ? '<unknown>' : humanDuration(Date.now() - t);
}

/** The real server's Event printer (core/v1 shape; events.k8s.io/v1 objects are stored as those). */
const eventPrinter: Printer = {
  columns: [
    col('Last Seen'),
    col('Type'),
    col('Reason'),
    col('Object'),
    col('Subobject', 'string', 1),
    col('Source', 'string', 1),
    col('Message'),
    col('First Seen', 'string', 1),
    col('Count', 'integer', 1),
    col('Name', 'string', 1, 'name'),
  ],
  cells(obj) {
    const involved = rec(obj.involvedObject);
    const source = rec(obj.source);
    const series = isPlainObject(obj.series) ? obj.series : undefined;
    const first = obj.firstTimestamp ? since(obj.firstTimestamp) : since(obj.eventTime);
    let last = obj.lastTimestamp ? since(obj.lastTimestamp) : first;
    let count = typeof obj.count === 'number' && obj.count > 0 ? obj.count : 1;
    if (series) {
      last = since(series.lastObservedTime);
      count = typeof series.count === 'number' ? series.count : count;
    }
    const kind = String(involved.kind ?? '').toLowerCase();
    const target = involved.name ? `${kind}/${String(involved.name)}` : kind;
    const component = String(source.component || obj.reportingComponent || '');
    const instance = String(source.host || obj.reportingInstance || '');
    return [
      last,
      String(obj.type ?? ''),
      String(obj.reason ?? ''),
      target,
      String(involved.fieldPath ?? ''),
      instance ? `${component}, ${instance}` : component,
      String(obj.message ?? '').trim(),
      first,
      count,
      obj.metadata.name,
    ];
  },
};

/** The simple JSONPath forms printer columns use: `.a.b`, `.a[0].b`; anything fancier prints empty. */
function jsonPathValue(obj: unknown, path: string): unknown {
  const steps =
    path
      .replace(/^\{?\.?/, '')
      .replace(/\}$/, '')
      .match(/[^.[\]]+|\[\d+\]/g) ?? [];
  let cur: unknown = obj;
  for (const step of steps) {
    if (step.startsWith('[')) {
      if (!Array.isArray(cur)) return undefined;
      cur = cur[Number(step.slice(1, -1))];
    } else {
      if (!isPlainObject(cur)) return undefined;
      cur = cur[step];
    }
  }
  return cur;
}

function customPrinter(t: ResourceType): Printer {
  const cols = t.printerColumns ?? [];
  return {
    columns: [
      col('Name', 'string', 0, 'name'),
      ...cols.map((c) => ({
        ...col(c.name, c.type === 'date' ? 'string' : c.type, c.priority),
        description: c.description,
      })),
    ],
    cells(obj) {
      return [
        obj.metadata.name,
        ...cols.map((c) => {
          const v = jsonPathValue(obj, c.jsonPath);
          if (v === undefined || v === null) return null;
          if (c.type === 'date' && typeof v === 'string') return humanDuration(Date.now() - Date.parse(v));
          return typeof v === 'object' ? JSON.stringify(v) : v;
        }),
      ];
    },
  };
}

function printerFor(t: ResourceType): Printer {
  if (t.printerColumns) return customPrinter(t);
  if (t.group === 'discovery.k8s.io' && t.plural === 'endpointslices') return endpointSlicePrinter;
  if (t.plural === 'events' && (t.group === '' || t.view)) return eventPrinter;
  if (t.group !== '') return genericPrinter;
  switch (t.plural) {
    case 'pods':
      return podPrinter;
    case 'nodes':
      return nodePrinter;
    case 'services':
      return servicePrinter;
    case 'namespaces':
      return namespacePrinter;
    default:
      return genericPrinter;
  }
}

function row(p: Printer, obj: KubeObject): Record<string, unknown> {
  return {
    cells: p.cells(obj),
    object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata },
  };
}

export function toTable(
  t: ResourceType,
  objs: KubeObject[],
  listMeta: Record<string, unknown>,
  withColumns = true,
): Record<string, unknown> {
  const p = printerFor(t);
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: withColumns ? p.columns : [],
    rows: objs.map((o) => row(p, o)),
  };
}
