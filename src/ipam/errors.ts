/**
 * Named errors of the IPAM layer. Callers (watcher, CNI IPAM plugin) switch on the class to decide
 * between "retry later" (exhausted), "tell the user" (bad input, conflict) and "bug" (anything else),
 * and the messages are written to be shown to an operator as they are.
 */
export class IpamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Text that is not an IPv4/IPv6 address. */
export class InvalidAddressError extends IpamError {
  constructor(
    readonly input: string,
    reason = 'not an IPv4 or IPv6 address',
  ) {
    super(`invalid IP address "${input}": ${reason}`);
  }
}

/** Text that is not a CIDR, or a CIDR with host bits set where a network is required. */
export class InvalidCidrError extends IpamError {
  constructor(
    readonly input: string,
    reason: string,
  ) {
    super(`invalid CIDR "${input}": ${reason}`);
  }
}

/** A range (`a..b`, `a-b`), cluster-subnet entry (`cidr/len`) or range list that cannot be used. */
export class InvalidRangeError extends IpamError {
  constructor(
    readonly input: string,
    reason: string,
  ) {
    super(`invalid IP range "${input}": ${reason}`);
  }
}

/** A pool or allocator definition that cannot work (no addresses, mixed families...). */
export class InvalidPoolError extends IpamError {}

/** An explicitly requested address lies outside what the allocator hands out. */
export class AddressOutOfRangeError extends IpamError {
  constructor(
    readonly ip: string,
    readonly where: string,
  ) {
    super(`IP ${ip} is outside ${where}`);
  }
}

/** An explicitly requested address is excluded (user exclude) or reserved (network, gateway...). */
export class AddressExcludedError extends IpamError {
  constructor(
    readonly ip: string,
    readonly why: string,
  ) {
    super(`IP ${ip} cannot be allocated: ${why}`);
  }
}

/** An explicitly requested address is already held by another key. */
export class AddressInUseError extends IpamError {
  constructor(
    readonly ip: string,
    readonly heldBy: string,
    readonly requestedBy: string,
  ) {
    super(`IP ${ip} requested by ${requestedBy} is already allocated to ${heldBy}`);
  }
}

/** The key already holds an address that differs from the one requested now. */
export class KeyAlreadyAllocatedError extends IpamError {
  constructor(
    readonly key: string,
    readonly current: string,
    readonly requested: string,
  ) {
    super(
      `${key} already holds ${current} but ${requested} was requested; release it first to change addresses`,
    );
  }
}

/** No free address is left (quarantined addresses included). */
export class AddressesExhaustedError extends IpamError {
  constructor(
    readonly where: string,
    readonly key: string,
  ) {
    super(`no free IP address left in ${where} for ${key}`);
  }
}

/** No free host subnet is left in the cluster subnets of one family. */
export class SubnetsExhaustedError extends IpamError {
  constructor(
    readonly family: 4 | 6,
    readonly clusterSubnets: readonly string[],
    readonly owner: string,
  ) {
    super(`no free IPv${family} host subnet left in ${clusterSubnets.join(', ')} for ${owner}`);
  }
}

/** An explicit host subnet lies outside every cluster subnet. */
export class SubnetOutOfRangeError extends IpamError {
  constructor(
    readonly subnet: string,
    readonly clusterSubnets: readonly string[],
  ) {
    super(
      `subnet ${subnet} is not inside any cluster subnet (${clusterSubnets.join(', ') || 'none of its family'})`,
    );
  }
}

/** An explicit host subnet overlaps one that another owner holds. */
export class SubnetConflictError extends IpamError {
  constructor(
    readonly subnet: string,
    readonly heldBy: string,
    readonly heldSubnet: string,
    readonly requestedBy: string,
  ) {
    super(`subnet ${subnet} requested by ${requestedBy} overlaps ${heldSubnet} held by ${heldBy}`);
  }
}

/** An `ip_pool` list cannot serve the request (ordinal past the end, nothing free). */
export class PoolCandidatesError extends IpamError {}
