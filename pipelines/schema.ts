import { z } from 'zod';
import { stages } from './index.js';

/** One `pipelines[]` entry: a match glob and stages, each stage's schema from the registry. */

const stageItemSchema = z.strictObject(
  Object.fromEntries(stages.map((s) => [s.name, s.schema.optional()])) as Record<string, z.ZodOptional<z.ZodType>>,
).superRefine((v, ctx) => {
  const keys = Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined);
  if (keys.length !== 1) {
    ctx.addIssue({ code: 'custom', message: `a stage is one key, one of ${stages.map((s) => s.name).join(', ') || '(none available)'}; got ${keys.length ? keys.join(', ') : 'none'}` });
  }
});

export const pipelineSchema = z.strictObject({
  match: z.string().min(1),
  stages: z.array(stageItemSchema).default([]),
});

export type PipelineConfig = z.output<typeof pipelineSchema>;
