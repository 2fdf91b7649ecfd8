import { z } from 'zod';
import { configSchema } from './schema.js';

/**
 * The config schema as JSON Schema, describing what the user writes (the input side:
 * durations and sizes as text or integers, defaults optional).
 */
export function configJsonSchema(): Record<string, unknown> {
  const s = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  // agent.id defaults to the hostname at run time: not a constant worth publishing.
  const agent = (s.properties as Record<string, { properties: Record<string, Record<string, unknown>> }>).agent;
  delete agent.properties.id.default;
  agent.properties.id.description = 'default: the hostname';
  return { $id: 'https://edge-agent.local/config.schema.json', title: 'edge-agent config', ...s };
}
