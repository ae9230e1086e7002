/**
 * Errors of the OVSDB data model (schemas, datums, constraints, transaction building). They are
 * raised before anything reaches the wire, or while decoding what came from it; protocol and
 * connection errors live in errors.ts, under the same OvsdbError base.
 */
import { OvsdbError } from './errors.js';

/** Base class of every data-model error, so callers can catch them as one family. */
export class OvsdbDataError extends OvsdbError {}

/** A schema (`.ovsschema` or get_schema reply) that ovsdb-server would not accept either. */
export class OvsdbSchemaError extends OvsdbDataError {}

/** JSON that is not a valid datum (or a native value that is not valid) for a column's type. */
export class OvsdbDatumError extends OvsdbDataError {}

/** A well-formed value that breaks a schema constraint: enum, range, length, set/map size. */
export class OvsdbConstraintError extends OvsdbDataError {}

/** A condition, mutation or operation that cannot be built for this schema (unknown column, immutable column, bad operator). */
export class OvsdbTxnBuildError extends OvsdbDataError {}
