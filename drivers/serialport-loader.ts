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
