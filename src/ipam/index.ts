/** IPAM: allocators with no I/O (address parsing, host subnets, pod addresses, pools, MACs). */
export * from './errors.js';
export * from './cidr.js';
export * from './bitmap.js';
export * from './index-pool.js';
export * from './ip-allocator.js';
export * from './multi-family.js';
export * from './host-subnet.js';
export * from './subnet-allocator.js';
export * from './pool.js';
export * from './mac.js';
export * from './crd-pools.js';
