/** Public surface of src/cli: the commands, for embedding in other tools. */
export { serveCommand, serve } from './serve-command.js';
