/** Errors of the daemon layer (process life cycle, pidfile, control socket, systemd notify). */
export class DaemonError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The pidfile names a process that is still running. */
export class PidfileInUseError extends DaemonError {
  constructor(
    readonly path: string,
    readonly pid: number,
  ) {
    super(`pidfile ${path} names pid ${pid}, which is still running; is another instance up?`);
  }
}

/** The detached child did not report a successful start-up. */
export class DetachFailedError extends DaemonError {}

/** A control-socket request failed (connection, unknown command, handler error). */
export class ControlError extends DaemonError {}
