import type { StageDefinition } from './types.js';
import { filter } from './filter.js';
import { dedupe } from './dedupe.js';
import { aggregate } from './aggregate.js';

/**
 * Every stage the agent knows, by config key. Add a stage: one file in pipelines/
 * exporting a StageDefinition, plus one line here.
 */
export const stages: StageDefinition[] = [filter, dedupe, aggregate];
