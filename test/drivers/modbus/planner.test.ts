import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { plan, type PlanPoint } from '../../../drivers/modbus/planner.js';
import { isBitTable, type Table } from '../../../drivers/modbus/types.js';

const P = (address: number, width = 1, table: Table = 'holding', unitId = 1): PlanPoint => ({ unitId, table, address, width });

/**
 * Reference: the true minimum number of requests by dynamic programming over every way of
 * cutting each (unit, table) run, sorted by address, into valid requests.
 */
function minimumRequests(points: PlanPoint[], maxGap: number, maxRegs = 125, maxBits = 2000): number {
  const groups = new Map<string, PlanPoint[]>();
  for (const p of points) {
    const k = `${p.unitId}/${p.table}`;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(p);
  }
  let total = 0;
  for (const g of groups.values()) {
    g.sort((a, b) => a.address - b.address || a.width - b.width);
    const bits = isBitTable(g[0].table);
    const valid = (i: number, j: number) => { // points i..j (inclusive) in one request?
      let end = g[i].address + g[i].width;
      for (let k = i + 1; k <= j; k++) {
        if (g[k].address - end > (bits ? maxGap * 16 : maxGap)) return false;
        end = Math.max(end, g[k].address + g[k].width);
      }
      return end - g[i].address <= (bits ? maxBits : maxRegs);
    };
    const best = new Array(g.length + 1).fill(Infinity);
    best[0] = 0;
    for (let j = 1; j <= g.length; j++) for (let i = 0; i < j; i++) if (valid(i, j - 1)) best[j] = Math.min(best[j], best[i] + 1);
    total += best[g.length];
  }
  return total;
}

// An energy meter map as found in manuals: float32 blocks with holes, a serial-number string,
// status bits in one register, a second unit, coils and discrete inputs.
const EXAMPLE: PlanPoint[] = [
  P(0, 2), P(2, 2), P(4, 2), P(6, 2), // voltages L1..L3, frequency (float32)
  P(12, 2), P(14, 2), P(16, 2), // currents: 4-register hole before
  P(40, 2), P(42, 2), // power: 24-register hole before
  P(100, 4), P(104, 4), // energy int64
  P(200, 1), P(200, 1), P(201, 1), // status bits (two points on one register) + alarm word
  P(300, 10), // serial number string
  P(0, 1, 'input'), P(1, 2, 'input'), P(60, 1, 'input'),
  P(0, 1, 'coil'), P(1, 1, 'coil'), P(7, 1, 'coil'), P(500, 1, 'coil'),
  P(0, 1, 'discrete'), P(3000, 1, 'discrete'),
  P(0, 2, 'holding', 2), P(10, 2, 'holding', 2), P(130, 2, 'holding', 2),
];

test('example map: requests per cycle equal the minimum for each maxGap', () => {
  // Counted by hand from the map above (and checked against the DP minimum below).
  const expected: Record<number, number> = { 0: 16, 4: 14, 10: 13, 30: 12, 125: 8 };
  for (const [gap, n] of Object.entries(expected)) {
    const got = plan(EXAMPLE, { maxGap: Number(gap) });
    assert.equal(got.length, minimumRequests(EXAMPLE, Number(gap)), `maxGap ${gap}: planner vs true minimum`);
    assert.equal(got.length, n, `maxGap ${gap}`);
    for (const r of got) {
      assert.ok(r.quantity <= (isBitTable(r.table) ? 2000 : 125), 'request within protocol limits');
      for (const m of r.members) assert.ok(m.at >= 0 && m.at + m.point.width <= r.quantity, 'member inside its request');
    }
  }
  // every point is served exactly once
  assert.equal(plan(EXAMPLE, { maxGap: 10 }).reduce((s, r) => s + r.members.length, 0), EXAMPLE.length);
});

test('requests never exceed 125 registers / 2000 bits, nor the configured lower limits', () => {
  const regs = Array.from({ length: 400 }, (_, i) => P(i));
  assert.deepEqual(plan(regs, { maxGap: 10 }).map((r) => r.quantity), [125, 125, 125, 25]);
  assert.deepEqual(plan(regs, { maxGap: 10, maxRegisters: 64 }).map((r) => r.quantity), [64, 64, 64, 64, 64, 64, 16]);
  const coils = Array.from({ length: 4500 }, (_, i) => P(i, 1, 'coil'));
  assert.deepEqual(plan(coils, { maxGap: 10 }).map((r) => r.quantity), [2000, 2000, 500]);
  // a float32 never straddles two requests
  const floats = Array.from({ length: 100 }, (_, i) => P(i * 2, 2));
  for (const r of plan(floats, { maxGap: 0 })) assert.equal(r.quantity % 2, 0);
});

test('isolated points are read alone and no request spans across them', () => {
  const pts = [P(10), { ...P(12), isolated: true }, P(14)];
  const r = plan(pts, { maxGap: 10 });
  assert.deepEqual(r.map((x) => [x.address, x.quantity]), [[10, 1], [12, 1], [14, 1]]);
});

test('property: planner request count is the minimum, for random maps and gaps', () => {
  const point = fc.record({
    unitId: fc.integer({ min: 1, max: 2 }),
    table: fc.constantFrom<Table>('holding', 'input', 'coil'),
    address: fc.integer({ min: 0, max: 400 }),
    width: fc.constantFrom(1, 2, 4, 10),
  }).map((p) => (isBitTable(p.table) ? { ...p, width: 1 } : p));
  fc.assert(fc.property(fc.array(point, { maxLength: 40 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 10, max: 125 }), (pts, gap, maxRegs) => {
    const got = plan(pts, { maxGap: gap, maxRegisters: maxRegs });
    assert.equal(got.length, minimumRequests(pts, gap, maxRegs));
  }), { numRuns: 300 });
});

test('planning 10,000 points is fast (sanity bound; the bench reports the real figure)', () => {
  const pts: PlanPoint[] = [];
  for (let i = 0; i < 10_000; i++) pts.push(P((i * 7919) % 60_000, [1, 2, 4][i % 3], (['holding', 'input', 'coil'] as Table[])[i % 3], 1 + (i % 4)));
  plan(pts, { maxGap: 10 }); // warm up the JIT
  const t0 = performance.now();
  const r = plan(pts, { maxGap: 10 });
  const ms = performance.now() - t0;
  console.log(`# planned 10,000 points into ${r.length} requests in ${ms.toFixed(1)} ms`);
  assert.ok(ms < 50, `took ${ms} ms`);
});
