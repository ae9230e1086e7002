/**
 * Named errors of the node side. Each message says what to do about it; CLI entry points print
 * the message as one line and exit non-zero.
 */

/** Base class of node-side errors. */
export class NodeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A flag or configuration value is missing or malformed. */
export class NodeConfigError extends NodeError {}

/** A host command (ip, ethtool) failed; `stderr` is what it said. */
export class HostCommandError extends NodeError {
  constructor(
    readonly command: string,
    readonly stderr: string,
    options?: { cause?: unknown },
  ) {
    super(`${command} failed: ${stderr || 'no error output'}`, options);
  }
}

/** The local Open_vSwitch database could not be reached or answered unexpectedly. */
export class OvsDbUnavailableError extends NodeError {}

/** Something we wait for (a tap device, an annotation, ovn-installed) did not happen in time. */
export class NodeTimeoutError extends NodeError {}
