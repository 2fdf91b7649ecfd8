import { exceptionName } from './types.js';

export type FailureKind = 'timeout' | 'exception' | 'disconnected' | 'frame';

/** Why a Modbus request failed. `code` is set for exception responses. */
export class ModbusRequestError extends Error {
  constructor(readonly kind: FailureKind, message: string, readonly code?: number) {
    super(message);
  }
}

export function exceptionError(code: number): ModbusRequestError {
  return new ModbusRequestError('exception', `${exceptionName(code)} (exception ${code})`, code);
}
