/**
 * Counts pulses from the injected fake backend as fast as the loop allows, persisting every
 * 100 ms, until the parent SIGKILLs it (see fake-backend.test.ts).
 */
import { FakeBackend } from './fake-backend.js';
import { gpioContext, makeDriver } from './helpers.js';

const dataDir = process.argv[2];
const fake = new FakeBackend();
const c = gpioContext(dataDir);
const d = makeDriver({ persistInterval: '100ms', pins: [{ name: 'flow', line: 27, mode: 'counter' }] }, c.ctx, { backend: fake });
await d.open();
setInterval(() => fake.pulse(27, 50), 1);
process.stdout.write('running\n');
