import type { ModbusRequestError } from './errors.js';
import type { PlannedRequest, PlanPoint } from './planner.js';

/** A planned request as the bus queues it: the plan plus who asked and whether it is queued. */
export interface Job<P extends PlanPoint = PlanPoint> extends PlannedRequest<P> {
  client: BusClient;
  queued: boolean;
  /** A probe of a backed-off unit already let the queue behind it go first. */
  deferred?: boolean;
  /** Attempts already spent on this request in this cycle (retries wait at the back of the queue). */
  attempt?: number;
}

/** Points of one source sharing a poll interval: the unit of scheduling. */
export interface IntervalGroup {
  interval: number;
  /** Bit of this group in the due-mask handed to planFor. */
  bit: number;
  nextDue: number;
}

/** A source attached to a bus. The bus schedules its groups and runs its requests. */
export interface BusClient {
  readonly groups: IntervalGroup[];
  readonly timeout: number;
  readonly retries: number;
  readonly interFrameDelay: number;
  /** The requests for the groups in `mask` (cached by the client). */
  planFor(mask: number): Job[];
  onData(job: Job, data: Buffer, ts: number): void;
  onFailure(job: Job, err: ModbusRequestError, attempts: number, retryInMs?: number): void;
  onBusState(up: boolean, detail: string): void;
  /** A unit's breaker opened or closed (for the source's state). */
  onUnitState(): void;
  overruns: number;
  skippedSlots: number;
}
