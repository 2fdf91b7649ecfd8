import { MAX_BITS, MAX_REGISTERS, READ_FC, TABLES, isBitTable, type Table } from './types.js';

/** What the planner needs of a point: where it is and how wide (registers, or bits). */
export interface PlanPoint {
  unitId: number;
  table: Table;
  address: number;
  /** Registers for holding/input, bits (1) for coil/discrete. */
  width: number;
  /** Read alone, never merged (set after a merged read was refused with "illegal data address"). */
  isolated?: boolean;
}

export interface PlanOptions {
  /** Largest run of unused registers worth reading to save a request (bit tables: maxGap x 16 bits). */
  maxGap: number;
  maxRegisters?: number;
  maxBits?: number;
}

export interface PlannedRequest<P extends PlanPoint = PlanPoint> {
  unitId: number;
  table: Table;
  fc: number;
  address: number;
  quantity: number;
  /** Points served by this request with their position in it (registers or bits from `address`). */
  members: { point: P; at: number }[];
}

const TABLE_INDEX: Record<Table, number> = { coil: 0, discrete: 1, holding: 2, input: 3 };

/**
 * Groups points into the fewest read requests: per unit id and table, points sorted by address
 * are swept once and a point joins the open request when the unread gap before it is at most
 * maxGap and the request stays within the size limit. Because any part of a valid request is
 * itself valid, this greedy sweep is optimal (minimum request count) for contiguous groups.
 */
export function plan<P extends PlanPoint>(points: readonly P[], opts: PlanOptions): PlannedRequest<P>[] {
  const maxRegs = Math.min(opts.maxRegisters ?? MAX_REGISTERS, MAX_REGISTERS);
  const maxBits = Math.min(opts.maxBits ?? MAX_BITS, MAX_BITS);
  const sorted = points.slice().sort((a, b) =>
    a.unitId - b.unitId || TABLE_INDEX[a.table] - TABLE_INDEX[b.table] || a.address - b.address || a.width - b.width);
  const out: PlannedRequest<P>[] = [];
  let cur: PlannedRequest<P> | undefined;
  let curEnd = 0;
  let curIsolated = false;
  for (const p of sorted) {
    const bits = isBitTable(p.table);
    const limit = bits ? maxBits : maxRegs;
    const gapLimit = bits ? opts.maxGap * 16 : opts.maxGap;
    const end = p.address + p.width;
    if (
      cur && !curIsolated && !p.isolated &&
      cur.unitId === p.unitId && cur.table === p.table &&
      p.address - curEnd <= gapLimit &&
      Math.max(curEnd, end) - cur.address <= limit
    ) {
      cur.members.push({ point: p, at: p.address - cur.address });
      if (end > curEnd) curEnd = end;
      cur.quantity = curEnd - cur.address;
      continue;
    }
    cur = { unitId: p.unitId, table: p.table, fc: READ_FC[p.table], address: p.address, quantity: p.width, members: [{ point: p, at: 0 }] };
    curEnd = end;
    curIsolated = p.isolated === true;
    out.push(cur);
  }
  return out;
}

/** Human-readable one-liner of a request, e.g. `unit 1 holding 100..109 (10 registers)`. */
export function describeRequest(r: PlannedRequest): string {
  const bits = isBitTable(r.table);
  return `unit ${r.unitId} ${r.table} ${r.address}..${r.address + r.quantity - 1} (${r.quantity} ${bits ? 'bit' : 'register'}${r.quantity === 1 ? '' : 's'})`;
}

export { TABLES };
