import type { SerialPort as SerialPortClass } from 'serialport';

let ctor: typeof SerialPortClass | undefined;

/**
 * serialport (and its native binding) is loaded on first use: a board with only Modbus TCP, GPIO
 * or sim sources never pays its start time and heap. `serialPortClass()` is the loaded class or
 * undefined; `loadSerialPort()` loads it.
 */
export function serialPortClass(): typeof SerialPortClass | undefined {
  return ctor;
}

export async function loadSerialPort(): Promise<typeof SerialPortClass> {
  ctor ??= (await import('serialport')).SerialPort;
  return ctor;
}

type PortOptions = ConstructorParameters<typeof SerialPortClass>[0];
/** The part of a serialport stream the serial and Modbus RTU drivers use. */
export interface PortLike {
  readonly isOpen: boolean;
  open(cb: (err: Error | null) => void): void;
  close(cb?: (err: Error | null) => void): void;
  write(data: Buffer, cb?: (err: Error | null | undefined) => void): boolean;
  on(event: 'data', fn: (chunk: Buffer) => void): unknown;
  on(event: 'error', fn: (e: Error) => void): unknown;
  on(event: 'close', fn: (e?: Error) => void): unknown;
}
/** How a port object is made: the real one, or serialport's SerialPortMock in unit tests. */
export type PortFactory = (o: PortOptions) => PortLike;
/** The real port (the class must be loaded first: see loadSerialPort). */
export const realPort: PortFactory = (o) => new (serialPortClass()!)(o);
