/** Small HTTP helpers: reading a JSON body, answering JSON and Status errors. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, errors } from './errors.js';

/** The whole request body as text (plain events: an async iterator per request costs more than the body). */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let first: Buffer | undefined;
    let more: Buffer[] | undefined;
    req.on('data', (c: Buffer) => {
      if (first === undefined) first = c;
      else (more ??= [first]).push(c);
    });
    req.once('end', () => {
      if (more) resolve(Buffer.concat(more).toString('utf8'));
      else resolve(first === undefined ? '' : first.toString('utf8'));
    });
    req.once('error', reject);
  });
}

export function parseJsonBody(text: string): unknown {
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw errors.badRequest(`the request body is not valid JSON: ${(err as Error).message}`);
  }
}

export function sendJsonText(
  res: ServerResponse,
  code: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(code, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  sendJsonText(res, code, JSON.stringify(body));
}

export function sendError(res: ServerResponse, err: unknown): void {
  const e = err instanceof ApiError ? err : errors.internal(err instanceof Error ? err.message : String(err));
  const headers: Record<string, string> = {};
  if (e.details?.retryAfterSeconds !== undefined)
    headers['Retry-After'] = String(e.details.retryAfterSeconds);
  if (res.headersSent) {
    res.end();
    return;
  }
  sendJsonText(res, e.code, JSON.stringify(e.toStatus()), headers);
}
