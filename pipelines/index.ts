import type { StageDefinition } from './types.js';

/**
 * Every stage the agent knows, by config key. Add a stage: one file in pipelines/
 * exporting a StageDefinition, plus one line here.
 */
export const stages: StageDefinition[] = [];
