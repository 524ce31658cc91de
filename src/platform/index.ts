/** Public surface of src/platform: what the embedded stores under ALPHALAKE_HOME share. */
export {
  takeHomeLock,
  withHomeLock,
  UNREADABLE_STALE_MS,
  type HomeLock,
  type HomeLockOptions,
} from './home-lock.js';
