/** Public surface of src/cli: the commands, for embedding in other tools. */
export { apiServerOptions, serveCommand, serve } from './serve-command.js';
export {
  vendorSource,
  VENDOR_SOURCES,
  type VendorIngestFlags,
  type VendorSourceName,
} from './source-ingest.js';
