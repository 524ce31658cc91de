import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';

/**
 * The ceiling of the read-path bench: a bare Node HTTP server that answers every request
 * with the bytes of a file (a recorded GraphQL response), from memory. It reads each
 * request's body to its end, as a real server must, and prints its port.
 */
const body = await readFile(process.argv[2] as string);
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': body.byteLength,
    });
    res.end(body);
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(typeof address === 'object' && address ? address.port : 0);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
