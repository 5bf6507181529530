/** The soak's line between bridge and module: the same TCP hop the stall regression tests use. */
export { startLineProxy as startSoakProxy, type LineProxy as SoakProxy } from '../test/helpers/line-proxy.js';
