// Module resolution hooks (node:module register) that append every resolved URL to the file
// named by OVN_K8S_IMPORT_LOG: lets a test see which modules a command line loaded.
import { appendFileSync } from 'node:fs';
import process from 'node:process';

const out = process.env.OVN_K8S_IMPORT_LOG;

export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  if (out) appendFileSync(out, `${result.url}\n`);
  return result;
}
