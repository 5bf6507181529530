import { readFile } from 'node:fs/promises';
import { z } from 'zod';

/** One log's label, written from its thread's conclusion (fixtures/logs/labels.json). */
export const LabelSchema = z.object({
  must: z.array(z.string()),
  mustNot: z.array(z.string()),
  healthy: z.boolean(),
  family: z.string().optional(),
  format: z.string().optional(),
  why: z.string(),
});

export type Label = z.infer<typeof LabelSchema>;

export async function readLabels(path: string): Promise<Map<string, Label>> {
  const parsed = z.record(z.string(), LabelSchema).parse(JSON.parse(await readFile(path, 'utf8')));
  return new Map(Object.entries(parsed));
}
