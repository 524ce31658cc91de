/** Public surface of src/config: the only module that reads process.env. */
export { SETTINGS, loadConfig, configWith } from './config.js';
export type { Config, Setting } from './config.js';
