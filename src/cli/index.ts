/** Public surface of src/cli: the commands, for embedding in other tools. */
export { apiServerOptions, serveCommand, serve } from './serve-command.js';
