// Importing the app's tasks registers them and applies its configuration (routes, default queue).
import '../functions/tasks/index.ts';
import { run } from './program.ts';

process.exitCode = await run(process.argv.slice(2));
// Open sockets of the SDK clients would keep the process alive for their idle timeout.
process.exit();
