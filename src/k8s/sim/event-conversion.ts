/**
 * events.k8s.io/v1 is another view of the core/v1 Events, as on a real API server (one storage):
 * an Event written through either group is read through both. The field mapping is the
 * apiserver's conversion (k8s.io/kubernetes pkg/apis/events/v1): regarding = involvedObject,
 * note = message, reportingController = reportingComponent, deprecatedSource/FirstTimestamp/
 * LastTimestamp/Count = source/firstTimestamp/lastTimestamp/count; the rest keep their names.
 */
import type { ResourceView } from './resources.js';
import type { KubeObject } from './types.js';

/** [core/v1 field, events.k8s.io/v1 field] */
const RENAMED: [string, string][] = [
  ['involvedObject', 'regarding'],
  ['message', 'note'],
  ['reportingComponent', 'reportingController'],
  ['source', 'deprecatedSource'],
  ['firstTimestamp', 'deprecatedFirstTimestamp'],
  ['lastTimestamp', 'deprecatedLastTimestamp'],
  ['count', 'deprecatedCount'],
];

function rename(obj: KubeObject, pairs: [string, string][], apiVersion: string): KubeObject {
  const out: KubeObject = { ...obj, apiVersion, kind: 'Event', metadata: obj.metadata };
  for (const [from, to] of pairs) {
    delete out[to];
    if (obj[from] !== undefined) out[to] = obj[from];
    delete out[from];
  }
  return out;
}

const TO_VIEW = RENAMED;
const FROM_VIEW = RENAMED.map(([core, view]) => [view, core] as [string, string]);

export const eventsV1View: ResourceView = {
  storageGroup: '',
  storagePlural: 'events',
  toView: (obj) => rename(obj, TO_VIEW, 'events.k8s.io/v1'),
  fromView: (obj) => rename(obj, FROM_VIEW, 'v1'),
};
