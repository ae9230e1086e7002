/**
 * API errors carry everything needed for a Kubernetes `Status` body: kubectl prints
 * `Error from server (<reason>): <message>` only when `reason` is present (and v1.20 needs it to
 * recognise NotFound), so every error the simulator answers goes through this class.
 */
export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  retryAfterSeconds?: number;
  causes?: { reason?: string; message?: string; field?: string }[];
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toStatus(): Record<string, unknown> {
    return statusBody(this.code, this.reason, this.message, this.details);
  }
}

export function statusBody(
  code: number,
  reason: string,
  message: string,
  details?: StatusDetails,
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code,
  };
  if (details) body.details = details;
  return body;
}

/** Which resource an error is about: `pods`, group `''`, name. */
export interface ResourceRef {
  group: string;
  plural: string;
}

function details(ref: ResourceRef, name?: string): StatusDetails {
  const d: StatusDetails = { kind: ref.plural };
  if (name !== undefined) d.name = name;
  if (ref.group) d.group = ref.group;
  return d;
}

/** `pods "x"` or `widgets.example.com "x"` as the real server words it. */
function qualified(ref: ResourceRef): string {
  return ref.group ? `${ref.plural}.${ref.group}` : ref.plural;
}

export const errors = {
  notFound(ref: ResourceRef, name: string): ApiError {
    return new ApiError(404, 'NotFound', `${qualified(ref)} "${name}" not found`, details(ref, name));
  },
  alreadyExists(ref: ResourceRef, name: string): ApiError {
    return new ApiError(
      409,
      'AlreadyExists',
      `${qualified(ref)} "${name}" already exists`,
      details(ref, name),
    );
  },
  conflict(ref: ResourceRef, name: string): ApiError {
    return new ApiError(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${qualified(ref)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      details(ref, name),
    );
  },
  invalid(ref: ResourceRef, name: string, message: string, field?: string): ApiError {
    return new ApiError(422, 'Invalid', `${qualified(ref)} "${name}" is invalid: ${message}`, {
      ...details(ref, name),
      causes: [{ reason: 'FieldValueInvalid', message, ...(field ? { field } : {}) }],
    });
  },
  badRequest(message: string): ApiError {
    return new ApiError(400, 'BadRequest', message);
  },
  forbidden(ref: ResourceRef, name: string, message: string): ApiError {
    return new ApiError(
      403,
      'Forbidden',
      `${qualified(ref)} "${name}" is forbidden: ${message}`,
      details(ref, name),
    );
  },
  methodNotAllowed(message: string): ApiError {
    return new ApiError(405, 'MethodNotAllowed', message);
  },
  pathNotFound(): ApiError {
    return new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  },
  /** kubectl itself prefixes `<type> is not supported by <gvk>: ` to this message. */
  unsupportedMediaType(): ApiError {
    return new ApiError(
      415,
      'UnsupportedMediaType',
      'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
    );
  },
  gone(message: string): ApiError {
    return new ApiError(410, 'Expired', message);
  },
  internal(message: string): ApiError {
    return new ApiError(500, 'InternalError', `Internal error occurred: ${message}`);
  },
  tooManyRequests(): ApiError {
    return new ApiError(
      429,
      'TooManyRequests',
      'the server has received too many requests and has asked us to try again later',
      {
        retryAfterSeconds: 1,
      },
    );
  },
};
