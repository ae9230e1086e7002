import { OvsdbError } from '../errors.js';

/**
 * The command line asked for something that cannot be done: an unknown table, column or
 * database, a malformed transaction, a bad option value. The message is the whole story (the
 * CLI prints it as the one line on stderr).
 */
export class ToolUsageError extends OvsdbError {}
