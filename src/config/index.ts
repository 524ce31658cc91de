// Before anything else loads: libraries that read NODE_ENV at load time see alphalake's default.
import './node-env.js';
/** Public surface of src/config: the only module that reads process.env. */
export { SETTINGS, LIBRARY_VARIABLES, loadConfig, configWith } from './config.js';
export type { Config, Setting, SettingValues } from './config.js';
export { BUS_TOPICS, describeProfile, profileSummary } from './profile.js';
export type {
  BusProfile,
  BusTopic,
  Concern,
  KafkaCompression,
  JobsProfile,
  LakeProfile,
  MdmProfile,
  Profile,
  ProfileDescription,
  SpeedStoreProfile,
} from './profile.js';
export { ROLES } from './roles.js';
export type { Role } from './roles.js';
export type { CassandraReplication } from './parsers.js';
export { durationSeconds } from './parsers.js';
