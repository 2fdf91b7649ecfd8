import { z } from 'zod';
import { duration, identifier, sourceBase } from '../../core/config-primitives.js';

/** One pin. Line numbers are BCM (the header chip's offsets), never the kernel's sysfs numbers. */
export const pinSchema = z.strictObject({
  name: identifier(),
  line: z.int().min(0).max(1023),
  mode: z.enum(['input', 'counter']).default('input'),
  /** out: the line is driven by the agent and writable by commands (SPEC "Commands"). */
  direction: z.enum(['in', 'out']).default('in'),
  /** out: the level set when the line is opened (logical, after activeLow); default 0. */
  initial: z.union([z.literal(0), z.literal(1)]).optional(),
  /** Which accepted changes count: inputs default to both, counters to rising. */
  edge: z.enum(['rising', 'falling', 'both']).optional(),
  /** A new level is accepted once it held this long (0: every change). */
  debounce: duration().default(0),
  activeLow: z.boolean().default(false),
  /** counter: units per pulse (0.5 L per pulse...). */
  scale: z.number().refine(Number.isFinite, 'must be a finite number').default(1),
  unit: z.string().optional(),
  /** input: the current level is sent at least this often, even when it does not change. */
  maxSilence: duration().refine((v) => v >= 100, 'must be at least 100ms').default(60_000),
  /** counter: how often the total and the rate are sent (default: the source's interval). */
  interval: duration().refine((v) => v >= 100, 'must be at least 100ms').optional(),
});

export const gpioSchema = z.strictObject({
  ...sourceBase,
  driver: z.literal('gpio'),
  /** auto: onoff (edge interrupts) on /sys/class/gpio, the polling sysfs backend elsewhere. */
  backend: z.enum(['auto', 'onoff', 'sysfs']).default('auto'),
  /** Sysfs GPIO root; default $EDGE_AGENT_GPIO_SYSFS or /sys/class/gpio. */
  sysfsRoot: z.string().min(1).optional(),
  /** gpiochip label (exact or prefix) holding the lines; default the Raspberry Pi header chip. */
  chip: z.string().min(1).optional(),
  /** Sampling period where edge interrupts are unavailable. */
  pollInterval: duration().refine((v) => v >= 1, 'must be at least 1ms').default(10),
  /** Default counter emission interval. */
  interval: duration().refine((v) => v >= 100, 'must be at least 100ms').default(10_000),
  /** Counter totals are written at most this often (and only when changed): the most a power cut loses. */
  persistInterval: duration().refine((v) => v >= 100, 'must be at least 100ms').default(1000),
  pins: z.array(pinSchema).min(1),
}).superRefine((cfg, ctx) => {
  const names = new Map<string, number>();
  const lines = new Map<number, number>();
  cfg.pins.forEach((p, i) => {
    const points = p.mode === 'counter' ? [p.name, `${p.name}.rate`] : [p.name];
    for (const n of points) {
      if (names.has(n)) ctx.addIssue({ code: 'custom', path: ['pins', i, 'name'], message: `point "${n}" is already produced by pins[${names.get(n)}]` });
      else names.set(n, i);
    }
    if (p.direction === 'out') {
      if (p.mode === 'counter') ctx.addIssue({ code: 'custom', path: ['pins', i, 'mode'], message: 'a counter counts input pulses: it cannot be direction out' });
      if (p.edge !== undefined) ctx.addIssue({ code: 'custom', path: ['pins', i, 'edge'], message: 'edge applies to inputs, not to direction out' });
      if (p.debounce !== 0) ctx.addIssue({ code: 'custom', path: ['pins', i, 'debounce'], message: 'debounce applies to inputs, not to direction out' });
    } else if (p.initial !== undefined) ctx.addIssue({ code: 'custom', path: ['pins', i, 'initial'], message: 'initial is the level of an output: only with direction: out' });
    if (lines.has(p.line)) ctx.addIssue({ code: 'custom', path: ['pins', i, 'line'], message: `line ${p.line} is already used by pins[${lines.get(p.line)}]` });
    else lines.set(p.line, i);
  });
  if (cfg.backend === 'onoff' && cfg.sysfsRoot !== undefined && cfg.sysfsRoot.replace(/\/+$/, '') !== '/sys/class/gpio') {
    ctx.addIssue({ code: 'custom', path: ['sysfsRoot'], message: 'backend onoff only works on /sys/class/gpio (onoff hard-codes it); use backend: sysfs or auto' });
  }
});

export type GpioConfig = z.output<typeof gpioSchema>;
export type PinConfig = GpioConfig['pins'][number];

export function pinEdge(p: PinConfig): 'rising' | 'falling' | 'both' {
  return p.edge ?? (p.mode === 'counter' ? 'rising' : 'both');
}

export function pinPoints(p: PinConfig): string[] {
  return p.mode === 'counter' ? [p.name, `${p.name}.rate`] : [p.name];
}
