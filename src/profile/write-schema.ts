/** Regenerates firmware-profiles/profile.schema.json (editor completion for profile authors). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { PROFILE_DIR } from './load.js';
import { ProfileSchema } from './schema.js';

const file = join(PROFILE_DIR, 'profile.schema.json');
writeFileSync(file, `${JSON.stringify(z.toJSONSchema(ProfileSchema, { io: 'input' }), null, 2)}\n`);
console.log(`wrote ${file}`);
