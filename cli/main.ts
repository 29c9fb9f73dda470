// Importing the app's tasks registers them and applies its configuration (routes, default queue).
import '../functions/tasks/index.ts';
import { run } from './program.ts';

process.exitCode = await run(process.argv.slice(2));
// A pipe takes 64 KiB at once: what is still queued must be written before the process ends.
await Promise.all([process.stdout, process.stderr].map((s) => new Promise((done) => s.write('', done))));
// Open sockets of the SDK clients would keep the process alive for their idle timeout.
process.exit();
