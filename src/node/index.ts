/**
 * The node side: preparing a node (minion-init, gateway-init, nics-to-bridge) and the CNI plugin.
 * Entry points live in src/cli; this index is for other layers and tests.
 */
export * from './errors.js';
export * from './ovs-config.js';
export * from './ip.js';
export {
  minionInit,
  MGMT_PORT_INTERFACE,
  INTEGRATION_BRIDGE,
  CNI_CONF_FILE,
  CNI_PLUGIN_NAME,
} from './minion-init.js';
export type { MinionInitOptions, MinionInitResult, OvnCniNetConf } from './minion-init.js';
export { gatewayInit, mergeBridgeMappings } from './gateway-init.js';
export type { GatewayInitOptions, GatewayInitResult, L3GatewayConfig } from './gateway-init.js';
export { nicsToBridge, nicToBridge, bridgeForNic } from './nics-to-bridge.js';
export { runCni, hostVethName } from './cni/plugin.js';
export { CniCode, CniError, SUPPORTED_VERSIONS } from './cni/types.js';
